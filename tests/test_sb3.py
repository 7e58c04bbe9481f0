"""Stable-Baselines3 paths: SB3's env checker on every id, PPO on the single-agent view,
the SuperSuit parameter-sharing bridge (truncation reported as truncation), the batched SB3
VecEnv, and the two example scripts."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sb3 = pytest.importorskip("stable_baselines3")
pytest.importorskip("supersuit")

import gymnasium as gym  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv  # noqa: E402

import social_dilemmas  # noqa: E402
from social_dilemmas.adapters.gymnasium_env import SingleAgentEnv  # noqa: E402
from social_dilemmas.adapters.sb3 import BatchedSB3VecEnv, supersuit_sb3_vec_env  # noqa: E402
from social_dilemmas.registration import get_entry  # noqa: E402

IDS = social_dilemmas.registered_ids("game")
ROOT = Path(__file__).resolve().parents[1]

# Our envs and SB3's checkers must not warn (UserWarning). Deprecation notices SB3, SuperSuit
# or torch may emit about their own internals are not ours to fix, so they stay warnings.
pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def parallel_env(env_id, **kwargs):
    return importlib.import_module(get_entry(env_id).module).parallel_env(**kwargs)


@pytest.mark.parametrize("env_id", IDS)
def test_sb3_check_env(env_id):
    env = gym.make(f"social_dilemmas/{env_id}")
    sb3_check_env(env.unwrapped)
    sb3_check_env(env)


def test_ppo_trains_on_single_agent_env(one_torch_thread):
    env = gym.make("social_dilemmas/IPD-v0", opponent="always_defect")
    model = PPO("MlpPolicy", env, n_steps=128, batch_size=64, n_epochs=2, seed=0, verbose=0)
    model.learn(total_timesteps=2048)
    obs, _ = env.reset(seed=0)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(action)


@pytest.mark.slow
def test_ppo_learns_to_defect_against_always_defect(one_torch_thread):
    """Against ALLD, defecting is strictly better in every state (0 > -1)."""
    env = gym.make("social_dilemmas/IPD-v0", opponent="always_defect")
    model = PPO("MlpPolicy", env, n_steps=256, batch_size=64, learning_rate=1e-3, seed=0, verbose=0)
    model.learn(total_timesteps=8192)
    defections = 0
    for ep in range(10):
        obs, _ = env.reset(seed=100 + ep)
        for _ in range(10):
            action, _ = model.predict(obs, deterministic=True)
            defections += int(action == 1)
            obs, *_ = env.step(action)
    assert defections >= 90


# ---------------------------------------------------------------------------- SuperSuit bridge


@pytest.mark.parametrize("env_id", IDS)
def test_supersuit_truncation_is_reported_as_truncation(env_id):
    par = parallel_env(env_id, max_steps=4)
    agents = par.possible_agents
    seats = len(agents)
    venv = supersuit_sb3_vec_env(par, num_vec_envs=3)
    assert isinstance(venv, VecEnv) and venv.num_envs == 3 * seats
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (venv.num_envs, *venv.observation_space.shape)
    # Game 0 replayed by hand: SuperSuit resets game k with seed + k.
    ref = parallel_env(env_id, max_steps=4)
    ref_obs, _ = ref.reset(seed=0)
    np.testing.assert_array_equal(obs[:seats], np.stack([ref_obs[a] for a in agents]))
    rng = np.random.default_rng(0)
    for t in range(4):
        actions = rng.integers(0, venv.action_space.n, size=venv.num_envs)
        obs, rewards, dones, infos = venv.step(actions)
        ref_obs, ref_rew, *_ = ref.step({a: int(actions[i]) for i, a in enumerate(agents)})
        assert rewards.dtype == np.float32 and dones.dtype == np.bool_
        np.testing.assert_array_equal(rewards[:seats], [ref_rew[a] for a in agents])
        if t < 3:
            assert not dones.any()
            assert not any(info["TimeLimit.truncated"] for info in infos)
            assert not any("terminal_observation" in info for info in infos)
    assert dones.all()
    assert all(info["TimeLimit.truncated"] is True for info in infos)
    for i, a in enumerate(agents):  # the last observation of the finished episode ...
        np.testing.assert_array_equal(infos[i]["terminal_observation"], ref_obs[a])
    next_obs, _ = ref.reset()  # ... and the returned one starts the next (an unseeded reset)
    np.testing.assert_array_equal(obs[:seats], np.stack([next_obs[a] for a in agents]))


def test_supersuit_seeding_and_attribute_access():
    def rollout(seed):
        venv = supersuit_sb3_vec_env(parallel_env("IteratedMatchingPennies-v0"), num_vec_envs=2)
        venv.seed(seed)
        out = [venv.reset()]
        rng = np.random.default_rng(seed)
        for _ in range(12):
            out.append(venv.step(rng.integers(0, 2, size=4))[:3])
        return out

    a, b = rollout(3), rollout(3)
    for x, y in zip(a, b):
        for u, v in zip(x if isinstance(x, tuple) else (x,), y if isinstance(y, tuple) else (y,)):
            np.testing.assert_array_equal(u, v)
    venv = supersuit_sb3_vec_env(parallel_env("IPD-v0"), num_vec_envs=2)
    assert venv.get_attr("render_mode") == [None] * 4
    names = venv.get_attr("metadata", indices=[0, 3])
    assert [m["name"] for m in names] == ["ipd_v0", "ipd_v0"]
    venv.reset()
    states = venv.env_method("state", indices=[0, 1, 2])
    assert len(states) == 3 and states[0].shape == (5,)
    assert venv.env_is_wrapped(gym.Wrapper) == [False] * 4
    with pytest.raises(ValueError, match="num_vec_envs"):
        supersuit_sb3_vec_env(parallel_env("IPD-v0"), num_vec_envs=0)


def test_sb3_check_vecenv_if_available():
    mod = pytest.importorskip("stable_baselines3.common.vec_env_checker")
    check_vecenv = getattr(mod, "check_vecenv", None)
    if check_vecenv is None:  # pragma: no cover
        pytest.skip("this SB3 has no check_vecenv")
    check_vecenv(supersuit_sb3_vec_env(parallel_env("IPD-v0"), num_vec_envs=2))
    check_vecenv(BatchedSB3VecEnv("IPD-v0", 4))


def test_ppo_trains_through_supersuit(one_torch_thread):
    venv = supersuit_sb3_vec_env(parallel_env("IPD-v0"), num_vec_envs=4)
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=0, verbose=0)
    model.learn(total_timesteps=512)
    venv.close()


# ---------------------------------------------------------------------------- batched SB3 VecEnv


@pytest.mark.parametrize("env_id", IDS)
def test_batched_sb3_vec_env_equals_dummy_vec_env(env_id):
    """Same seeds, same actions: identical to SB3's DummyVecEnv over gym.make'd single envs."""
    n = 4
    ours = BatchedSB3VecEnv(env_id, n, opponent="random", max_steps=3)
    ref = DummyVecEnv([lambda: SingleAgentEnv(env_id, opponent="random", max_steps=3)] * n)
    ours.seed(9)
    ref.seed(9)
    np.testing.assert_array_equal(ours.reset(), ref.reset())
    rng = np.random.default_rng(0)
    for _ in range(10):
        a = rng.integers(0, ours.action_space.n, size=n)
        o1, r1, d1, i1 = ours.step(a)
        o2, r2, d2, i2 = ref.step(a)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_array_equal(r1, r2)
        np.testing.assert_array_equal(d1, d2)
        assert [sorted(x) for x in i1] == [sorted(x) for x in i2]
        for x, y in zip(i1, i2):
            for k in x:
                np.testing.assert_array_equal(x[k], y[k])
            if "terminal_observation" in x:
                assert x["TimeLimit.truncated"] is True


def test_ppo_trains_on_batched_sb3_vec_env(one_torch_thread):
    venv = BatchedSB3VecEnv("IPD-v0", 16, opponent="tit_for_tat")
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=64, n_epochs=2, seed=0, verbose=0)
    model.learn(total_timesteps=1024)


# ---------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    "script, args, key",
    [
        ("sb3_ppo_ipd.py", ["--timesteps", "256"], "defection_rate"),
        ("supersuit_sb3_ipd.py", ["--timesteps", "256", "--num-vec-envs", "2"], "cooperation_rate"),
    ],
)
def test_examples_run(script, args, key):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 0.0 <= result[key] <= 1.0
