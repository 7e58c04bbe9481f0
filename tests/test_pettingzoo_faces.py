"""The PettingZoo face over every registered id: PettingZoo's own test suite, the registry,
the module factories, known answers for the IPD and bad input.

PettingZoo's tests report problems as warnings; every warning is an error here.
"""

from __future__ import annotations

import importlib

import gymnasium
import numpy as np
import pettingzoo
import pytest
from gymnasium.utils.env_checker import data_equivalence
from pettingzoo.test import (
    api_test,
    max_cycles_test,
    parallel_api_test,
    parallel_seed_test,
    performance_benchmark,
    render_test,
    seed_test,
    state_test,
)

import social_dilemmas
from social_dilemmas.adapters.pettingzoo_env import BatchedParallelEnv, module_factories
from social_dilemmas.envs.matrix_game import CC, CD, DC, DD, START
from social_dilemmas.registration import get_entry, make_game

pytestmark = [
    pytest.mark.filterwarnings("error"),
    # Gymnasium's own note when an older version of a registered id is made (CleanUpLite-v0 next to v1)
    pytest.mark.filterwarnings("ignore:.*is out of date.*:DeprecationWarning"),
]

IDS = social_dilemmas.registered_ids("game")


def module_of(env_id: str):
    return importlib.import_module(get_entry(env_id).module)


@pytest.mark.parametrize("env_id", IDS)
def test_parallel_api_test(env_id):
    parallel_api_test(module_of(env_id).parallel_env(), num_cycles=1000)


@pytest.mark.parametrize("env_id", IDS)
def test_api_test(env_id):
    api_test(module_of(env_id).env(), num_cycles=1000)


@pytest.mark.parametrize("env_id", IDS)
def test_seed_tests(env_id):
    mod = module_of(env_id)
    parallel_seed_test(mod.parallel_env)
    seed_test(mod.env)


@pytest.mark.parametrize("env_id", IDS)
def test_render_test(env_id, capsys):
    render_test(module_of(env_id).env)
    assert capsys.readouterr().out  # "human" printed the text picture


@pytest.mark.parametrize("env_id", IDS)
def test_state_test(env_id):
    mod = module_of(env_id)
    state_test(mod.env(), mod.parallel_env())


@pytest.mark.parametrize("env_id", IDS)
def test_max_cycles_test(env_id):
    max_cycles_test(module_of(env_id))


@pytest.mark.slow
@pytest.mark.parametrize("env_id", IDS)
def test_performance_benchmark_smoke(env_id, capsys):
    """PettingZoo's 5-second AEC throughput loop runs (read the printed figures yourself)."""
    performance_benchmark(module_of(env_id).env())
    assert "turns per second" in capsys.readouterr().out


@pytest.mark.parametrize("env_id", IDS)
def test_registry_make(env_id):
    entry = get_entry(env_id)
    par = pettingzoo.make("parallel", entry.full_id)
    aec = pettingzoo.make("aec", entry.full_id)
    assert isinstance(par, BatchedParallelEnv) and isinstance(aec, pettingzoo.AECEnv)
    assert str(par) == par.metadata["name"] == entry.module.rsplit(".", 1)[1]
    short = pettingzoo.make("parallel", entry.full_id, max_cycles=3)
    short.reset(seed=0)
    for _ in range(3):
        *_, trunc, _ = short.step({a: 0 for a in short.agents})
    assert all(trunc.values()) and short.agents == []


@pytest.mark.parametrize("env_id", IDS)
def test_module_factories_contract(env_id):
    mod = module_of(env_id)
    par = mod.parallel_env()
    name = get_entry(env_id).module.rsplit(".", 1)[1]
    assert par.metadata["name"] == name and par.metadata["is_parallelizable"] is True
    assert par.metadata["render_fps"] > 0 and "human" in par.metadata["render_modes"]
    n = par.game.spec.num_agents
    assert par.possible_agents == [f"player_{i}" for i in range(n)]
    assert par.agents == []
    for a in par.possible_agents:
        assert par.observation_space(a) is par.observation_space(a)
        assert par.action_space(a) is par.action_space(a)
    assert isinstance(par.state_space, gymnasium.spaces.Box)
    obs, infos = par.reset(seed=1)
    assert par.agents == par.possible_agents
    assert set(obs) == set(infos) == set(par.agents)
    assert par.state() in par.state_space
    for _ in range(par.game.max_steps):
        actions = {a: par.action_space(a).sample() for a in par.agents}
        obs, rew, term, trunc, infos = par.step(actions)
        for d in (obs, rew, term, trunc, infos):
            assert set(d) == set(par.possible_agents)  # every agent that acted gets an entry
        assert all(o in par.observation_space(a) for a, o in obs.items())
    assert all(trunc.values()) and not any(term.values())
    assert par.agents == []
    aec = mod.env()
    assert isinstance(aec, pettingzoo.utils.wrappers.OrderEnforcingWrapper)
    raw = mod.raw_env()
    assert raw.metadata["name"] == name
    assert mod.parallel_env.__module__ == get_entry(env_id).module


@pytest.mark.parametrize("env_id", IDS)
def test_parallel_determinism_over_whole_episodes(env_id):
    """parallel_seed_test stops early; compare two equally seeded envs over three episodes."""

    def run(seed):
        env = module_of(env_id).parallel_env()
        rng = np.random.default_rng(seed)
        out = [env.reset(seed=seed)]
        for _ in range(3):
            while env.agents:
                out.append(env.step({a: int(rng.integers(env.action_space(a).n)) for a in env.agents}))
                out.append(env.state())
            out.append(env.reset())
        return out

    assert data_equivalence(run(5), run(5), exact=True)


def test_ipd_known_answers():
    from social_dilemmas.envs import ipd_v0

    env = ipd_v0.parallel_env()
    obs, _ = env.reset(seed=0)
    start = np.eye(5, dtype=np.float32)[START]
    np.testing.assert_array_equal(obs["player_0"], start)
    table = {(0, 0): (1.0, 1.0), (0, 1): (-1.0, 2.0), (1, 0): (2.0, -1.0), (1, 1): (0.0, 0.0)}
    seen = {(0, 0): (CC, CC), (0, 1): (CD, DC), (1, 0): (DC, CD), (1, 1): (DD, DD)}  # own action first
    for (a0, a1), (r0, r1) in table.items():
        obs, rew, *_ = env.step({"player_0": a0, "player_1": a1})
        assert (rew["player_0"], rew["player_1"]) == (r0, r1)
        o0, o1 = seen[(a0, a1)]
        np.testing.assert_array_equal(obs["player_0"], np.eye(5, dtype=np.float32)[o0])
        np.testing.assert_array_equal(obs["player_1"], np.eye(5, dtype=np.float32)[o1])
        np.testing.assert_array_equal(env.state(), np.eye(5, dtype=np.float32)[o0])  # player_0's view


def test_render_modes_and_errors(capsys):
    env = BatchedParallelEnv("IPD-v0", render_mode="ansi")
    with pytest.raises(RuntimeError, match="reset"):
        env.render()
    env.reset(seed=0)
    assert "start" in env.render()
    env.step({"player_0": 0, "player_1": 1})
    assert "defect" in env.render()
    env = BatchedParallelEnv("IPD-v0", render_mode="human")
    env.reset(seed=0)
    assert env.render() is None and "IPD-v0" in capsys.readouterr().out
    with pytest.raises(ValueError, match="render_mode"):
        BatchedParallelEnv("IPD-v0", render_mode="svg")
    frame = BatchedParallelEnv("IPD-v0", render_mode="rgb_array")
    frame.reset(seed=0)
    assert frame.render().shape == (144, 96, 3)
    env = BatchedParallelEnv("IPD-v0")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="render_mode"):
        assert env.render() is None


RGB_IDS = [i for i in IDS if "rgb_array" in make_game(i).render_modes]


@pytest.mark.parametrize("env_id", RGB_IDS)
def test_rgb_render_where_supported(env_id):
    env = module_of(env_id).parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3


def test_bad_input():
    with pytest.raises(ValueError, match="registered ids"):
        BatchedParallelEnv("Nope-v0")
    with pytest.raises(ValueError, match="registered ids"):
        module_factories("Nope-v0")
    with pytest.raises(ValueError, match="disagree"):
        BatchedParallelEnv("IPD-v0", max_cycles=3, max_steps=4)
    with pytest.raises(ValueError, match="max_cycles"):
        BatchedParallelEnv("IPD-v0", max_cycles=0)
    env = BatchedParallelEnv("IPD-v0", max_steps=1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({"player_0": 0, "player_1": 0})
    with pytest.raises(ValueError, match="seed"):
        env.reset(seed=-2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="missing \\['player_1'\\]"):
        env.step({"player_0": 0})
    with pytest.raises(ValueError, match="unexpected \\['player_9'\\]"):
        env.step({"player_0": 0, "player_1": 0, "player_9": 0})
    with pytest.raises(ValueError, match=r"action must be an integer in \[0, 2\)"):
        env.step({"player_0": 0, "player_1": 2})
    with pytest.raises(TypeError, match=r"action must be an integer in \[0, 2\)"):
        env.step({"player_0": 0.0, "player_1": 1})
    with pytest.raises(TypeError, match="dict"):
        env.step([0, 1])
    with pytest.raises(KeyError, match="unknown agent"):
        env.observation_space("player_7")
    env.step({"player_0": 0, "player_1": 0})
    with pytest.raises(RuntimeError, match="has ended"):
        env.step({"player_0": 0, "player_1": 0})
    aec = module_of("IPD-v0").env()
    aec.reset(seed=0)
    with pytest.raises(AssertionError):  # AssertOutOfBoundsWrapper
        aec.step(5)
