"""The batched co-player shaping meta-environment: boundaries, updates, independence, seeding, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from social_dilemmas.coplayers.agent import AgentCoPlayer
from social_dilemmas.coplayers.fixed import Memory1Strategy
from social_dilemmas.coplayers.naive import NaiveLearner
from social_dilemmas.coplayers.pool import OpponentPool
from social_dilemmas.core.game import BatchedGame, GameSpec
from social_dilemmas.envs.matrix_game import IteratedMatrixGame
from social_dilemmas.models import make_model
from social_dilemmas.registration import registered_ids
from social_dilemmas.wrappers import HISTORY_CHANNELS, ShapingMetaEnv

T = 10


def small_env(**kw) -> ShapingMetaEnv:
    args = dict(game="IPD-v0", coplayer="naive", meta_batch=3, batch_size=4, num_inner_episodes=3)
    args.update(kw)
    if args["coplayer"] == "naive":  # small, fast naive learners unless told otherwise
        args.setdefault("coplayer_kwargs", {"model": "mlp", "population_size": 3})
    return ShapingMetaEnv(**args)


def rollout(env: ShapingMetaEnv, seed: int | None, steps: int | None = None, policy=None):
    """Run ``steps`` steps (default one meta-episode); returns the list of outputs."""
    obs = env.reset(seed=seed) if seed != "continue" else None
    g = torch.Generator().manual_seed(1234)
    outs = []
    for k in range(steps or env.meta_episode_length):
        a = policy(k, obs) if policy else torch.randint(0, 2, (env.meta_batch, env.batch_size), generator=g)
        out = env.step(a)
        obs = out.obs
        outs.append(out)
    return outs


class CountingNaive(NaiveLearner):
    """A naive learner that records when it updates and resets memory."""

    def __init__(self, *a, **k):
        super().__init__(*a, **k)
        self.update_calls: list[int] = []
        self.reset_calls = 0

    def update(self, episodes, active=None):
        self.update_calls.append(episodes.index)
        return super().update(episodes, active)

    def reset_memory(self, memory, mask):
        self.reset_calls += 1
        return super().reset_memory(memory, mask)


# ----------------------------------------------------------------------------- shapes and boundaries


def test_shapes_spaces_and_boundary_fields():
    env = small_env()
    obs = env.reset(seed=0)
    assert obs.shape == (3, 4, 5) and obs.dtype == torch.float32
    assert env.single_observation_space.shape == (5,) and env.single_action_space.n == 2
    outs = rollout(env, 0)
    assert len(outs) == 3 * T
    for k, out in enumerate(outs):
        assert out.obs.shape == (3, 4, 5) and out.reward.shape == (3, 4) and out.coplayer_reward.shape == (3, 4)
        assert out.inner_done.dtype == torch.bool and out.meta_done.dtype == torch.bool
        assert bool(out.inner_done.all()) == ((k + 1) % T == 0) == out.inner_boundary
        assert bool(out.meta_done.all()) == (k + 1 == 3 * T) == out.meta_boundary
        assert not bool(out.inner_done.any()) or bool(out.inner_done.all())
        assert torch.equal(out.inner_episode, torch.full((3, 4), k // T))
        for o in (out.obs, out.final_obs):
            assert env.single_observation_space.contains(o[0, 0].numpy())
        if out.inner_boundary:
            # the new inner episode starts at the start token; final_obs is the last joint action
            assert torch.equal(out.obs[..., 0], torch.ones(3, 4))
            assert torch.equal(out.final_obs[..., 0], torch.zeros(3, 4))
            assert set(out.boundary_stats) >= {"coplayer_coop_rate", "ego_coop_rate", "coplayer_return", "ego_return"}
        else:
            assert torch.equal(out.final_obs, out.obs) and out.boundary_stats == {}
    stats = env.last_meta_episode_stats
    assert stats["coplayer_coop_rate"].shape == (3, 3)
    assert stats["update/loss"].shape == (3, 3) and bool(stats["update/loss"][-1].isnan().all())
    assert not bool(stats["update/loss"][:-1].isnan().any())


def test_rewards_follow_the_payoff_table():
    env = small_env(coplayer="always_defect")
    env.reset(seed=0)
    out = env.step(torch.zeros(3, 4, dtype=torch.long))
    assert torch.equal(out.reward, torch.full((3, 4), -1.0))
    assert torch.equal(out.coplayer_reward, torch.full((3, 4), 2.0))
    assert torch.equal(out.coplayer_action, torch.ones(3, 4, dtype=torch.long))


def test_exactly_m_minus_1_updates_that_matter():
    m = 4
    learner = CountingNaive(5, 2, 3, model="mlp", population_size=3)
    env = small_env(coplayer=learner, num_inner_episodes=m)
    rollout(env, 0, steps=m * T - 1)
    assert learner.update_calls == [0, 1, 2]  # after inner episodes 0..M-2 ...
    assert learner.num_updates.tolist() == [m - 1] * 3
    env.step(torch.zeros(3, 4, dtype=torch.long))
    assert learner.update_calls == [0, 1, 2]  # ... and not at the meta-episode end
    assert learner.reset_calls == m  # memory reset at every inner boundary
    assert (~env.last_meta_episode_stats["update/loss"].isnan()).sum(0).tolist() == [m - 1] * 3
    # autoreset started a new meta-episode: fresh learners (params = an init member, zero updates)
    assert learner.num_updates.tolist() == [0, 0, 0]
    for j, k in enumerate(learner.init_choice.tolist()):
        for n in learner.model.param_names():
            assert torch.equal(getattr(learner.model, n)[j], getattr(learner.init_model, n)[k])
    learner2 = CountingNaive(5, 2, 3, model="mlp", population_size=3)
    rollout(small_env(coplayer=learner2, num_inner_episodes=m, update_at_last_boundary=True), 0)
    assert learner2.update_calls == [0, 1, 2, 3]


def test_updates_take_effect_in_the_next_inner_episode():
    """The co-player acting in inner episode m+1 uses the parameters after the m-th update."""
    learner = NaiveLearner(5, 2, 2, model="tabular", population_size=2, learning_rate=0.5)
    env = small_env(coplayer=learner, meta_batch=2, num_inner_episodes=2, autoreset=False)
    env.reset(seed=0)
    ones = torch.ones(2, 4, dtype=torch.long)  # the ego always defects
    for _ in range(T):
        env.step(ones)
    # after one update against ALLD the learner defects more; its acting probabilities equal softmax of the table
    logits, _ = learner.action_logits(torch.eye(5)[torch.zeros(8, dtype=torch.long)], learner.initial_memory(8))
    p_coop_after = torch.softmax(logits, -1)[:, 0]
    assert bool((p_coop_after < 0.5).all())
    assert learner.num_updates.tolist() == [1, 1]


def test_fixed_coplayers_do_not_update_and_agents_keep_their_memory():
    env = small_env(coplayer="tit_for_tat")
    outs = rollout(env, 0)
    assert not env.learning and not any(k.startswith("update/") for k in env.last_meta_episode_stats)
    # TFT copies the ego's previous action; it starts with cooperation in every inner episode
    for k in range(1, len(outs)):
        if k % T == 0:
            assert torch.equal(outs[k].coplayer_action, torch.zeros(3, 4, dtype=torch.long))


def test_agent_memory_persists_across_inner_boundaries_naive_memory_does_not():
    agents = make_model("gru", 5, 2, population=1, seed=3)
    agent = AgentCoPlayer(agents, meta_batch=2)
    naive = NaiveLearner(5, 2, 2, model="gru", population_size=2)
    for cp, expect_reset in ((agent, False), (naive, True)):
        env = small_env(coplayer=cp, meta_batch=2, num_inner_episodes=2, autoreset=False)
        env.reset(seed=0)
        for _ in range(T):
            env.step(torch.zeros(2, 4, dtype=torch.long))
        carry = env._co_mem
        zero = all(float(c.abs().sum()) == 0 for c in carry)
        assert zero == expect_reset, cp


def test_nothing_in_the_env_resets_the_ego_memory_default_obs_is_exactly_the_game_obs():
    """The env never sees the ego's memory; by default its observation is exactly the game's."""
    env = small_env(coplayer="always_cooperate")
    game = IteratedMatrixGame(name="IPD-v0")
    obs = env.reset(seed=5)
    state, gobs = game.reset(torch.arange(12) + 5)
    assert torch.equal(obs.reshape(12, 5), gobs[:, 0])
    g = torch.Generator().manual_seed(0)
    for _ in range(2 * T):
        a = torch.randint(0, 2, (3, 4), generator=g)
        out = env.step(a)
        state, gout = game.step(state, torch.stack([a.reshape(-1), torch.zeros(12, dtype=torch.long)], 1))
        assert torch.equal(out.obs.reshape(12, 5), gout.obs[:, 0])


# ----------------------------------------------------------------------------- independence and seeding


def _traj(outs):
    return torch.stack([torch.cat([o.obs.flatten(2), o.reward[..., None], o.coplayer_action[..., None].float()], -1)
                        for o in outs])  # [L, mb, B, D+2]


def test_meta_batch_entries_and_games_are_independent():
    mb, b = 3, 4
    base_policy = lambda k, obs: (torch.arange(mb * b).view(mb, b) + k) % 2  # noqa: E731

    def perturbed(k, obs):
        a = base_policy(k, obs).clone()
        a[1] = 1 - a[1]  # slot 1: every game different
        return a

    runs = []
    for pol in (base_policy, perturbed):
        learner = NaiveLearner(5, 2, mb, model="gru", population_size=3)
        env = small_env(coplayer=learner, autoreset=False)
        runs.append((_traj(rollout(env, 7, policy=pol)), learner))
    (ta, la), (tb, lb) = runs
    for j in (0, 2):
        torch.testing.assert_close(ta[:, j], tb[:, j], rtol=0, atol=1e-6)
        for n in la.model.param_names():
            torch.testing.assert_close(getattr(la.model, n)[j], getattr(lb.model, n)[j], rtol=0, atol=1e-6)
    assert not torch.equal(ta[:, 1], tb[:, 1])
    assert not torch.equal(la.parameter_vector()[1], lb.parameter_vector()[1])

    # within one co-player, games are independent until the co-player learns from them
    def one_game(k, obs):
        a = base_policy(k, obs).clone()
        a[0, 0] = 1 - a[0, 0]
        return a

    env = small_env(coplayer=NaiveLearner(5, 2, mb, model="gru", population_size=3))
    tc = _traj(rollout(env, 7, steps=T, policy=one_game))
    torch.testing.assert_close(ta[:T, 0, 1:], tc[:, 0, 1:], rtol=0, atol=1e-6)
    assert not torch.equal(ta[:T, 0, 0], tc[:, 0, 0])


def test_a_slot_does_not_depend_on_the_meta_batch_size():
    outs = []
    for mb in (2, 5):
        env = small_env(meta_batch=mb, autoreset=False)
        pol = lambda k, obs, mb=mb: (torch.arange(mb * 4).view(mb, 4) * 3 + k) % 2  # noqa: E731
        outs.append((_traj(rollout(env, 11, policy=pol)), env.coplayer))
    (ta, la), (tb, lb) = outs
    torch.testing.assert_close(ta[:, :2], tb[:, :2], rtol=0, atol=1e-5)
    torch.testing.assert_close(la.parameter_vector(), lb.parameter_vector()[:2], rtol=0, atol=1e-5)


def test_same_seed_same_meta_episode_and_seeds_matter():
    a = _traj(rollout(small_env(), 3))
    b = _traj(rollout(small_env(), 3))
    c = _traj(rollout(small_env(), 4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    # continuing streams: a second meta-episode (autoreset) is reproducible too, and differs from the first
    env1, env2 = small_env(), small_env()
    for env in (env1, env2):
        rollout(env, 3)
    x, y = _traj(rollout(env1, "continue")), _traj(rollout(env2, "continue"))
    assert torch.equal(x, y) and not torch.equal(x, a)
    # unseeded reset continues the streams deterministically as well
    env1.reset(seed=None)
    env2.reset(seed=None)
    assert torch.equal(env1.coplayer.init_choice, env2.coplayer.init_choice)


@pytest.mark.parametrize(
    "seed, pattern",
    [
        (-1, r"seed must be a non-negative integer, got -1"),
        ([1, 2], r"seed must be an int or a sequence of 12 ints \(one per game of the meta_batch x B\)"),
        ([0.5] * 12, r"seed must be an int or a sequence of 12 ints"),
        (True, r"seed must be an int or a sequence of 12 ints"),
    ],
)
def test_bad_seeds_name_the_count(seed, pattern):
    with pytest.raises(ValueError, match=pattern):
        small_env().reset(seed=seed)


def test_a_seed_per_game_is_accepted():
    env = small_env()
    assert env.seeds_for(5).tolist() == list(range(5, 17))
    assert env.seeds_for(list(range(12))).dtype == torch.int64


# ----------------------------------------------------------------------------- history and privileged channels


def test_history_channels():
    env = small_env(coplayer="always_defect", history="all")
    assert env.observation_dim == 5 + 2 + 2 + 1 + 1 + 1
    obs = env.reset(seed=0)
    assert torch.equal(obs[0, 0, 5:], torch.tensor([0, 0, 0, 0, 0, 1, 0.0]))
    space = env.single_observation_space
    for k in range(3 * T):
        out = env.step(torch.zeros(3, 4, dtype=torch.long))
        h = out.obs[0, 0, 5:]
        if out.meta_boundary:
            assert torch.equal(h, torch.tensor([0, 0, 0, 0, 0, 1, 0.0]))
            fh = out.final_obs[0, 0, 5:]
            assert torch.equal(fh, torch.tensor([1, 0, 0, 1, -1, 0, 1.0]))
        else:
            m = (k + 1) // T
            start = float((k + 1) % T == 0)
            assert torch.equal(h, torch.tensor([1, 0, 0, 1, -1, start, m / 2]))
        assert space.contains(out.obs[0, 0].numpy()) and space.contains(out.final_obs[0, 0].numpy())
    sub = small_env(history=["inner_index", "prev_reward"])
    assert sub.history.channels == ("prev_reward", "inner_index") and sub.observation_dim == 7


def test_privileged_coplayer_params_only_when_asked():
    learner = NaiveLearner(5, 2, 3, model="tabular", population_size=3)
    k = learner.parameter_vector().shape[1]
    env = small_env(coplayer=learner, privileged_coplayer_params=True)
    assert env.observation_dim == 5 + k
    obs = env.reset(seed=0)
    torch.testing.assert_close(obs[:, 0, 5:], learner.parameter_vector())
    outs = rollout(env, 0, steps=T)
    # final_obs shows the parameters that played; the next obs the updated ones
    assert not torch.equal(outs[-1].obs[:, 0, 5:], outs[-1].final_obs[:, 0, 5:])
    torch.testing.assert_close(outs[-1].obs[:, 0, 5:], learner.parameter_vector())
    fixed = small_env(coplayer="tit_for_tat", privileged_coplayer_params=True)
    assert torch.equal(fixed.reset(seed=0)[0, 0, 5:], torch.tensor([1.0, 1, 0, 1, 0]))
    assert small_env().observation_dim == 5  # never by default


# ----------------------------------------------------------------------------- pools in the env


def test_pool_in_the_env_naive_slots_learn_agent_slots_do_not():
    agents = make_model("mlp", 5, 2, population=3, seed=4)
    naive = NaiveLearner(5, 2, 8, model="mlp", population_size=3)
    pool = OpponentPool(8, p_naive=0.5, naive=naive, agents=agents, ego_index=0)
    env = small_env(coplayer=pool, meta_batch=8, autoreset=False)
    env.reset(seed=1)
    is_naive = env.is_naive.clone()
    assert 0 < int(is_naive.sum()) < 8, is_naive
    agent_params = pool.agent.parameter_vector().clone()
    start = naive.parameter_vector().clone()
    rollout(env, "continue", steps=env.meta_episode_length)
    assert torch.equal(pool.agent.parameter_vector(), agent_params)
    moved = (naive.parameter_vector() != start).any(1)
    assert torch.equal(moved, is_naive)
    assert set(pool.agent_choice[~is_naive].tolist()) <= {1, 2}
    assert (pool.agent_choice[is_naive] == -1).all()
    assert torch.equal(env._inner_reset, is_naive.repeat_interleave(4))


# ----------------------------------------------------------------------------- errors


class _Grid(BatchedGame):
    """A 2-player stub with an image observation (no history channels possible)."""

    def __init__(self, agents: int = 2, terminate_at: int | None = None):
        super().__init__(max_steps=4)
        self.terminate_at = terminate_at
        self.spec = GameSpec("Grid-v0", agents, 2, (2, 3, 3), 0.0, 1.0, (1,), 4, ("a", "b"))

    @dataclasses.dataclass(frozen=True)
    class State:
        t: torch.Tensor
        rng: object

    def init(self, rng):
        return self.State(torch.zeros_like(rng.counter), rng)

    def observe(self, state):
        return torch.zeros(state.t.shape[0], self.spec.num_agents, 2, 3, 3)

    def transition(self, state, actions):
        n = actions.shape[0]
        term = torch.full((n,), self.terminate_at is not None and int(state.t[0]) + 1 == self.terminate_at)
        return state, torch.zeros(n, self.spec.num_agents), term, {}

    def global_state(self, state):
        return torch.zeros(state.t.shape[0], 1)


def test_bad_arguments_fail_clearly():
    with pytest.raises(ValueError, match="batch_size"):
        small_env(batch_size=0)
    with pytest.raises(ValueError, match="num_inner_episodes"):
        small_env(num_inner_episodes=0)
    with pytest.raises(ValueError, match="meta_batch"):
        small_env(meta_batch=-1)
    with pytest.raises(TypeError, match="batch_size"):
        small_env(batch_size=2.5)
    with pytest.raises(ValueError, match="unknown co-player 'lola'"):
        small_env(coplayer="lola")
    with pytest.raises(ValueError, match="needs trained agents"):
        small_env(coplayer="pool")
    with pytest.raises(ValueError, match="kind"):
        small_env(coplayer={"model": "mlp"})
    with pytest.raises(ValueError, match="unknown history channel 'prev_state'"):
        small_env(history=["prev_state"])
    with pytest.raises(ValueError, match="flat"):
        ShapingMetaEnv(_Grid(), "random", meta_batch=1, batch_size=1, history=["inner_start"])
    with pytest.raises(ValueError, match="two-player"):
        ShapingMetaEnv(_Grid(agents=3), "random", meta_batch=1, batch_size=1)
    with pytest.raises(ValueError, match="unknown env id"):
        ShapingMetaEnv("NoSuchGame-v0")
    with pytest.raises(ValueError, match="meta_batch=2"):
        small_env(coplayer=NaiveLearner(5, 2, 2))
    with pytest.raises(ValueError, match="privileged"):
        small_env(coplayer=_NoParams(), privileged_coplayer_params=True)
    with pytest.raises(ValueError, match="p_naive"):
        OpponentPool(4, p_naive=1.5, naive=NaiveLearner(5, 2, 4, model="mlp"))
    with pytest.raises(ValueError, match="p_naive"):
        OpponentPool(4, p_naive=-0.1, naive=NaiveLearner(5, 2, 4, model="mlp"))


class _NoParams:
    num_actions = 2
    resets_at_inner_boundary = True

    def initial_memory(self, n, device):
        return None

    def action_probs(self, obs, memory):
        return torch.full((obs.shape[0], 2), 0.5), None

    def reset_memory(self, memory, mask):
        return None


def test_bad_actions_and_stepping_rules():
    env = small_env(coplayer="random", autoreset=False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(torch.zeros(3, 4, dtype=torch.long))
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \[meta_batch, B\] = \[3, 4\]"):
        env.step(torch.zeros(4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="integer"):
        env.step(torch.zeros(3, 4))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        env.step(torch.full((3, 4), 2))
    with pytest.raises(TypeError):
        env.step([[0] * 4] * 3)
    env.step(np.zeros((3, 4), dtype=np.int64))  # numpy is accepted
    for _ in range(3 * T - 1):
        out = env.step(torch.zeros(3, 4, dtype=torch.long))
    assert out.meta_boundary and torch.equal(out.obs, out.final_obs)
    with pytest.raises(RuntimeError, match="autoreset=False"):
        env.step(torch.zeros(3, 4, dtype=torch.long))


def test_a_game_that_terminates_early_is_rejected():
    env = ShapingMetaEnv(_Grid(terminate_at=2), "random", meta_batch=1, batch_size=2, num_inner_episodes=2)
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="ended before the inner-episode length"):
        for _ in range(4):
            env.step(torch.zeros(1, 2, dtype=torch.long))


def test_every_history_channel_is_known():
    assert HISTORY_CHANNELS == ("prev_own_action", "prev_coplayer_action", "prev_reward", "inner_start", "inner_index")
    fixed = ShapingMetaEnv("IPD-v0", Memory1Strategy([1, 0, 1, 0, 1]), meta_batch=1, batch_size=1)
    assert fixed.reset(seed=0).shape == (1, 1, 5)


@pytest.mark.parametrize("game", registered_ids("game"))
def test_every_registered_game_runs_in_the_meta_env(game):
    env = ShapingMetaEnv(game, "naive", meta_batch=2, batch_size=2, num_inner_episodes=2, history="all",
                         coplayer_kwargs={"model": "mlp", "population_size": 2})
    obs = env.reset(seed=0)
    assert obs.shape == (2, 2, env.observation_dim)
    g = torch.Generator().manual_seed(0)
    for _ in range(env.meta_episode_length):
        out = env.step(torch.randint(0, env.num_actions, (2, 2), generator=g))
        assert env.single_observation_space.contains(out.final_obs[0, 0].numpy())
    assert out.meta_boundary and env.last_meta_episode_stats["update/loss"].shape == (2, 2)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_runs_and_matches_cpu_before_the_first_update():
    """Before any update the naive learners play uniformly (zero readouts): identical draws on both devices."""
    trajs = []
    for dev in ("cpu", "cuda"):
        env = ShapingMetaEnv("IPD-v0", "naive", meta_batch=4, batch_size=8, num_inner_episodes=3, device=dev)
        env.reset(seed=2)
        steps = range(env.meta_episode_length)
        outs = [env.step(torch.full((4, 8), k % 2, dtype=torch.long, device=dev)) for k in steps]
        trajs.append(torch.stack([o.coplayer_action.cpu() for o in outs[:T]]))
        assert outs[-1].meta_boundary and env.last_meta_episode_stats["update/loss"].device.type == dev.split(":")[0]
    assert torch.equal(trajs[0], trajs[1])
