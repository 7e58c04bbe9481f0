"""The registry as data, and the shipped checkers run over EVERY registered id.

New games (the gridworlds...) are covered here automatically once they are registered.
"""

from __future__ import annotations

import re

import gymnasium as gym
import pytest
import torch

import social_dilemmas
from social_dilemmas import get_entry, make_batched, make_game, registered_ids
from social_dilemmas.coplayers.fixed import make_strategy
from social_dilemmas.registration import NAMESPACE, REGISTRY, shaping_id
from social_dilemmas.testing import (
    check_batch_invariance,
    check_determinism,
    check_game,
    default_devices,
)

IDS = registered_ids("game")


def test_the_matrix_games_are_registered():
    assert {
        "IPD-v0",
        "IteratedMatchingPennies-v0",
        "IteratedStagHunt-v0",
        "IteratedChicken-v0",
        "IteratedMatrixGame-v0",
    } <= set(IDS)
    assert list(REGISTRY) == registered_ids() == IDS + registered_ids("shaping")


def test_one_registry_holds_every_id_of_every_kind():
    shaping = registered_ids("shaping")
    assert shaping == [shaping_id(g) for g in IDS]  # every game has its meta-environment
    for env_id in registered_ids():
        entry = get_entry(env_id)
        assert entry.full_id in gym.registry, env_id  # every id is reachable from Gymnasium
        assert entry.kind in ("game", "shaping")
    entry = get_entry("social_dilemmas/IPD-Shaping-v0")
    assert entry.kind == "shaping" and entry.kwargs == {"game": "IPD-v0"} and entry.max_steps == 10
    assert gym.registry[entry.full_id].kwargs == {"game": "IPD-v0"}
    with pytest.raises(ValueError, match=r"IPD-Shaping-v0 is not a game id \(the shaping meta-environment of IPD-v0"):
        make_game("IPD-Shaping-v0")
    with pytest.raises(ValueError, match="kind must be None or one of"):
        registered_ids("games")


@pytest.mark.parametrize("env_id", IDS)
def test_entries_are_versioned_data(env_id):
    entry = get_entry(env_id)
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*(-[A-Za-z0-9]+)*-v\d+", entry.id)
    assert entry.full_id == f"{NAMESPACE}/{env_id}"
    assert get_entry(entry.full_id) is entry
    assert entry.description and ":" in entry.core
    assert isinstance(entry.max_steps, int) and entry.max_steps >= 1
    game = make_game(env_id)
    assert game.spec.max_steps == game.max_steps == entry.max_steps
    assert game.spec.name == env_id
    assert entry.full_id in gym.registry  # registered with Gymnasium at import
    # Gymnasium's time limit is the episode length (gym.make and make_vec, every mode).
    assert gym.registry[entry.full_id].max_episode_steps == entry.max_steps
    assert gym.registry[entry.full_id].kwargs == {"env_id": entry.id}


@pytest.mark.parametrize("env_id", IDS)
def test_the_default_opponent_resolves(env_id):
    entry = get_entry(env_id)
    spec = make_game(env_id).spec
    s = make_strategy(entry.default_opponent, spec.num_actions, int(torch.Size(spec.obs_shape).numel()))
    probs, _ = s.action_probs(torch.zeros(3, *spec.obs_shape), s.initial_memory(3, torch.device("cpu")))
    assert probs.shape == (3, spec.num_actions)


@pytest.mark.parametrize("env_id", IDS)
def test_kwargs_override_the_defaults(env_id):
    game = make_game(env_id, max_steps=3)
    assert game.max_steps == 3 and game.spec.max_steps == 3
    with pytest.raises(TypeError, match=rf"{re.escape(env_id)}: .*unexpected keyword argument 'no_such_option'"):
        make_game(env_id, no_such_option=1)


def test_unknown_id_lists_the_registered_ids():
    with pytest.raises(ValueError) as err:
        make_batched("IPD-v1", 4)
    msg = str(err.value)
    assert msg.startswith("unknown env id 'IPD-v1'; registered game ids: ")
    for env_id in IDS:
        assert env_id in msg
    with pytest.raises(ValueError, match=r"unknown env id 'social_dilemmas/Nope-v0'"):
        get_entry("social_dilemmas/Nope-v0")
    with pytest.raises(TypeError, match=r"env id must be a string, got 3"):
        make_game(3)


def test_make_batched_validates_its_batch_size():
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer in \[1, 2147483647\], got 0"):
        make_batched("IPD-v0", 0)


def test_make_batched_docstring_example():
    env = social_dilemmas.make_batched("IPD-v0", batch_size=4)
    assert env.reset(seed=0).shape == (4, 2, 5)
    out = env.step(torch.zeros(4, 2, dtype=torch.long))
    assert out.reward[0].tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------- checkers over the registry
@pytest.mark.parametrize("device", default_devices())
@pytest.mark.parametrize("env_id", IDS)
def test_every_registered_game_conforms(env_id, device):
    check_game(make_game(env_id, device=device), batch_size=8)
    check_game(make_game(env_id, device=device, max_steps=2), batch_size=1, steps=7)


@pytest.mark.parametrize("env_id", IDS)
def test_every_registered_game_declares_whether_it_is_stochastic(env_id):
    # check_determinism then also asserts that seeds matter (stochastic games) or do not.
    game = make_game(env_id)
    assert game.stochastic in (True, False), (
        f"{env_id}: set the class attribute `stochastic = True` (its dynamics draw from state.rng) or `False` "
        f"on {type(game).__name__}"
    )


@pytest.mark.parametrize("env_id", IDS)
def test_every_registered_game_is_deterministic(env_id):
    check_determinism(env_id, seed=0)
    check_determinism(env_id, seed=12345, batch_size=3)
    check_determinism(lambda: make_game(env_id, max_steps=3), seed=7)


@pytest.mark.parametrize("env_id", IDS)
def test_every_registered_game_is_batch_invariant(env_id):
    check_batch_invariance(env_id, seed=0, batch_sizes=(1, 7, 64))
    check_batch_invariance(env_id, seed=2**40, batch_sizes=(1, 3), episodes=1, single_runs=3)


@pytest.mark.gpu
@pytest.mark.parametrize("env_id", IDS)
def test_every_registered_game_is_the_same_on_cpu_and_cuda(env_id):
    check_batch_invariance(env_id, batch_sizes=(1, 7, 64), devices=("cpu", "cuda"))
