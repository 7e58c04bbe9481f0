"""Standard clients on the shaping meta-environment (``*-Shaping-v0``) and the two-agent meta face:
Gymnasium's autoreset modes and vector wrappers, torchrl's ``GymWrapper``, the meaning of
``num_envs`` in every vectorization mode, SB3's episode records, PettingZoo's test utilities."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import social_dilemmas  # noqa: F401  (registers the ids)
from social_dilemmas.adapters.meta_gymnasium import ShapingVectorEnv, make_sb3_vec_env

ID = "social_dilemmas/IPD-Shaping-v0"
T, M = 10, 2
FAST = {"model": "mlp", "population_size": 2}


def make_vec(mode="NextStep", **kw):
    args = dict(num_envs=4, batch_size=2, num_inner_episodes=M, coplayer="naive", coplayer_kwargs=FAST,
                vectorization_mode="vector_entry_point", autoreset_mode=mode)
    args.update(kw)
    return gym.make_vec(ID, **args)


def zeros(n=4):
    return np.zeros(n, dtype=np.int64)


# ---------------------------------------------------------------------------- autoreset modes


@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_autoreset_mode_is_declared_as_attribute_and_metadata(mode):
    envs = make_vec(mode.value)
    assert envs.unwrapped.autoreset_mode == mode and envs.metadata["autoreset_mode"] == mode


def test_next_step_mode_starts_the_next_meta_episode_on_the_following_step():
    envs = make_vec("NextStep")
    envs.reset(seed=0)
    for _ in range(M * T):
        obs, rew, term, trunc, info = envs.step(zeros())
    assert term.all() and not trunc.any()
    assert (obs[:, 0] == 0).all()  # the last observation of the finished meta-episode, not a start token
    assert (info["inner_episode"] == M - 1).all() and info["inner_episode_done"].all()
    assert info["meta_episode/coplayer_coop_rate"].shape == (4, M)
    count = envs.unwrapped.meta_env.meta_episode_count
    obs, rew, term, trunc, info = envs.step(np.ones(4, dtype=np.int64))  # actions ignored
    assert (obs[:, 0] == 1).all() and (rew == 0).all() and not term.any() and not trunc.any()
    assert info == {}  # masked off, as SyncVectorEnv's reset step
    assert envs.unwrapped.meta_env.meta_episode_count == count + 1
    obs, rew, term, trunc, info = envs.step(np.ones(4, dtype=np.int64))  # now a real step: D vs the learner
    assert (obs[:, 0] == 0).all() and (info["inner_episode"] == 0).all()


def test_disabled_mode_raises_until_reset():
    envs = make_vec("Disabled")
    envs.reset(seed=0)
    for _ in range(M * T):
        *_, term, _, info = envs.step(zeros())
    assert term.all() and "final_obs" not in info
    with pytest.raises(RuntimeError, match="DISABLED"):
        envs.step(zeros())
    obs, _ = envs.reset(options={"reset_mask": np.ones(4, dtype=bool)})
    assert (obs[:, 0] == 1).all()
    envs.step(zeros())


def test_same_step_and_next_step_play_the_same_meta_episodes():
    def rollout(mode):
        envs = make_vec(mode, coplayer="random", coplayer_kwargs=None)
        obs, _ = envs.reset(seed=5)
        rng = np.random.default_rng(0)
        seen = [obs]
        for _ in range(2 * M * T + 1):
            a = rng.integers(0, 2, 4)
            obs, rew, term, _, info = envs.step(a)
            seen.append(obs)
            if term.any() and mode == "SameStep":
                seen.append(np.stack(info["final_obs"]))
        return seen

    same, nxt = rollout("SameStep"), rollout("NextStep")
    # SAME_STEP shows [final, first] in one step where NEXT_STEP takes two; the sequences agree up to
    # that point (the next meta-episode then differs only by the ignored action of NEXT_STEP's reset step).
    n = M * T
    for k in range(n):
        np.testing.assert_array_equal(same[k], nxt[k])
    np.testing.assert_array_equal(same[n + 1], nxt[n])  # SAME_STEP's final_obs == NEXT_STEP's last obs
    np.testing.assert_array_equal(same[n], nxt[n + 1])  # and the next meta-episode's first observation


# ---------------------------------------------------------------------------- Gymnasium vector wrappers


def test_gymnasium_vector_wrappers():
    envs = gym.wrappers.vector.RecordEpisodeStatistics(
        gym.wrappers.vector.NormalizeObservation(gym.wrappers.vector.FlattenObservation(make_vec())))
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, 5)
    for _ in range(M * T):
        obs, *_, info = envs.step(zeros())
        assert obs.shape == (4, 5) and np.isfinite(obs).all()
    assert (info["episode"]["l"] == M * T).all()
    disabled = gym.wrappers.vector.FlattenObservation(make_vec("Disabled"))  # refuses SAME_STEP only
    disabled.reset(seed=0)
    assert disabled.step(zeros())[0].shape == (4, 5)


def test_numpy_to_torch_vector_wrapper():
    pytest.importorskip("array_api_compat")
    envs = gym.wrappers.vector.NumpyToTorch(make_vec())
    obs, _ = envs.reset(seed=0)
    obs, rew, *_ = envs.step(torch.zeros(4, dtype=torch.int64))
    assert isinstance(obs, torch.Tensor) and isinstance(rew, torch.Tensor) and obs.shape == (4, 5)


def test_vector_face_renders_one_frame_per_sub_env():
    envs = make_vec(render_mode="rgb_array")
    envs.reset(seed=0)
    frames = envs.render()
    assert len(frames) == 4 and all(f.shape == (144, 96, 3) and f.dtype == np.uint8 for f in frames)
    text = make_vec(render_mode="ansi")
    text.reset(seed=0)
    assert all("round 0/10: start" in t for t in text.render())
    with pytest.raises(ValueError, match="render_mode"):
        make_vec(render_mode="human")  # a vector env has no window of its own


# ---------------------------------------------------------------------------- torchrl


@pytest.mark.parametrize("mode", ["Disabled", "SameStep"])
def test_torchrl_gym_wrapper_crosses_a_meta_episode_end(mode):
    envs = pytest.importorskip("torchrl.envs")
    env = envs.GymWrapper(make_vec(mode, coplayer="tit_for_tat", coplayer_kwargs=None))
    td = env.rollout(M * T + 5, break_when_any_done=False)
    assert td.batch_size == torch.Size([4, M * T + 5])
    done = td["next", "terminated"].squeeze(-1)
    assert done[:, M * T - 1].all() and done.sum() == 4 and not td["next", "truncated"].any()
    assert (td["observation"][:, M * T, 0] == 1).all()  # torchrl reset -> the next meta-episode's start token
    # a random ego against tit-for-tat: every reward is an entry of the IPD table
    assert set(td["next", "reward"].unique().tolist()) <= {-1.0, 0.0, 1.0, 2.0}


# ---------------------------------------------------------------------------- num_envs means one thing


@pytest.mark.parametrize("coplayer", ["random", "naive"])
def test_num_envs_is_the_same_experiment_in_every_vectorization_mode(coplayer):
    kw = dict(num_envs=3, num_inner_episodes=M, coplayer=coplayer,
              coplayer_kwargs=FAST if coplayer == "naive" else None)
    sync = gym.make_vec(ID, vectorization_mode="sync", **kw)
    vec = gym.make_vec(ID, vectorization_mode="vector_entry_point", **kw)
    assert vec.unwrapped.meta_batch == 3 and vec.unwrapped.batch_size == 1  # 3 co-players, one game each
    outs = []
    for envs in (sync, vec):
        obs, _ = envs.reset(seed=11)
        rng = np.random.default_rng(1)
        run = [obs]
        for _ in range(M * T + 3):  # past the meta-episode end (NEXT_STEP in both)
            obs, rew, term, trunc, info = envs.step(rng.integers(0, 2, 3))
            run += [obs, rew, term, info.get("coplayer_action", np.zeros(3))]
        outs.append(run)
    for a, b in zip(*outs):
        np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), atol=1e-6)


def test_the_ambiguous_forms_are_refused():
    with pytest.raises(ValueError, match=r"batch_size=4: the single-agent view .*vector_entry_point"):
        gym.make_vec(ID, num_envs=8, batch_size=4, vectorization_mode="sync")
    with pytest.raises(ValueError, match="meta_batch=2"):
        gym.make(ID, meta_batch=2)
    gym.make(ID, batch_size=1, coplayer="tit_for_tat")  # 1 is what it is


# ---------------------------------------------------------------------------- SB3 episode records


def test_sb3_infos_carry_the_meta_episode_record():
    pytest.importorskip("stable_baselines3")
    venv = make_sb3_vec_env(num_envs=4, batch_size=2, num_inner_episodes=M, coplayer="tit_for_tat")
    venv.seed(0)
    venv.reset()
    for k in range(M * T):
        _, rew, done, infos = venv.step(np.ones(4, dtype=np.int64))  # defect against tit-for-tat
        if k < M * T - 1:
            assert not done.any() and all("episode" not in i for i in infos)
    assert done.all()
    for info in infos:
        ep = info["episode"]
        # D vs TFT: 2 in round 1, then 0; the co-player gets -1, then 0; it never cooperates after round 1
        assert ep["l"] == M * T and ep["r"] == pytest.approx(2.0 * M)
        assert ep["coplayer_return"] == pytest.approx(-1.0 * M)
        assert ep["coplayer_coop_rate"] == pytest.approx(0.1) and ep["coplayer_coop_rate_last"] == pytest.approx(0.1)
        assert ep["ego_coop_rate"] == 0.0
        assert info["meta_episode"]["coplayer_coop_rate"].shape == (M,)
        assert info["TimeLimit.truncated"] is False and "terminal_observation" in info
    with pytest.raises(ValueError, match="SAME_STEP"):
        make_sb3_vec_env(ShapingVectorEnv(4, coplayer="tit_for_tat"))


def test_sb3_ep_info_buffer_sees_the_coplayer_statistics():
    sb3 = pytest.importorskip("stable_baselines3")
    venv = make_sb3_vec_env(num_envs=2, num_inner_episodes=M, coplayer="naive", coplayer_kwargs=FAST)
    model = sb3.PPO("MlpPolicy", venv, n_steps=M * T, batch_size=M * T, n_epochs=1, seed=0, verbose=0)
    model.learn(2 * M * T * 2)
    assert len(model.ep_info_buffer) >= 2
    ep = model.ep_info_buffer[-1]
    assert ep["l"] == M * T and 0.0 <= ep["coplayer_coop_rate"] <= 1.0 and "coplayer_return" in ep


def test_sb3_make_vec_env_monitor_can_log_meta_episode_statistics():
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    venv = env_util.make_vec_env(ID, n_envs=2, seed=0, env_kwargs={"num_inner_episodes": M, "coplayer": "tit_for_tat"},
                                 monitor_kwargs={"info_keywords": ("meta_episode/coplayer_coop_rate",)})
    venv.reset()
    for _ in range(M * T):
        _, _, done, infos = venv.step(np.zeros(2, dtype=np.int64))
    assert done.all()
    for info in infos:
        assert info["episode"]["l"] == M * T
        np.testing.assert_allclose(info["episode"]["meta_episode/coplayer_coop_rate"], [1.0] * M)


# ---------------------------------------------------------------------------- PettingZoo meta face


def test_pettingzoo_render_test_and_aec_api_test_on_the_meta_face(capsys):
    from pettingzoo.test import api_test, render_test

    from social_dilemmas.adapters import meta_pettingzoo

    render_test(lambda **kw: meta_pettingzoo.env(num_inner_episodes=2, **kw))
    assert "inner episode" in capsys.readouterr().out  # human mode prints
    api_test(meta_pettingzoo.env(num_inner_episodes=3), num_cycles=100)


def test_the_batched_meta_face_is_parallel_only():
    from pettingzoo.test import parallel_api_test

    from social_dilemmas.adapters import meta_pettingzoo

    with pytest.raises(ValueError, match=r"batch_size=4: .*array rewards .*parallel_env\(batch_size"):
        meta_pettingzoo.env(batch_size=4)
    parallel_api_test(meta_pettingzoo.parallel_env(num_inner_episodes=2, batch_size=4), num_cycles=50)
    with pytest.raises(ValueError, match="render_mode"):
        meta_pettingzoo.parallel_env(render_mode="svg")


@pytest.mark.gpu
@pytest.mark.parametrize("mode", list(AutoresetMode))
def test_vector_face_on_cuda_equals_cpu(mode):
    """On a GPU the faces skip the per-step 'did anything end' check; the rollout must not change."""
    def run(device):
        envs = make_vec(mode.value, coplayer="random", coplayer_kwargs=None, device=device, output="torch")
        obs, _ = envs.reset(seed=3)
        out = [obs.cpu()]
        g = torch.Generator().manual_seed(0)
        for _ in range(M * T + 2):
            if mode == AutoresetMode.DISABLED and envs.unwrapped._pending.any():
                obs, _ = envs.reset()
                out.append(obs.cpu())
            obs, rew, term, *_ = envs.step(torch.randint(0, 2, (4,), generator=g).to(device))
            out += [obs.cpu(), rew.cpu(), term.cpu()]
        return out

    for a, b in zip(run("cpu"), run("cuda")):
        torch.testing.assert_close(a, b)
