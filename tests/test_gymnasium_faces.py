"""The Gymnasium faces over every registered id: SingleAgentEnv (gym.make) and BatchedVectorEnv (gym.make_vec).

Every warning is an error here: Gymnasium's checkers report problems as ``UserWarning`` s,
and none of them is acceptable for our ids.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env, data_equivalence
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import social_dilemmas
from social_dilemmas.adapters import BatchedVectorEnv, EpisodeEndedError, SingleAgentEnv
from social_dilemmas.envs.matrix_game import CC, CD, DC, DD, START

pytestmark = [
    pytest.mark.filterwarnings("error"),
    # Gymnasium's own note when an older version of a registered id is made (CleanUpLite-v0 next to v1)
    pytest.mark.filterwarnings("ignore:.*is out of date.*:DeprecationWarning"),
]

IDS = social_dilemmas.registered_ids("game")
MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED]


def full(env_id: str) -> str:
    return f"social_dilemmas/{env_id}"


def one_hot(i: int, n: int = 5) -> np.ndarray:
    v = np.zeros(n, dtype=np.float32)
    v[i] = 1.0
    return v


def run_episode(env, actions):
    out = []
    for a in actions:
        out.append(env.step(a))
    return out


# ---------------------------------------------------------------------------- SingleAgentEnv


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_check_env(env_id):
    env = gym.make(full(env_id))
    check_env(env.unwrapped)  # includes seeded determinism, every render mode via the spec
    env.close()


@pytest.mark.parametrize("env_id", IDS)
def test_gym_make_path_runs_to_truncation(env_id):
    env = gym.make(full(env_id))  # PassiveEnvChecker + OrderEnforcing + TimeLimit at the game's T
    game = env.unwrapped.game
    assert env.spec.max_episode_steps == game.max_steps  # Gymnasium's time limit is the episode length
    obs, info = env.reset(seed=3)
    assert obs in env.observation_space and info == {}
    env.action_space.seed(0)
    for t in range(game.max_steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert obs in env.observation_space
        assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
        assert isinstance(info["coplayer_action"], int) and isinstance(info["coplayer_reward"], float)
        if t < game.max_steps - 1:
            assert not (terminated or truncated)
    assert truncated and not terminated
    env.reset()
    env.step(0)  # a new episode may be stepped


@pytest.mark.parametrize("env_id", IDS)
def test_spaces_and_metadata(env_id):
    env = SingleAgentEnv(env_id)
    spec = env.game.spec
    assert env.observation_space == gym.spaces.Box(spec.obs_low, spec.obs_high, spec.obs_shape, np.float32)
    assert env.action_space == gym.spaces.Discrete(spec.num_actions)
    modes = env.metadata["render_modes"]
    assert set(modes) <= {"human", "ansi", "rgb_array"}
    assert set(env.game.render_modes) <= set(modes)
    assert env.metadata["render_fps"] > 0


@pytest.mark.parametrize("env_id", IDS)
def test_seeded_episodes_replay_and_unseeded_resets_continue(env_id):
    def trajectory(env, seed):
        env.action_space.seed(seed)
        steps = [env.reset(seed=seed)]
        for _ in range(3):  # three episodes: one seeded, two unseeded resets
            for _ in range(env.game.max_steps):
                steps.append(env.step(env.action_space.sample()))
            steps.append(env.reset())
        return steps

    a = trajectory(SingleAgentEnv(env_id, opponent="random"), 11)
    b = trajectory(SingleAgentEnv(env_id, opponent="random"), 11)
    assert data_equivalence(a, b, exact=True)


@pytest.mark.parametrize("env_id", IDS)
def test_render_modes(env_id, capsys):
    for mode in SingleAgentEnv(env_id).metadata["render_modes"]:
        env = SingleAgentEnv(env_id, render_mode=mode)
        env.reset(seed=0)
        env.step(0)
        frame = env.render()
        if mode == "ansi":
            assert isinstance(frame, str) and frame
        elif mode == "rgb_array":
            assert isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        else:
            assert frame is None
            assert capsys.readouterr().out  # printed on reset, step and render
    with pytest.raises(ValueError, match="render_mode"):
        SingleAgentEnv(env_id, render_mode="rgb_array_list")
    env = SingleAgentEnv(env_id)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


def test_ipd_known_answers():
    """Rewards follow Table 1, (T, R, P, S) = (2, 1, 0, -1); observations are own-action first."""
    env = gym.make("social_dilemmas/IPD-v0", opponent="tit_for_tat")
    obs, _ = env.reset(seed=0)
    np.testing.assert_array_equal(obs, one_hot(START))
    # TFT cooperates first, then copies the ego's previous move.
    expected = [  # (ego action, ego reward, coplayer action, coplayer reward, ego obs after)
        (1, 2.0, 0, -1.0, DC),
        (1, 0.0, 1, 0.0, DD),
        (0, -1.0, 1, 2.0, CD),
        (0, 1.0, 0, 1.0, CC),
    ]
    for a, r, ca, cr, o in expected:
        obs, reward, terminated, truncated, info = env.step(a)
        assert (reward, info["coplayer_action"], info["coplayer_reward"]) == (r, ca, cr)
        np.testing.assert_array_equal(obs, one_hot(o))
    env = gym.make("social_dilemmas/IPD-v0", opponent="always_defect")
    env.reset(seed=0)
    assert [env.step(1)[1] for _ in range(10)] == [0.0] * 10


def test_default_and_custom_opponents():
    assert SingleAgentEnv("IPD-v0").coplayer.name == "tit_for_tat"
    assert SingleAgentEnv("IteratedStagHunt-v0").coplayer.name == "random"
    env = SingleAgentEnv("IPD-v0", opponent=[1.0, 1.0, 1.0, 1.0, 1.0])  # ALLC as probabilities
    env.reset(seed=0)
    assert env.step(1)[1] == 2.0

    class AlwaysAction1:
        num_actions = 2
        resets_at_inner_boundary = True

        def initial_memory(self, batch_size, device):
            return None

        def reset_memory(self, memory, mask):
            return None

        def action_probs(self, obs, memory):
            return torch.tensor([[0.0, 1.0]]).expand(obs.shape[0], 2), None

    env = SingleAgentEnv("IPD-v0", opponent=AlwaysAction1())
    env.reset(seed=0)
    assert env.step(0)[4]["coplayer_action"] == 1


@pytest.mark.parametrize(
    "action", [0, 1, np.int64(1), np.int32(0), np.uint8(1), np.array(1), np.array(0, dtype=np.int8), torch.tensor(1)]
)
def test_accepted_actions(action):
    env = SingleAgentEnv("IPD-v0")
    env.reset(seed=0)
    env.step(action)


@pytest.mark.parametrize(
    "action, error",
    [
        (2, ValueError),
        (-1, ValueError),
        (np.int64(7), ValueError),
        (np.array([0]), ValueError),
        (np.array([[1]]), ValueError),
        (1.0, TypeError),
        (np.float32(0.0), TypeError),
        (float("nan"), TypeError),
        (np.array(0.0), TypeError),
        (True, TypeError),
        (np.bool_(False), TypeError),
        ("0", TypeError),
        (None, TypeError),
    ],
)
def test_rejected_actions(action, error):
    env = SingleAgentEnv("IPD-v0")
    env.reset(seed=0)
    with pytest.raises(error, match=r"action must be an integer in \[0, 2\)"):
        env.step(action)


def test_single_env_bad_arguments():
    with pytest.raises(ValueError, match="IPD-v0.*IteratedChicken-v0|registered ids"):
        SingleAgentEnv("Nope-v0")
    with pytest.raises(ValueError, match="opponent.*tit_for_tat"):
        SingleAgentEnv("IPD-v0", opponent="titfortat")
    with pytest.raises(TypeError, match="opponent"):
        SingleAgentEnv("IPD-v0", opponent=3)
    with pytest.raises(ValueError, match="max_steps"):
        SingleAgentEnv("IPD-v0", max_steps=0)
    env = SingleAgentEnv("IPD-v0")
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)


@pytest.mark.parametrize("env_id", IDS)
def test_unknown_opponent_names_are_rejected_for_every_id(env_id):
    with pytest.raises(ValueError, match="opponent"):
        SingleAgentEnv(env_id, opponent="no_such_strategy")


def test_step_after_end_through_single_env():
    env = SingleAgentEnv("IPD-v0", max_steps=2)
    env.reset(seed=0)
    env.step(0)
    assert env.step(0)[3] is True
    with pytest.raises(EpisodeEndedError, match="reset"):
        env.step(0)


def test_max_steps_through_gym_make_names_max_episode_steps():
    with pytest.raises(ValueError, match=r"max_steps=12: .*pass max_episode_steps=12 instead"):
        gym.make("social_dilemmas/IPD-v0", max_steps=12)


# ---------------------------------------------------------------------------- BatchedVectorEnv


def make_vec(env_id, n, **kwargs):
    return gym.make_vec(full(env_id), num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize("env_id", IDS)
def test_make_vec_contract(env_id):
    venv = make_vec(env_id, 3)
    assert isinstance(venv, BatchedVectorEnv) and venv.num_envs == 3
    single = SingleAgentEnv(env_id)
    assert venv.single_observation_space == single.observation_space
    assert venv.single_action_space == single.action_space
    assert venv.observation_space == gym.vector.utils.batch_space(single.observation_space, 3)
    assert venv.action_space == gym.spaces.MultiDiscrete([single.action_space.n] * 3)
    assert venv.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    obs, infos = venv.reset(seed=0)
    assert obs in venv.observation_space and obs.dtype == np.float32 and infos == {}
    obs, rew, term, trunc, infos = venv.step(venv.action_space.sample())
    assert obs.shape == (3, *single.observation_space.shape)
    assert rew.dtype == np.float64 and term.dtype == np.bool_ and trunc.dtype == np.bool_
    assert infos["_coplayer_action"].all()
    venv.close()


def test_make_vec_default_and_sync_modes_agree():
    default = gym.make_vec("social_dilemmas/IPD-v0", num_envs=3, opponent="random")
    assert isinstance(default, BatchedVectorEnv)  # the vector entry point is the default
    sync = gym.make_vec("social_dilemmas/IPD-v0", num_envs=3, opponent="random", vectorization_mode="sync")
    assert isinstance(sync, SyncVectorEnv)
    assert data_equivalence(default.reset(seed=2), sync.reset(seed=2), exact=True)
    for t in range(12):
        a = np.array([t % 2, 1, 0])
        assert data_equivalence(default.step(a), sync.step(a), exact=True)


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.value)
@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("opponent", [None, "random"])
def test_vector_env_equals_sync_vector_env(env_id, mode, opponent):
    """Observations, rewards, flags and the whole info layout equal Gymnasium's SyncVectorEnv
    over SingleAgentEnvs (sub-env i seeded with seed + i) in every autoreset mode, across
    several episodes."""
    n, t_max = 5, 3
    ref = SyncVectorEnv([lambda: SingleAgentEnv(env_id, opponent=opponent, max_steps=t_max)] * n, autoreset_mode=mode)
    ours = make_vec(env_id, n, opponent=opponent, max_steps=t_max, autoreset_mode=mode)
    assert data_equivalence(ref.reset(seed=7), ours.reset(seed=7), exact=True)
    rng = np.random.default_rng(0)
    num_actions = ours.single_action_space.n
    for t in range(4 * t_max + 1):
        a = rng.integers(0, num_actions, size=n)
        r1, r2 = ref.step(a), ours.step(a)
        for x, y, what in zip(r1, r2, ("obs", "reward", "terminated", "truncated", "infos")):
            assert data_equivalence(x, y, exact=True), f"step {t}: {what} differ\n{x}\n{y}"
        done = r1[2] | r1[3]
        if mode == AutoresetMode.DISABLED and done.any():
            assert data_equivalence(
                ref.reset(options={"reset_mask": done.copy()}), ours.reset(options={"reset_mask": done.copy()})
            )
    # Unseeded resets continue every stream identically.
    assert data_equivalence(ref.reset(), ours.reset(), exact=True)
    for _ in range(t_max):
        a = rng.integers(0, num_actions, size=n)
        assert data_equivalence(ref.step(a), ours.step(a), exact=True)


@pytest.mark.parametrize("env_id", IDS)
def test_sub_env_i_equals_single_env_seeded_seed_plus_i(env_id):
    n, seed, i = 4, 10, 2
    venv = BatchedVectorEnv(env_id, n, opponent="random", autoreset_mode=AutoresetMode.SAME_STEP)
    single = SingleAgentEnv(env_id, opponent="random")
    obs_v, _ = venv.reset(seed=seed)
    obs_s, _ = single.reset(seed=seed + i)
    np.testing.assert_array_equal(obs_v[i], obs_s)
    rng = np.random.default_rng(1)
    for _ in range(2 * single.game.max_steps):  # two episodes; the single env resets by hand
        a = rng.integers(0, single.action_space.n, size=n)
        obs_v, rew_v, term_v, trunc_v, infos = venv.step(a)
        obs_s, rew_s, term_s, trunc_s, info_s = single.step(a[i])
        assert (rew_v[i], term_v[i], trunc_v[i]) == (rew_s, term_s, trunc_s)
        if term_s or trunc_s:
            np.testing.assert_array_equal(infos["final_obs"][i], obs_s)
            obs_s, _ = single.reset()
        np.testing.assert_array_equal(obs_v[i], obs_s)


@pytest.mark.parametrize("env_id", IDS)
def test_batch_size_invariance(env_id):
    small = BatchedVectorEnv(env_id, 1, opponent="random")
    big = BatchedVectorEnv(env_id, 64, opponent="random")
    o1, _ = small.reset(seed=5)
    o2, _ = big.reset(seed=5)
    np.testing.assert_array_equal(o1[0], o2[0])
    rng = np.random.default_rng(2)
    for _ in range(25):
        a = rng.integers(0, big.single_action_space.n, size=64)
        s1, s2 = small.step(a[:1]), big.step(a)
        for x, y in zip(s1[:4], s2[:4]):
            np.testing.assert_array_equal(x[0], y[0])


def test_next_step_semantics_ipd():
    """NEXT_STEP: the step after a done returns the reset observation (start token), reward 0,
    no flags, and ignores the action."""
    venv = make_vec("IPD-v0", 2, opponent="always_cooperate", max_steps=2)
    venv.reset(seed=0)
    assert venv.step(np.array([1, 0]))[1].tolist() == [2.0, 1.0]  # payoff table: DC -> 2, CC -> 1
    obs, rew, term, trunc, infos = venv.step(np.array([1, 0]))
    assert trunc.all() and not term.any() and rew.tolist() == [2.0, 1.0]
    last_obs = obs.copy()
    np.testing.assert_array_equal(last_obs, [one_hot(DC), one_hot(CC)])
    obs, rew, term, trunc, infos = venv.step(np.array([1, 1]))  # ignored
    np.testing.assert_array_equal(obs, [one_hot(START), one_hot(START)])
    assert rew.tolist() == [0.0, 0.0] and not (term | trunc).any()
    assert infos == {}  # like SyncVectorEnv: the reset infos of every sub-env are empty
    obs, rew, *_ = venv.step(np.array([0, 1]))
    assert rew.tolist() == [1.0, 2.0]


def test_same_step_semantics_ipd():
    """SAME_STEP: the done step returns the next episode's first observation; final_obs holds
    the last observation of the finished episode and final_info its step info."""
    venv = make_vec("IPD-v0", 3, opponent="always_defect", max_steps=2, autoreset_mode="SameStep")
    assert venv.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP
    venv.reset(seed=0)
    obs, rew, term, trunc, infos = venv.step(np.array([0, 1, 0]))
    assert rew.tolist() == [-1.0, 0.0, -1.0] and "final_obs" not in infos
    obs, rew, term, trunc, infos = venv.step(np.array([1, 1, 0]))
    assert trunc.all() and rew.tolist() == [0.0, 0.0, -1.0]
    np.testing.assert_array_equal(obs, np.stack([one_hot(START)] * 3))
    assert infos["_final_obs"].all() and infos["_final_info"].all()
    np.testing.assert_array_equal(np.stack(infos["final_obs"]), [one_hot(DD), one_hot(DD), one_hot(CD)])
    assert infos["final_info"]["coplayer_reward"].tolist() == [0.0, 0.0, 2.0]
    assert infos["final_info"]["_coplayer_reward"].all()
    assert "coplayer_action" not in infos  # top-level infos of reset sub-envs are the (empty) reset infos


def test_disabled_mode_requires_explicit_resets():
    venv = make_vec("IPD-v0", 2, max_steps=1, autoreset_mode=AutoresetMode.DISABLED)
    venv.reset(seed=0)
    assert venv.step(np.zeros(2, dtype=np.int64))[3].all()
    with pytest.raises(RuntimeError, match="reset_mask"):
        venv.step(np.zeros(2, dtype=np.int64))
    obs, _ = venv.reset(options={"reset_mask": np.array([True, False])})
    np.testing.assert_array_equal(obs[0], one_hot(START))
    np.testing.assert_array_equal(obs[1], one_hot(CC))  # untouched
    with pytest.raises(RuntimeError, match=r"\[1\]"):
        venv.step(np.zeros(2, dtype=np.int64))
    venv.reset(options={"reset_mask": np.array([False, True])})
    venv.step(np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP], ids=lambda m: m.value)
def test_record_episode_statistics(mode):
    base = make_vec("IPD-v0", 4, opponent="always_cooperate", autoreset_mode=mode)
    venv = gym.wrappers.vector.RecordEpisodeStatistics(base)
    venv.reset(seed=0)
    episodes = []
    for _ in range(3 * 11):
        *_, infos = venv.step(np.ones(4, dtype=np.int64))  # defect on a cooperator: 2 per round
        if "episode" in infos:
            episodes.append(infos["episode"])
    assert len(episodes) == 3
    for ep in episodes:
        assert ep["r"].tolist() == [20.0] * 4 and ep["l"].tolist() == [10] * 4


@pytest.mark.parametrize("env_id", IDS)
def test_torch_output_matches_numpy(env_id):
    n = 6
    vn = make_vec(env_id, n, opponent="random", autoreset_mode="SameStep", max_steps=3)
    vt = make_vec(env_id, n, opponent="random", autoreset_mode="SameStep", max_steps=3, output="torch")
    on, _ = vn.reset(seed=1)
    ot, _ = vt.reset(seed=1)
    assert isinstance(ot, torch.Tensor) and ot.dtype == torch.float32 and ot.device == vt.device
    np.testing.assert_array_equal(on, ot.numpy())
    rng = np.random.default_rng(3)
    for _ in range(7):
        a = rng.integers(0, vn.single_action_space.n, size=n)
        sn = vn.step(a)
        st = vt.step(torch.as_tensor(a))
        assert st[1].dtype == torch.float32 and st[2].dtype == torch.bool and st[3].dtype == torch.bool
        for x, y in zip(sn[:4], st[:4]):
            np.testing.assert_array_equal(x, y.numpy().astype(x.dtype))
        assert isinstance(st[4]["coplayer_action"], torch.Tensor)
        if "final_obs" in sn[4]:
            done = st[4]["_final_obs"]
            assert done.numpy().tolist() == sn[4]["_final_obs"].tolist()
            for i in np.flatnonzero(sn[4]["_final_obs"]):
                np.testing.assert_array_equal(st[4]["final_obs"][i].numpy(), sn[4]["final_obs"][i])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("env_id", IDS)
def test_cuda_matches_cpu(env_id):
    n = 32
    cpu = make_vec(env_id, n, opponent="random", output="torch")
    gpu = make_vec(env_id, n, opponent="random", output="torch", device="cuda")
    torch.testing.assert_close(cpu.reset(seed=4)[0], gpu.reset(seed=4)[0].cpu())
    g = torch.Generator().manual_seed(0)
    for _ in range(25):
        a = torch.randint(0, cpu.single_action_space.n, (n,), generator=g)
        sc, sg = cpu.step(a), gpu.step(a.cuda())
        for x, y in zip(sc[:4], sg[:4]):
            assert torch.equal(x, y.cpu())


def test_vector_max_steps_and_max_episode_steps():
    assert make_vec("IPD-v0", 2, max_steps=4).game.max_steps == 4
    assert make_vec("IPD-v0", 2, max_episode_steps=6).game.max_steps == 6
    assert make_vec("IPD-v0", 2, max_steps=6, max_episode_steps=6).game.max_steps == 6
    with pytest.raises(ValueError, match="disagree"):
        make_vec("IPD-v0", 2, max_steps=4, max_episode_steps=6)


def test_vector_render():
    venv = make_vec("IPD-v0", 2, render_mode="ansi")
    venv.reset(seed=0)
    frames = venv.render()
    assert isinstance(frames, tuple) and len(frames) == 2 and all(isinstance(f, str) for f in frames)


@pytest.mark.parametrize("n, error", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)])
def test_bad_num_envs(n, error):
    with pytest.raises(error, match="num_envs"):
        BatchedVectorEnv("IPD-v0", n)


def test_vector_bad_arguments():
    with pytest.raises(ValueError, match="registered ids"):
        BatchedVectorEnv("Nope-v0", 2)
    with pytest.raises(ValueError, match="opponent"):
        make_vec("IPD-v0", 2, opponent="nice")
    with pytest.raises(ValueError, match="output"):
        make_vec("IPD-v0", 2, output="jax")
    with pytest.raises(ValueError, match="autoreset_mode"):
        make_vec("IPD-v0", 2, autoreset_mode="sometimes")
    with pytest.raises(ValueError, match="render_mode"):
        make_vec("IPD-v0", 2, render_mode="human")
    venv = make_vec("IPD-v0", 3)
    with pytest.raises(gym.error.ResetNeeded):
        venv.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError, match="seed"):
        venv.reset(seed=[1, 2])
    with pytest.raises(ValueError, match="non-negative"):
        venv.reset(seed=-1)
    with pytest.raises(TypeError, match="reset_mask"):
        venv.reset(options={"reset_mask": [True, False, True]})
    venv.reset(seed=[1, None, 3])


@pytest.mark.parametrize(
    "actions, error, match",
    [
        (np.array([0, 1, 2]), ValueError, r"\[0, 2\)"),
        (np.array([0, -1, 0]), ValueError, r"\[0, 2\)"),
        (np.array([0, 1]), ValueError, r"shape \(3,\)"),
        (np.zeros((3, 1), dtype=np.int64), ValueError, r"shape \(3,\)"),
        (np.array([0.0, 1.0, 0.0]), TypeError, "integers"),
        (np.array([0.0, np.nan, 1.0]), TypeError, "integers"),
        (np.array([True, False, True]), TypeError, "integers"),
        (torch.tensor([0.5, 0.0, 1.0]), TypeError, "integers"),
        (["a", "b", "c"], TypeError, "integers"),
    ],
)
def test_vector_rejected_actions(actions, error, match):
    venv = make_vec("IPD-v0", 3)
    venv.reset(seed=0)
    with pytest.raises(error, match=match):
        venv.step(actions)
    venv.step([0, 1, 0])  # lists of ints are fine
