"""The policy protocol's adapters and the clear errors for bad policies, checkpoints and names."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from social_dilemmas.benchmark import CallablePolicy, PolicyError, as_policy, evaluate, get_scenario
from social_dilemmas.benchmark.scenarios import resolve_suite


class _Bad:
    """A policy whose actions can be made wrong in one chosen way."""

    name = "bad"
    resets_at_inner_boundary = False

    def __init__(self, fault):
        self.fault = fault

    def initial_state(self, n, group_size=1):
        return None

    def act(self, obs, state, episode_start):
        n = obs.shape[0]
        if self.fault == "shape":
            return torch.zeros(n + 1, dtype=torch.int64), state
        if self.fault == "dtype":
            return torch.zeros(n), state
        if self.fault == "range":
            return torch.full((n,), 2, dtype=torch.int64), state
        return [0] * n, state


@pytest.mark.parametrize(("fault", "match"), [("shape", "shape"), ("dtype", "dtype"), ("range", "must lie in"),
                                              ("list", "tensor or array")])
def test_bad_actions_get_a_clear_error_naming_the_policy(fault, match):
    with pytest.raises(PolicyError, match=match) as info:
        evaluate(_Bad(fault), "ipd/zoo-v0", seeds=1)
    assert "'bad'" in str(info.value)


def test_observation_and_action_mismatch_is_a_clear_error():
    net = torch.nn.Linear(36, 4)
    with pytest.raises(PolicyError, match="observes shape"):
        evaluate(CallablePolicy(net, 4, name="coin-net", observation_shape=(36,)), "ipd/zoo-v0", seeds=1)
    with pytest.raises(PolicyError, match="plays 4 actions"):
        evaluate(CallablePolicy(torch.nn.Linear(5, 4), 4, name="wide"), "ipd/zoo-v0", seeds=1)


def test_unknown_scenario_suite_policy_and_strategy():
    with pytest.raises(ValueError, match="unknown scenario 'ipd/nope-v0'.*ipd/zoo-v0"):
        get_scenario("ipd/nope-v0")
    with pytest.raises(ValueError, match="unknown suite 'atari'; suites: "):
        resolve_suite("atari")
    with pytest.raises(ValueError, match="neither a reference agent"):
        as_policy("not_a_strategy")
    with pytest.raises(TypeError, match="cannot score int"):
        as_policy(3)
    with pytest.raises(ValueError, match="seeds must be a positive int"):
        evaluate("tit_for_tat", "ipd/zoo-v0", seeds=0)
    with pytest.raises(ValueError, match="gridworld bot"):
        evaluate("coin_taker", "ipd/zoo-v0", seeds=1)
    with pytest.raises(ValueError, match="unknown zoo strategy 'tit_for_tat' for CoinGame-v0"):
        evaluate("tit_for_tat", "coingame/zoo-v0", seeds=1)


def test_missing_and_incompatible_checkpoints(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        as_policy(str(tmp_path / "nope" / "checkpoint.pt"))
    junk = tmp_path / "junk.pt"
    torch.save({"hello": 1}, junk)
    with pytest.raises(ValueError, match=r"junk.pt lacks 'format'"):
        as_policy(str(junk))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="broken.pt .* corrupt"):
        as_policy(str(broken))


def test_checkpoint_of_another_game_is_refused(tmp_path):
    from social_dilemmas.baselines import preset_args, run

    args = preset_args("ipd-shaping-quick", "coala", game="CoinGame-v0", iterations=1, meta_batch=2, batch_size=2,
                       num_inner_episodes=1, run_dir=str(tmp_path / "coin"), progress=False, tensorboard=False)
    run(args)
    with pytest.raises(PolicyError, match=r"observes shape \(36,\) but scenario ipd/zoo-v0"):
        evaluate(str(tmp_path / "coin"), "ipd/zoo-v0", seeds=1)
    assert np.isfinite(evaluate(str(tmp_path / "coin"), "coingame/zoo-v0", seeds=1).aggregate().mean)


def test_torch_module_and_cleanrl_agent_are_scoreable():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    r = evaluate(net, "ipd/zoo-v0", seeds=2, name="mlp")
    assert r.policy == "mlp" and np.isfinite(r.aggregate().mean)

    class CleanRLAgent(torch.nn.Module):  # the shape of a CleanRL PPO agent
        def __init__(self):
            super().__init__()
            self.actor = torch.nn.Linear(5, 2)

        def get_action_and_value(self, x, action=None):
            dist = torch.distributions.Categorical(logits=self.actor(x))
            action = dist.sample() if action is None else action
            return action, dist.log_prob(action), dist.entropy(), torch.zeros(len(x))

    assert np.isfinite(evaluate(CleanRLAgent(), "ipd/zoo-v0", seeds=2).aggregate().mean)


def test_same_seed_same_result_fresh_seed_fresh_replicates():
    a = evaluate("random", "ipd/naive-v0", seeds=3, seed=5)
    b = evaluate("random", "ipd/naive-v0", seeds=3, seed=5)
    c = evaluate("random", "ipd/naive-v0", seeds=3, seed=6)
    va, vb, vc = (x["ipd/naive-v0"].values["naive-hawk"]["reward"] for x in (a, b, c))
    assert np.array_equal(va, vb) and not np.array_equal(va, vc)
    torch.manual_seed(0)
    x = torch.rand(1)
    torch.manual_seed(0)
    evaluate("random", "ipd/zoo-v0", seeds=1)
    assert torch.rand(1) == x, "evaluate must leave the caller's random state alone"


def test_checkpoint_policy_self_play_and_memory_rule(tmp_path):
    from social_dilemmas.baselines import preset_args, run

    args = preset_args("ipd-shaping-quick", "coala", iterations=1, meta_batch=2, batch_size=2, num_inner_episodes=2,
                       run_dir=str(tmp_path / "run"), progress=False, tensorboard=False)
    run(args)
    pol = as_policy(str(tmp_path / "run"))
    assert pol.resets_at_inner_boundary is False and pol.observation_shape == (5,)
    r = evaluate(pol, "ipd/zoo-v0,ipd/selfplay-v0", seeds=2)
    assert r.scenario_ids == ["ipd/zoo-v0", "ipd/selfplay-v0"]
    sp = r["ipd/selfplay-v0"].values["self"]
    assert np.all(np.isfinite(sp["reward"])) and np.all(np.isfinite(sp["coplayer_reward"]))


def test_naive_learner_policy_learns_inside_the_meta_episode():
    from social_dilemmas.benchmark.naive_policy import NaiveLearnerPolicy
    from social_dilemmas.coplayers.naive import NaiveConfig

    pol = NaiveLearnerPolicy(NaiveConfig(), 5, 2)
    r = evaluate(pol, "ipd/naive-v0", seeds=2)["ipd/naive-v0"]
    m = get_scenario("ipd/naive-v0").num_inner_episodes
    assert pol.learner is not None and int(pol.learner.num_updates.min()) == m  # one update per inner episode
    assert np.all(np.isfinite(r.values["naive-hawk"]["reward"]))


def test_gridworld_scenarios_run_with_selfplay_and_naive():
    r = evaluate("random", "coingame", seeds=2)
    assert r.scenario_ids == ["coingame/zoo-v0", "coingame/naive-v0", "coingame/selfplay-v0"]
    assert np.isfinite(r["coingame/naive-v0"].estimate("shaping").mean)
    c = evaluate("harvester", "cleanup/selfplay-v0", seeds=2)["cleanup/selfplay-v0"]
    assert np.all(c.values["self"]["welfare"] < 0.05)  # two harvesters: nothing grows


def test_sb3_models_are_scoreable(tmp_path):
    pytest.importorskip("stable_baselines3")
    import gymnasium as gym
    from stable_baselines3 import A2C, DQN, PPO

    import social_dilemmas  # noqa: F401

    env = gym.make("social_dilemmas/IPD-v0")
    for cls in (PPO, A2C, DQN):
        model = cls("MlpPolicy", env, seed=0, device="cpu")
        res = evaluate(model, "ipd/zoo-v0", seeds=2)
        assert res.policy == cls.__name__ and np.isfinite(res.aggregate().mean)
    model.save(tmp_path / "dqn.zip")
    loaded = as_policy(str(tmp_path / "dqn.zip"))
    assert loaded.deterministic and loaded.name == "dqn"
    coin = gym.make("social_dilemmas/CoinGame-v0")
    with pytest.raises(PolicyError, match=r"observes shape \(36,\)"):
        evaluate(PPO("MlpPolicy", coin, device="cpu"), "ipd/zoo-v0", seeds=1)


def test_recurrent_ppo_on_the_meta_env_is_scoreable():
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import RecurrentPPO

    from social_dilemmas.adapters.meta_gymnasium import ShapingVectorEnv, make_sb3_vec_env

    venv = ShapingVectorEnv(game="IPD-v0", meta_batch=2, batch_size=2, num_inner_episodes=2, coplayer="naive",
                            autoreset_mode="SameStep")
    model = RecurrentPPO("MlpLstmPolicy", make_sb3_vec_env(venv), n_steps=20, batch_size=40, seed=0, device="cpu",
                         policy_kwargs={"lstm_hidden_size": 8, "net_arch": [8]})
    r = evaluate(model, "ipd/naive-v0", seeds=2)
    assert r.policy == "RecurrentPPO" and np.isfinite(r.aggregate().mean)
