"""Gymnasium, SB3 and PettingZoo faces of the shaping meta-environment."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

import social_dilemmas
from social_dilemmas.adapters.meta_gymnasium import ShapingEnv, ShapingVectorEnv, make_sb3_vec_env, resolve_geometry
from social_dilemmas.adapters.meta_pettingzoo import MetaParallelEnv
from social_dilemmas.registration import registered_ids, shaping_id

T = 10
FAST = {"model": "mlp", "population_size": 2}


def make_vec(**kw):
    args = dict(num_envs=6, batch_size=3, num_inner_episodes=2, coplayer="naive", coplayer_kwargs=FAST,
                vectorization_mode="vector_entry_point", autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    args.update(kw)
    return gym.make_vec("social_dilemmas/IPD-Shaping-v0", **args)


def test_every_game_has_a_registered_shaping_id():
    for gid in registered_ids("game"):
        spec = gym.spec(f"social_dilemmas/{shaping_id(gid)}")
        assert spec.vector_entry_point.endswith("ShapingVectorEnv") and spec.kwargs == {"game": gid}
    assert shaping_id("social_dilemmas/IPD-v0") == "IPD-Shaping-v0"


def test_make_vec_semantics():
    envs = make_vec()
    assert isinstance(envs.unwrapped, ShapingVectorEnv)
    assert envs.num_envs == 6 and envs.unwrapped.meta_batch == 2
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    assert envs.single_observation_space.shape == (5,) and envs.observation_space.shape == (6, 5)
    obs, info = envs.reset(seed=0)
    assert obs.shape == (6, 5) and obs.dtype == np.float32 and not info["inner_episode_done"].any()
    prev = obs
    for k in range(2 * T):
        obs, rew, term, trunc, info = envs.step(np.zeros(6, dtype=np.int64))
        assert obs.shape == (6, 5) and rew.shape == (6,) and not trunc.any()
        assert (term == (k + 1 == 2 * T)).all()
        # SAME_STEP: the step that ends the meta-episode keeps its infos in final_info (as SyncVectorEnv)
        step_info = info["final_info"] if term.any() else info
        assert (step_info["inner_episode_done"] == ((k + 1) % T == 0)).all()
        assert step_info["_inner_episode_done"].all()
        assert (step_info["inner_episode"] == k // T).all()
        if (k + 1) % T == 0:
            assert (obs[:, 0] == 1).all()  # start token: the next inner episode (or meta-episode) started
            assert "coplayer_coop_rate" in step_info and step_info["_coplayer_coop_rate"].all()
        if term.any():
            assert "inner_episode_done" not in info  # masked off: the top level is the new meta-episode's
            assert info["_final_obs"].all() and info["_final_info"].all()
            assert np.stack(info["final_obs"]).shape == (6, 5)
            assert (np.stack(info["final_obs"])[:, 0] == 0).all()
            assert (info["final_info"]["inner_episode"] == 1).all()
        else:
            assert "final_obs" not in info
        prev = obs
    assert prev.shape == (6, 5)
    envs.close()


def test_same_seed_same_rollout_and_torch_output():
    def run(**kw):
        envs = make_vec(**kw)
        obs, _ = envs.reset(seed=3)
        out = [obs]
        g = np.random.default_rng(0)
        for _ in range(2 * T):
            a = g.integers(0, 2, 6)
            if kw.get("output") == "torch":
                a = torch.as_tensor(a)
            obs, rew, *_ = envs.step(a)
            out.append(obs if isinstance(obs, np.ndarray) else obs.numpy())
        return np.stack(out)

    a, b = run(), run()
    assert np.array_equal(a, b)
    c = run(output="torch")
    assert np.array_equal(a, c)
    envs = make_vec(output="torch")
    obs, info = envs.reset(seed=0)
    assert isinstance(obs, torch.Tensor) and isinstance(info["inner_episode_done"], torch.Tensor)


def test_geometry_and_bad_arguments():
    assert resolve_geometry(32, None, 16) == (2, 16)
    assert resolve_geometry(32, 4, None) == (4, 8)
    assert resolve_geometry(32, None, None) == (32, 1)  # num_envs alone: one co-player per sub-env
    assert resolve_geometry(None, None, None) == (1, 1)
    assert resolve_geometry(None, 3, 5) == (3, 5)
    with pytest.raises(ValueError, match="multiple"):
        resolve_geometry(10, None, 3)
    with pytest.raises(ValueError, match="must equal"):
        resolve_geometry(10, 2, 3)
    with pytest.raises(ValueError, match="num_envs"):
        make_vec(num_envs=0, batch_size=None)
    with pytest.raises(ValueError, match="output"):
        make_vec(output="jax")
    with pytest.raises(ValueError, match="unknown co-player"):
        make_vec(coplayer="nobody", coplayer_kwargs=None)
    envs = make_vec()
    envs.reset(seed=0)
    with pytest.raises(ValueError, match=r"shape \(6,\)"):
        envs.step(np.zeros(5, dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        envs.step(np.zeros(6))
    with pytest.raises(ValueError, match=r"integers in \[0, 2\)"):
        envs.step(np.full(6, 2))
    with pytest.raises(ValueError, match="max_episode_steps=7: .*num_inner_episodes"):
        make_vec(max_episode_steps=7)
    with pytest.raises(ValueError, match="reset_mask.*every sub-environment"):
        envs.reset(options={"reset_mask": np.array([True] * 5 + [False])})


def test_record_episode_statistics_wrapper():
    envs = gym.wrappers.vector.RecordEpisodeStatistics(make_vec())
    envs.reset(seed=0)
    for _ in range(2 * T):
        *_, info = envs.step(np.ones(6, dtype=np.int64))
    assert "episode" in info and (info["episode"]["l"] == 2 * T).all()


# A directly constructed env has no spec, so the checker cannot re-make it to try other render
# modes (there are none); that is the only warning filtered here.
@pytest.mark.filterwarnings("ignore:.*Not able to test alternative render modes.*:UserWarning")
def test_single_agent_view_passes_the_env_checker():
    from gymnasium.utils.env_checker import check_env

    env = gym.make("social_dilemmas/IPD-Shaping-v0", num_inner_episodes=2, coplayer="tit_for_tat")
    assert isinstance(env.unwrapped, ShapingEnv)
    check_env(env.unwrapped)
    naive = ShapingEnv("IPD-v0", num_inner_episodes=2, coplayer_kwargs=FAST)
    check_env(naive)
    obs, info = naive.reset(seed=0)
    for k in range(2 * T):
        obs, r, term, trunc, info = naive.step(k % 2)
        assert info["inner_episode_done"] == ((k + 1) % T == 0) and term == (k + 1 == 2 * T) and not trunc
    with pytest.raises(RuntimeError, match="reset"):
        naive.step(0)
    naive.reset()
    with pytest.raises(TypeError):
        naive.step(0.5)


def test_sb3_vec_env_adapter():
    pytest.importorskip("stable_baselines3")
    venv = make_sb3_vec_env(num_envs=4, batch_size=2, num_inner_episodes=2, coplayer_kwargs=FAST)
    venv.seed(1)
    obs = venv.reset()
    assert obs.shape == (4, 5)
    for k in range(2 * T):
        obs, rew, done, infos = venv.step(np.zeros(4, dtype=np.int64))
        assert len(infos) == 4 and all(i["inner_episode_done"] == ((k + 1) % T == 0) for i in infos)
        assert done.all() == (k + 1 == 2 * T) and (done.any() == done.all())
    assert all("terminal_observation" in i and i["TimeLimit.truncated"] is False for i in infos)
    assert venv.get_attr("batch_size") == [2] * 4


def test_recurrent_ppo_example_runs_with_a_tiny_budget(one_torch_thread):
    pytest.importorskip("sb3_contrib")
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / "sb3_recurrent_ppo_vs_naive.py"
    spec = importlib.util.spec_from_file_location("sb3_recurrent_ppo_vs_naive", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    for algo in ("recurrent_ppo", "ppo"):
        res = mod.main(["--algo", algo, "--meta-batch", "2", "--batch-size", "2", "--inner-episodes", "2",
                        "--meta-episodes", "2", "--coplayer-model", "mlp"])
        assert res["meta_episodes"] == 2 and len(res["coplayer_coop_rate_last_meta_episode"]) == 2


# ----------------------------------------------------------------------------- PettingZoo


@pytest.mark.parametrize("kw", [{}, {"batch_size": 3}, {"batch_size": 2, "history": "all"}])
def test_pettingzoo_meta_face_api(kw):
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    parallel_api_test(MetaParallelEnv("IPD-v0", num_inner_episodes=3, **kw), num_cycles=100)
    parallel_seed_test(lambda: MetaParallelEnv("IPD-v0", num_inner_episodes=3, **kw), num_cycles=100)


def test_pettingzoo_meta_face_boundaries_and_memory_semantics():
    env = MetaParallelEnv("IPD-v0", num_inner_episodes=3, batch_size=4, history=["inner_start", "inner_index"])
    obs, infos = env.reset(seed=0)
    assert obs["player_0"].shape == (4, 7) and env.action_space("player_0").shape == (4,)
    assert env.observation_space("player_0") is env.observation_space("player_0")
    k = 0
    while env.agents:
        acts = {"player_0": np.zeros(4, dtype=np.int64), "player_1": np.ones(4, dtype=np.int64)}
        obs, rew, term, trunc, infos = env.step(acts)
        k += 1
        assert rew["player_0"].tolist() == [-1.0] * 4 and rew["player_1"].tolist() == [2.0] * 4
        assert infos["player_1"]["inner_episode_done"] == (k % T == 0)
        assert infos["player_1"]["inner_episode"] == (k - 1) // T
        assert all(term.values()) == (k == 3 * T) and not any(trunc.values())
        if k % T == 0 and k < 3 * T:
            assert obs["player_0"][0, 0] == 1 and obs["player_0"][0, 5] == 1  # start token, inner_start flag
        # each agent sees its own side: player_0 (C vs D) sees CD, player_1 sees DC
        if k % T:
            assert obs["player_0"][0, 2] == 1 and obs["player_1"][0, 3] == 1
    assert k == 3 * T and env.agents == []
    with pytest.raises(RuntimeError, match="reset"):
        env.step(acts)
    assert env.state().shape == (4, 5)
    with pytest.raises(ValueError, match="two-player|num_inner_episodes"):
        MetaParallelEnv("IPD-v0", num_inner_episodes=0)


def test_package_import_registers_shaping_ids():
    assert "social_dilemmas/IPD-Shaping-v0" in gym.registry
    assert social_dilemmas.__version__
