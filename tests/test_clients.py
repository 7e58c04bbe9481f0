"""Standard clients, driven through their own documented entry points, on every registered id:
SB3's ``make_vec_env``, Gymnasium's ``make``/``make_vec`` time limit and wrappers (RecordVideo,
NumpyToTorch), torchrl's ``GymWrapper``, PettingZoo's registry, the CLI, and the upstream
SuperSuit -> SB3 path that the docs steer users away from.

The meta-environment's own client checks are in ``tests/test_meta_clients.py``.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import social_dilemmas
from social_dilemmas.registration import get_entry

ALL_IDS = social_dilemmas.registered_ids()
GAMES = social_dilemmas.registered_ids("game")
ROOT = Path(__file__).resolve().parents[1]
MODES = ("sync", "vector_entry_point")


def full(env_id: str) -> str:
    return f"social_dilemmas/{env_id}"


# ---------------------------------------------------------------------------- SB3 make_vec_env (every id)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_sb3_make_vec_env_works_on_every_id(env_id):
    """SB3 passes render_mode="rgb_array" and falls back only on TypeError: every id must accept it."""
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    venv = env_util.make_vec_env(full(env_id), n_envs=2, seed=0)
    obs = venv.reset()
    assert obs.shape == (2, *venv.observation_space.shape)
    for _ in range(3):
        obs, rew, done, infos = venv.step(np.array([venv.action_space.sample() for _ in range(2)]))
        assert rew.shape == (2,) and len(infos) == 2
    frames = venv.get_images()  # the rgb_array pictures SB3's VecVideoRecorder would write
    assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in frames)
    venv.close()


def test_sb3_make_vec_env_monitor_ends_episodes_at_the_time_limit():
    env_util = pytest.importorskip("stable_baselines3.common.env_util")
    venv = env_util.make_vec_env(full("IPD-v0"), n_envs=2, seed=0, env_kwargs={"max_episode_steps": 4})
    venv.reset()
    for t in range(4):
        _, _, done, infos = venv.step(np.zeros(2, dtype=np.int64))
        assert done.all() == (t == 3)
    assert all(i["episode"]["l"] == 4 and i["TimeLimit.truncated"] for i in infos)


# ---------------------------------------------------------------------------- one time limit everywhere


def episode_length_single(env) -> int:
    env.reset(seed=0)
    for n in range(1, 1000):
        *_, terminated, truncated, _ = env.step(0)
        if terminated or truncated:
            assert truncated and not terminated
            return n
    raise AssertionError("no episode end")


def episode_length_vector(venv) -> int:
    venv.reset(seed=0)
    for n in range(1, 1000):
        *_, terminated, truncated, _ = venv.step(np.zeros(venv.num_envs, dtype=np.int64))
        if terminated.any() or truncated.any():
            assert truncated.all() and not terminated.any()
            return n
    raise AssertionError("no episode end")


@pytest.mark.parametrize("env_id", GAMES)
def test_max_episode_steps_is_the_episode_length_in_every_entry_point(env_id):
    t_default = get_entry(env_id).max_steps
    assert episode_length_single(gym.make(full(env_id))) == t_default
    for mode in MODES:
        assert episode_length_vector(gym.make_vec(full(env_id), num_envs=2, vectorization_mode=mode)) == t_default
    for m in (3, t_default + 7):  # shorter and longer than the game's T
        assert episode_length_single(gym.make(full(env_id), max_episode_steps=m)) == m
        for mode in MODES:
            venv = gym.make_vec(full(env_id), num_envs=2, vectorization_mode=mode, max_episode_steps=m)
            assert episode_length_vector(venv) == m, mode
    # The episode keeps playing past the game's T: rewards and observations stay those of the game.
    env = gym.make(full(env_id), max_episode_steps=t_default + 2)
    env.reset(seed=0)
    for _ in range(t_default + 2):
        obs, *_ = env.step(0)
        assert obs in env.observation_space


def test_max_steps_under_gym_make_names_max_episode_steps():
    for make in (lambda: gym.make(full("IPD-v0"), max_steps=20),
                 lambda: gym.make_vec(full("IPD-v0"), num_envs=2, vectorization_mode="sync", max_steps=20)):
        with pytest.raises(ValueError, match=r"max_steps=20: .*pass max_episode_steps=20"):
            make()


# ---------------------------------------------------------------------------- Gymnasium wrappers


@pytest.mark.parametrize("env_id", GAMES)
def test_record_video_on_every_game(env_id, tmp_path):
    pytest.importorskip("moviepy")
    env = gym.wrappers.RecordVideo(gym.make(full(env_id), render_mode="rgb_array", max_episode_steps=4),
                                   str(tmp_path / "videos"), episode_trigger=lambda ep: True, disable_logger=True)
    env.reset(seed=0)
    done = False
    while not done:
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 0


def test_numpy_to_torch_wrappers():
    pytest.importorskip("array_api_compat")
    env = gym.wrappers.NumpyToTorch(gym.make(full("IPD-v0"), opponent="always_defect"))
    obs, _ = env.reset(seed=0)
    assert isinstance(obs, torch.Tensor) and obs.shape == (5,)
    obs, reward, *_ = env.step(torch.tensor(1))
    assert isinstance(obs, torch.Tensor) and float(reward) == 0.0
    venv = gym.wrappers.vector.NumpyToTorch(
        gym.make_vec(full("IPD-v0"), num_envs=3, vectorization_mode="vector_entry_point"))
    obs, _ = venv.reset(seed=0)
    obs, reward, *_ = venv.step(torch.zeros(3, dtype=torch.int64))
    assert isinstance(obs, torch.Tensor) and obs.shape == (3, 5) and reward.tolist() == [1.0] * 3


# ---------------------------------------------------------------------------- torchrl


@pytest.mark.parametrize("mode", ["Disabled", "SameStep"])
def test_torchrl_gym_wrapper_on_the_vector_face(mode):
    envs = pytest.importorskip("torchrl.envs")
    env = envs.GymWrapper(gym.make_vec(full("IPD-v0"), num_envs=3, vectorization_mode="vector_entry_point",
                                       opponent="always_defect", autoreset_mode=mode, max_episode_steps=4))
    assert env.batch_size == torch.Size([3])
    td = env.rollout(10, break_when_any_done=False)  # crosses two episode ends
    assert td.batch_size == torch.Size([3, 10])
    truncated = td["next", "truncated"].squeeze(-1)
    assert truncated[:, 3].all() and truncated[:, 7].all() and truncated.sum() == 6
    assert not td["next", "terminated"].any()
    # A first step of each episode shows the start token (after torchrl's reset of the finished ones).
    assert (td["observation"][:, [0, 4, 8], 0] == 1).all()


def test_torchrl_gym_wrapper_on_the_single_agent_view():
    envs = pytest.importorskip("torchrl.envs")
    env = envs.GymWrapper(gym.make(full("IPD-v0"), opponent="always_defect"))
    td = env.rollout(25, break_when_any_done=False)
    assert td["next", "truncated"].squeeze(-1).nonzero().flatten().tolist() == [9, 19]


# ---------------------------------------------------------------------------- PettingZoo registry


@pytest.mark.parametrize("env_id", GAMES)
def test_pettingzoo_registry_accepts_its_own_id_forms(env_id):
    import pettingzoo

    entry = get_entry(env_id)
    module = entry.module.rsplit(".", 1)[1]  # e.g. ipd_v0
    name = module.rpartition("_v")[0]
    for form in (entry.full_id, f"social_dilemmas/{module}", entry.pettingzoo_alias):
        par = pettingzoo.make("parallel", form)
        assert par.metadata["name"] == module, form
        aec = pettingzoo.make("aec", form)
        aec.reset(seed=0)
        assert aec.agent_selection == "player_0"
    # The unversioned name is the latest version of that module, as for PettingZoo's own ids.
    latest = max(e.module.rsplit(".", 1)[1] for e in social_dilemmas.registration.REGISTRY.values()
                 if e.kind == "game" and e.module.rsplit(".", 1)[1].rpartition("_v")[0] == name)
    assert pettingzoo.make("parallel", f"social_dilemmas/{name}").metadata["name"] == latest
    assert pettingzoo.make("parallel", f"social_dilemmas/{module}", max_cycles=3).game.max_steps == 3


# ---------------------------------------------------------------------------- CLI: every id


def test_cli_benches_a_shaping_id(capsys):
    from social_dilemmas.cli import main

    assert main(["bench", "IPD-Shaping-v0", "--batch", "2,4", "--steps", "12", "--repeats", "1", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [r["batch_size"] for r in lines] == [2, 4] and all(r["env_steps_per_s"] > 0 for r in lines)
    assert all(r["env_id"] == "IPD-Shaping-v0" for r in lines)


# ---------------------------------------------------------------------------- SuperSuit -> SB3 upstream path

UPSTREAM_FIXED = (
    "SuperSuit's own SB3 wrapper (concat_vec_envs_v1(..., base_class='stable_baselines3')) no longer shows "
    "the failure this test pins down ({what}). Upstream has fixed it: update the 'Stable-Baselines3' section "
    "of docs/quickstart.md (and social_dilemmas/adapters/sb3.py's docstring) to show the upstream path, "
    "then turn this test around."
)


def upstream_venv():
    ss = pytest.importorskip("supersuit")
    pytest.importorskip("stable_baselines3")
    ipd_v0 = importlib.import_module("social_dilemmas.envs.ipd_v0")
    markov = ss.pettingzoo_env_to_vec_env_v1(ipd_v0.parallel_env(max_steps=4))
    return ss.concat_vec_envs_v1(markov, 2, num_cpus=0, base_class="stable_baselines3")


def test_upstream_supersuit_sb3_path_fails_where_ours_works():
    """The PettingZoo tutorial path, next to the package's bridge: (1) SB3 seeding crashes upstream,
    (2) the time limit is reported as a termination upstream. Both work through ours."""
    from stable_baselines3 import PPO

    from social_dilemmas.adapters.sb3 import supersuit_sb3_vec_env
    from social_dilemmas.envs import ipd_v0

    venv = upstream_venv()
    try:
        PPO("MlpPolicy", venv, n_steps=8, batch_size=16, seed=0)
    except AttributeError as e:
        assert "seed" in str(e)
    else:
        pytest.fail(UPSTREAM_FIXED.format(what="SB3 seeding it crashed: 'ConcatVecEnv' object has no attribute 'seed'"))
    venv.reset()
    for _ in range(4):
        *_, dones, infos = venv.step(np.zeros(4, dtype=np.int64))
    assert dones.all()
    if any(info.get("TimeLimit.truncated", False) for info in infos):
        pytest.fail(UPSTREAM_FIXED.format(what="the 4-round time limit was reported as a termination"))

    ours = supersuit_sb3_vec_env(ipd_v0.parallel_env(max_steps=4), num_vec_envs=2)
    PPO("MlpPolicy", ours, n_steps=8, batch_size=16, seed=0)  # seeds the env: fine
    ours.reset()
    for _ in range(4):
        *_, dones, infos = ours.step(np.zeros(4, dtype=np.int64))
    assert dones.all() and all(info["TimeLimit.truncated"] is True for info in infos)
