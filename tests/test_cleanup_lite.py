"""CleanUp-lite core: reference match, the paper's rules as known answers, properties, seeding, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from reference.cleanup_lite_reference import CleanUpLiteReference

import social_dilemmas
from social_dilemmas.core.rng import RNG, hash32
from social_dilemmas.envs.cleanup_lite import ACTIONS, CleanUpLite, CleanUpLiteState, prob_threshold
from social_dilemmas.testing import check_batch_invariance, check_determinism, check_game, check_reference_match

RIGHT, LEFT, UP, DOWN, ZAP, NOOP = range(6)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # (fixture: tests/conftest.py)


def make_state(game: CleanUpLite, p0, p1, *, apples=(), dirt=(), freeze=(0, 0), n: int = 1, seed: int = 0):
    """``n`` copies of one hand-made position; cells as (row, col), apples/dirt as rows."""
    h, w = game.height, game.width
    apple = torch.zeros(n, h, dtype=torch.bool)
    apple[:, list(apples)] = True
    dirty = torch.zeros(n, h, dtype=torch.bool)
    dirty[:, list(dirt)] = True
    pos = torch.tensor([[p0[0] * w + p0[1], p1[0] * w + p1[1]]] * n)
    return CleanUpLiteState(
        pos=pos,
        items=torch.stack((apple, dirty), 1),
        freeze=torch.tensor([list(freeze)] * n),
        t=torch.zeros(n, dtype=torch.int64),
        rng=RNG.from_seeds(torch.arange(n) + seed),
    )


def act(game, state, a0, a1, **kw):
    n = state.t.shape[0]
    return game.step(state, torch.tensor([[a0, a1]] * n), **kw)


def rc(game, cell: torch.Tensor) -> tuple[int, int]:
    return divmod(int(cell), game.width)


# ---------------------------------------------------------------------- reference match
VARIANTS = [
    {},
    {"freeze_includes_zap_step": False},  # CleanUpLite-v0's freeze
    {"shared_cell": "random", "distance": "chebyshev", "frozen_can_zap": True, "freeze_immediately": False,
     "freeze_includes_zap_step": False},
    {"height": 2, "width": 2, "max_steps": 10, "initial_dirt": 2, "distance": "euclidean", "zap_radius": 1.5},
    {"height": 4, "width": 5, "p_pollution": 0.8, "pollution_threshold": 2.5, "freeze_steps": 0, "apple_reward": 2.0,
     "freeze_includes_zap_step": False},
    {"p_zap": 1.0, "zap_radius": 3, "freeze_steps": 1},  # v1 with a one-step freeze: only the zap step's move
    {"height": 3, "width": 2, "max_steps": 20, "p_zap": 0.5, "freeze_steps": 2, "initial_dirt": 0,
     "shared_cell": "random"},
    {"height": 7, "width": 3, "max_steps": 12, "initial_dirt": 5},  # too big for the observation tables
]


@pytest.mark.parametrize("kwargs", VARIANTS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_matches_reference(kwargs):
    game = CleanUpLite(**kwargs)
    check_reference_match(game, lambda: CleanUpLiteReference(**kwargs), batch_size=4, steps=2 * game.max_steps + 3)


@given(
    height=st.integers(1, 4),
    width=st.integers(2, 4),
    p_pollution=st.sampled_from([0.0, 0.35, 0.7, 1.0]),
    threshold=st.sampled_from([0.5, 1.0, 3.0]),
    p_zap=st.sampled_from([0.0, 0.5, 0.9, 1.0]),
    zap_radius=st.sampled_from([0, 1, 1.5, 2, 3]),
    distance=st.sampled_from(["manhattan", "chebyshev", "euclidean"]),
    freeze_steps=st.integers(0, 3),
    shared_cell=st.sampled_from(["split", "random"]),
    frozen_can_zap=st.booleans(),
    freeze_immediately=st.booleans(),
    max_steps=st.integers(1, 8),
    seed=st.integers(0, 2**40),
    data=st.data(),
)
def test_matches_reference_on_generated_actions(
    height, width, p_pollution, threshold, p_zap, zap_radius, distance, freeze_steps, shared_cell,
    frozen_can_zap, freeze_immediately, max_steps, seed, data,
):
    """Hypothesis-chosen rules and action sequences (zap-heavy), crossing several autoresets."""
    kw = dict(
        height=height, width=width, p_pollution=p_pollution, pollution_threshold=threshold, p_zap=p_zap,
        zap_radius=zap_radius, distance=distance, freeze_steps=freeze_steps, shared_cell=shared_cell,
        frozen_can_zap=frozen_can_zap, freeze_immediately=freeze_immediately, max_steps=max_steps,
        initial_dirt=data.draw(st.integers(0, height), label="initial_dirt"),
        # both freeze readings; v1's needs the zap step to be frozen and at least one frozen step
        freeze_includes_zap_step=data.draw(st.booleans(), label="includes") and freeze_immediately and freeze_steps > 0,
    )
    steps = data.draw(st.integers(1, 3 * max_steps + 2), label="steps")
    action = st.sampled_from([RIGHT, LEFT, UP, DOWN, ZAP, ZAP, NOOP])
    acts = data.draw(st.lists(st.lists(action, min_size=6, max_size=6), min_size=steps, max_size=steps))
    actions = np.asarray(acts).reshape(steps, 3, 2)
    check_reference_match(CleanUpLite(**kw), lambda: CleanUpLiteReference(**kw), batch_size=3, seed=seed,
                          actions=actions)


@pytest.mark.parametrize("kwargs", [{}, {"height": 2, "width": 3}, {"height": 1, "width": 2, "initial_dirt": 1}])
def test_observation_tables_match_one_hot_pieces(kwargs):
    """The embedding-bag observation of small grids equals the general one-hot construction."""
    g = CleanUpLite(**kwargs)
    assert g._obs_tables is not None
    state, _ = g.reset(torch.arange(300))
    for _ in range(15):
        state, _ = g.step(state, torch.randint(0, 6, (300, 2), generator=torch.Generator().manual_seed(1)))
    fast = g.observe(state)
    g._obs_tables = None
    assert torch.equal(fast, g.observe(state))


# ---------------------------------------------------------------------- the paper's numbers
def test_defaults_are_the_papers():
    g = CleanUpLite()
    assert (g.height, g.width, g.max_steps) == (5, 4, 64)
    assert (g.p_pollution, g.pollution_threshold, g.p_zap, g.zap_radius) == (0.35, 3.0, 0.9, 2.0)
    assert (g.freeze_steps, g.initial_dirt, g.apple_reward) == (5, 3, 1.0)
    assert CleanUpLite(height=2).initial_dirt == 2 and CleanUpLite(height=2, initial_dirt=0).initial_dirt == 0
    assert g.spec.obs_shape == (102,) and g.spec.num_actions == 6
    assert g.spec.action_meanings == ("right", "left", "up", "down", "zap", "noop") == ACTIONS
    assert [g.p_apple(d) for d in range(6)] == pytest.approx([1, 2 / 3, 1 / 3, 0, 0, 0])
    assert g.thr_apple[0] == 1 << 24 and g.thr_apple[3] == 0
    assert prob_threshold(0.35) == round(0.35 * 2**24)


def test_start_state():
    g = CleanUpLite()
    n = 20000
    state, obs = g.reset(torch.arange(n))
    assert state.dirt.sum(1).eq(3).all() and not state.apple.any() and state.freeze.eq(0).all()
    assert (state.pos[:, 0] != state.pos[:, 1]).all()
    assert (state.dirt.float().mean(0) - 3 / 5).abs().max() < 0.02  # every river row equally likely
    for k in range(2):
        freq = torch.bincount(state.pos[:, k], minlength=20).float() / n
        assert (freq - 1 / 20).abs().max() < 0.01
    assert obs.shape == (n, 2, 102)


def test_pollution_and_regrowth_rates():
    """Dirt appears with p=0.35; apples with p = 1 - dirt/3 (counted after the new dirt)."""
    n = 40000
    for dirt_rows, p_apple_given in [((), [1.0, 2 / 3]), ((0,), [2 / 3, 1 / 3]), ((0, 1), [1 / 3, 0.0])]:
        g = CleanUpLite()
        state = make_state(g, (2, 1), (2, 2), dirt=dirt_rows, n=n)  # nobody on the orchard or river
        nxt, out = act(g, state, NOOP, NOOP)
        new_dirt = out.metrics["pollution"] - len(dirt_rows)
        assert abs(new_dirt.mean().item() - 0.35) < 0.01
        for spawned, p in zip((0, 1), p_apple_given):
            sel = new_dirt == spawned
            assert abs(out.metrics["apples"][sel].mean().item() - p) < 0.015


def test_no_regrowth_when_polluted():
    g = CleanUpLite(p_pollution=0.0)
    state = make_state(g, (2, 1), (2, 2), dirt=(0, 1, 2), n=500)
    for _ in range(10):
        state, out = act(g, state, NOOP, NOOP)
        assert out.metrics["apples"].eq(0).all() and out.metrics["pollution"].eq(3).all()


def test_regrowth_fills_a_clean_orchard():
    g = CleanUpLite(p_pollution=0.0, initial_dirt=0)
    state = make_state(g, (2, 1), (2, 2), n=8)
    for k in range(1, 8):
        state, out = act(g, state, NOOP, NOOP)
        assert out.metrics["apples"].eq(min(k, 5)).all()


# ---------------------------------------------------------------------- harvest and cleaning
def test_harvest_happens_on_the_cell_stood_on_at_the_start_of_a_step():
    g = CleanUpLite(p_pollution=0.0)
    state = make_state(g, (0, 1), (4, 2), apples=(0,), dirt=(0, 1, 2))  # polluted: nothing regrows
    state, out = act(g, state, LEFT, NOOP)  # walks onto the apple: not eaten yet
    assert out.reward.tolist() == [[0.0, 0.0]] and rc(g, state.pos[0, 0]) == (0, 0)
    state, out = act(g, state, RIGHT, NOOP)  # eats it, then walks away
    assert out.reward.tolist() == [[1.0, 0.0]] and out.metrics["harvested"].tolist() == [[1.0, 0.0]]
    assert out.metrics["apples"].item() == 0 and not state.apple.any()


def test_cleaning():
    g = CleanUpLite(p_pollution=0.0)
    state = make_state(g, (1, 3), (4, 1), dirt=(1, 3))
    state, out = act(g, state, NOOP, NOOP)
    assert out.metrics["cleaned"].tolist() == [[1.0, 0.0]] and out.metrics["pollution"].item() == 1
    assert out.reward.tolist() == [[0.0, 0.0]]  # cleaning is not rewarded
    assert state.dirt[0].tolist() == [False, False, False, True, False]


@pytest.mark.parametrize("rule", ["split", "random"])
def test_shared_apple(rule):
    g = CleanUpLite(p_pollution=0.0, shared_cell=rule)
    n = 4000
    state = make_state(g, (2, 0), (2, 0), apples=(2,), dirt=(0, 1, 3), n=n)
    state, out = act(g, state, NOOP, NOOP)
    assert out.reward.sum(1).eq(1).all()  # one apple, eaten once
    if rule == "split":
        assert out.reward.eq(0.5).all()
    else:
        assert out.reward.eq(0).logical_or(out.reward.eq(1)).all()
        assert abs(out.reward[:, 0].mean().item() - 0.5) < 0.03


# ---------------------------------------------------------------------- zapping
@pytest.mark.parametrize(
    "distance, zapper, other, hit",
    [
        ("manhattan", (2, 1), (2, 3), True),  # 2 away
        ("manhattan", (2, 1), (3, 2), True),  # 1 + 1
        ("manhattan", (2, 1), (3, 3), False),  # 1 + 2
        ("chebyshev", (2, 1), (3, 3), True),  # max(1, 2)
        ("chebyshev", (0, 0), (3, 3), False),
        ("euclidean", (2, 1), (3, 3), False),  # sqrt 5 > 2
        ("euclidean", (2, 1), (4, 1), True),  # exactly 2
    ],
)
def test_zap_range(distance, zapper, other, hit):
    g = CleanUpLite(p_zap=1.0, p_pollution=0.0, distance=distance)
    state = make_state(g, zapper, other, dirt=(0, 1, 2, 3, 4))
    state, out = act(g, state, ZAP, NOOP)
    assert out.metrics["zaps_given"].tolist() == [[float(hit), 0.0]]
    assert out.metrics["zaps_received"].tolist() == [[0.0, float(hit)]]
    assert out.metrics["zap_attempts"].tolist() == [[1.0, 0.0]]
    assert state.freeze.tolist() == [[0, 4 if hit else 0]]  # v1: the zap step was the first of 5 frozen steps


def test_zap_success_rate():
    g = CleanUpLite()
    state = make_state(g, (2, 1), (2, 2), n=20000)
    _, out = act(g, state, ZAP, ZAP)
    rate = out.metrics["zaps_given"].mean(0)
    assert (rate - 0.9).abs().max() < 0.01
    # both zaps are resolved on the state before them, independently
    both = out.metrics["zaps_given"].prod(1).mean().item()
    assert abs(both - 0.81) < 0.015


@pytest.mark.parametrize(
    "immediately, includes, no_move_steps",
    [(True, True, 5), (True, False, 6), (False, False, 5)],
    ids=["v1-literal", "v0", "v0-move-in-zap-step"],
)
def test_freeze_timeline(immediately, includes, no_move_steps):
    """Hit at step 0. v1 (the paper's "frozen for 5 steps" counted from the zap step): no
    move in steps 0..4, actions ignored in 1..4, moves at step 5. v0: no move in 0 and
    actions ignored in 1..5 (6 steps without a move); with ``freeze_immediately=False`` it
    moves in step 0. The own/other flag is seen exactly before the ignored steps."""
    g = CleanUpLite(p_zap=1.0, p_pollution=0.0, freeze_immediately=immediately, freeze_includes_zap_step=includes)
    state = make_state(g, (2, 1), (2, 2), apples=(4,), dirt=(0, 1, 2, 3, 4))
    start = state.pos[0, 1].item()
    state, out = act(g, state, ZAP, DOWN)  # player 1 tries to walk to the apple row
    assert out.metrics["zaps_given"].tolist() == [[1.0, 0.0]]
    moved = [state.pos[0, 1].item() != start]
    ignored = 0
    while out.obs[0, 1, 100].item() == 1:
        assert out.obs[0, 0, 101].item() == 1  # the other's flag, seen by player 0
        here = state.pos[0, 1].item()
        state, out = act(g, state, NOOP, DOWN)
        assert out.metrics["frozen"].tolist() == [[0.0, 1.0]] and state.pos[0, 1].item() == here
        moved.append(False)
        ignored += 1
    here = state.pos[0, 1].item()
    state, out = act(g, state, NOOP, DOWN)  # free again: the move happens
    assert state.pos[0, 1].item() == here + g.width and out.metrics["frozen"].tolist() == [[0.0, 0.0]]
    assert moved.count(False) == no_move_steps
    assert ignored == (4 if includes else 5)
    assert moved[0] == (not immediately)


def test_v1_freeze_equals_v0_with_one_step_less():
    """Counting the zap step as frozen is v0's rule with ``freeze_steps - 1``: same trajectories."""
    for k in (1, 2, 5):
        v1 = CleanUpLite(freeze_steps=k, p_zap=0.9)
        v0 = CleanUpLite(freeze_steps=k - 1, freeze_includes_zap_step=False, p_zap=0.9)
        gen = torch.Generator().manual_seed(k)
        s1, o1 = v1.reset(torch.arange(64))
        s0, o0 = v0.reset(torch.arange(64))
        zapped = 0.0
        for _ in range(40):
            a = torch.randint(0, 6, (64, 2), generator=gen)
            a = torch.where(torch.rand(64, 2, generator=gen) < 0.5, ZAP, a)  # zap-heavy
            s1, out1 = v1.step(s1, a)
            s0, out0 = v0.step(s0, a)
            assert torch.equal(out1.obs, out0.obs) and torch.equal(out1.reward, out0.reward)
            zapped += out1.metrics["zaps_received"].sum().item()
        assert zapped > 0


def test_v0_and_v1_registered_with_their_freeze():
    v0, v1 = social_dilemmas.make_game("CleanUpLite-v0"), social_dilemmas.make_game("CleanUpLite-v1")
    assert (v0.freeze_includes_zap_step, v1.freeze_includes_zap_step) == (False, True)
    assert v0.freeze_steps == v1.freeze_steps == 5 and (v0.freeze_after_hit, v1.freeze_after_hit) == (5, 4)
    assert (v0.spec.name, v1.spec.name) == ("CleanUpLite-v0", "CleanUpLite-v1")
    assert CleanUpLite().freeze_includes_zap_step  # the core's default is the paper's reading


def test_frozen_player_is_not_zapped_again_and_does_not_harvest():
    g = CleanUpLite(p_zap=1.0, p_pollution=0.0)
    state = make_state(g, (2, 0), (3, 0), apples=(3,), dirt=(0, 1, 2), freeze=(0, 2))
    state, out = act(g, state, ZAP, ZAP)  # player 1 frozen: cannot zap, cannot be zapped
    assert out.metrics["zaps_given"].tolist() == [[0.0, 0.0]] and out.metrics["zap_attempts"].tolist() == [[1.0, 0.0]]
    assert out.reward.tolist() == [[0.0, 0.0]] and state.apple[0, 3]  # the apple under it stays
    assert state.freeze.tolist() == [[0, 1]]  # not extended
    state, out = act(g, state, NOOP, NOOP)
    state, out = act(g, state, NOOP, NOOP)  # free: now it eats
    assert out.reward.tolist() == [[0.0, 1.0]]


def test_frozen_player_may_zap_when_allowed():
    g = CleanUpLite(p_zap=1.0, p_pollution=0.0, frozen_can_zap=True)
    state = make_state(g, (2, 1), (2, 2), dirt=(0, 1, 2), freeze=(3, 0))
    state, out = act(g, state, NOOP, NOOP)
    state, out = act(g, state, ZAP, NOOP)
    assert out.metrics["zaps_given"].tolist() == [[1.0, 0.0]] and state.freeze.tolist() == [[1, 4]]


def test_simultaneous_zaps_freeze_both():
    g = CleanUpLite(p_zap=1.0, p_pollution=0.0)
    state = make_state(g, (2, 1), (2, 2), dirt=(0, 1, 2))
    state, out = act(g, state, ZAP, ZAP)
    assert out.metrics["zaps_given"].tolist() == [[1.0, 1.0]] and state.freeze.tolist() == [[4, 4]]


def test_walls_and_shared_cells():
    g = CleanUpLite(p_pollution=0.0)
    state = make_state(g, (0, 0), (0, 1), dirt=(0, 1, 2))
    state, _ = act(g, state, UP, LEFT)  # player 0 bumps into the top wall; player 1 joins it
    assert state.pos.tolist() == [[0, 0]]
    state, _ = act(g, state, LEFT, DOWN)
    assert state.pos.tolist() == [[0, 4]]


# ---------------------------------------------------------------------- properties
def _random_run(game, seed, steps, n=24):
    state, obs = game.reset(torch.arange(n) + seed)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        actions = torch.randint(0, 6, (n, 2), generator=gen)
        prev = state
        state, out = game.step(state, actions)
        yield prev, actions, state, out


@given(
    seed=st.integers(0, 2**31),
    height=st.integers(1, 6),
    width=st.integers(2, 5),
    p_pollution=st.floats(0, 1),
    shared=st.sampled_from(["split", "random"]),
)
def test_invariants(seed, height, width, p_pollution, shared):
    g = CleanUpLite(height=height, width=width, p_pollution=p_pollution, shared_cell=shared, max_steps=9)
    c = g.num_cells
    for prev, _actions, state, out in _random_run(g, seed, 20):
        for obs in (out.obs, out.final_obs):
            grid = obs[:, :, 2 * c : 5 * c].reshape(-1, 2, g.height, g.width, 3)
            assert grid.sum(-1).eq(1).all()  # one object type per cell
            assert grid[..., 1:-1, 1].eq(0).all() and grid[..., :, -1, 1].eq(0).all()  # apples: orchard only
            assert grid[..., :, :-1, 2].eq(0).all()  # dirt: river only
            assert obs[:, :, : 2 * c].sum(-1).eq(2).all()
        # never more dirt than river cells, or apples than orchard cells
        assert out.metrics["pollution"].le(g.height).all() and out.metrics["apples"].le(g.height).all()
        assert torch.equal(out.reward, out.metrics["harvested"] * g.apple_reward)
        # a frozen player does not move, harvest, clean or zap
        frozen = out.metrics["frozen"].bool()
        ok = ~out.done.unsqueeze(1)  # positions after an autoreset are a new episode's
        assert (state.pos == prev.pos)[frozen & ok].all()
        for k in ("harvested", "cleaned", "zaps_given", "zap_attempts"):
            assert out.metrics[k][frozen].eq(0).all()
        # apples: at most one new, and every eaten one disappears
        eaten = out.metrics["harvested"].sum(1)
        before = prev.apple.sum(1).float()
        assert (out.metrics["apples"] <= before + 1 - eaten).all() and (out.metrics["apples"] >= before - eaten).all()
        # with P_threshold dirt after the spawn nothing grows
        polluted = out.metrics["pollution"] + out.metrics["cleaned"].sum(1) >= g.pollution_threshold
        assert (out.metrics["apples"] <= before - eaten)[polluted].all()


@given(seed=st.integers(0, 2**31), p_zap=st.sampled_from([0.0, 1.0]), radius=st.sampled_from([1, 2, 4]))
def test_swapping_players_swaps_everything(seed, p_zap, radius):
    """The game is symmetric: the mirrored game (players swapped) under swapped actions gives
    swapped rewards, observations and metrics (zaps deterministic, shared cells split)."""
    g = CleanUpLite(p_zap=p_zap, zap_radius=radius)
    n = 16
    state, _ = g.reset(torch.arange(n) + seed)
    mirror = dataclasses.replace(state, pos=state.pos.flip(1), freeze=state.freeze.flip(1))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(20):
        actions = torch.randint(0, 6, (n, 2), generator=gen)
        state, out = g.step(state, actions)
        mirror, mout = g.step(mirror, actions.flip(1))
        assert torch.equal(out.reward, mout.reward.flip(1))
        done = out.done
        assert torch.equal(out.obs[~done], mout.obs[~done].flip(1))
        for k, v in out.metrics.items():
            assert torch.equal(v, mout.metrics[k].flip(1) if v.dim() == 2 else mout.metrics[k])
        # after an autoreset both start the same new episode: mirror it again
        mirror = dataclasses.replace(
            mirror,
            pos=torch.where(done.unsqueeze(1), state.pos.flip(1), mirror.pos),
            freeze=torch.where(done.unsqueeze(1), state.freeze.flip(1), mirror.freeze),
        )


# ---------------------------------------------------------------------- seeding
def test_shipped_checks():
    check_game(CleanUpLite(max_steps=6))
    check_game(CleanUpLite(height=2, width=3, max_steps=4, shared_cell="random"))
    check_determinism(lambda device="cpu": CleanUpLite(max_steps=8, device=device))
    check_batch_invariance(lambda device="cpu": CleanUpLite(max_steps=8, device=device), single_runs=6)


def _hash_actions(seeds: torch.Tensor, t: int) -> torch.Tensor:
    return hash32(seeds.view(-1, 1), t, torch.arange(2).view(1, -1), 0xC1EA) % 6


def test_same_trajectory_in_batch_of_1_and_65536():
    """Sub-env i of a batch of 65536 seeded s replays a batch of 1 seeded s + i (crossing resets)."""
    game = CleanUpLite(max_steps=5)
    big = torch.arange(65536) + 77
    picks = [0, 3, 12345, 40000, 65535]
    state, obs = game.reset(big)
    trace = [obs[picks]]
    for t in range(12):
        state, out = game.step(state, _hash_actions(big, t), validate=False)
        trace += [out.obs[picks], out.reward[picks], out.final_obs[picks]]
        trace += [out.metrics[k][picks] for k in sorted(out.metrics)]
    for j, i in enumerate(picks):
        s1, o1 = game.reset(big[i : i + 1])
        single = [o1]
        for t in range(12):
            s1, out = game.step(s1, _hash_actions(big[i : i + 1], t))
            single += [out.obs, out.reward, out.final_obs]
            single += [out.metrics[k] for k in sorted(out.metrics)]
        for a, b in zip(trace, single):
            assert torch.equal(a[j], b[0])


def test_registered_and_made():
    assert {"CleanUpLite-v0", "CleanUpLite-v1"} <= set(social_dilemmas.registered_ids())
    env = social_dilemmas.make_batched("CleanUpLite-v0", batch_size=3)
    assert isinstance(env.game, CleanUpLite) and env.game.max_steps == 64
    obs = env.reset(seed=0)
    assert obs.shape == (3, 2, 102) and obs.dtype == torch.float32
    out = env.step(torch.full((3, 2), NOOP))
    shapes = {k: tuple(v.shape) for k, v in out.metrics.items()}
    assert shapes == {
        "harvested": (3, 2), "cleaned": (3, 2), "zaps_given": (3, 2), "zaps_received": (3, 2),
        "zap_attempts": (3, 2), "frozen": (3, 2), "pollution": (3,), "apples": (3,),
    }
    assert all(v.dtype == torch.float32 for v in out.metrics.values())


def test_rendering():
    g = CleanUpLite()
    state = make_state(g, (0, 0), (0, 0), apples=(0, 4), dirt=(1,), freeze=(0, 3))
    text = g.render_ansi(state)
    assert "a01z" in text and "#" in text and "player_1 frozen 3" in text
    img = g.render_rgb(state)
    assert img.shape == (160, 128, 3) and img.dtype == np.uint8


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"width": 1}, ValueError, ["width", "orchard", "river"]),
        ({"height": 0}, ValueError, ["height"]),
        ({"height": 2.0}, TypeError, ["height"]),
        ({"p_pollution": 1.5}, ValueError, ["p_pollution", "[0, 1]"]),
        ({"p_pollution": -0.1}, ValueError, ["p_pollution"]),
        ({"p_zap": float("nan")}, ValueError, ["p_zap"]),
        ({"p_zap": "high"}, TypeError, ["p_zap"]),
        ({"freeze_steps": -1}, ValueError, ["freeze_steps", "non-negative"]),
        ({"freeze_steps": 2.5}, TypeError, ["freeze_steps"]),
        ({"max_steps": 0}, ValueError, ["max_steps"]),
        ({"max_steps": -64}, ValueError, ["max_steps"]),
        ({"pollution_threshold": 0}, ValueError, ["pollution_threshold"]),
        ({"zap_radius": -1}, ValueError, ["zap_radius"]),
        ({"initial_dirt": 6}, ValueError, ["initial_dirt", "height"]),
        ({"initial_dirt": -1}, ValueError, ["initial_dirt"]),
        ({"distance": "taxicab"}, ValueError, ["distance", "manhattan"]),
        ({"shared_cell": "both"}, ValueError, ["shared_cell", "split"]),
        ({"frozen_can_zap": "no"}, TypeError, ["frozen_can_zap"]),
        ({"freeze_includes_zap_step": 1}, TypeError, ["freeze_includes_zap_step"]),
        ({"freeze_immediately": False}, ValueError, ["freeze_includes_zap_step", "freeze_immediately=True"]),
        ({"freeze_steps": 0}, ValueError, ["freeze_steps", ">= 1", "freeze_includes_zap_step=False"]),
        ({"apple_reward": float("inf")}, ValueError, ["apple_reward"]),
    ],
)
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc) as e:
        CleanUpLite(**kwargs)
    for w in words:
        assert w in str(e.value)


def test_bad_arguments_through_the_registry():
    with pytest.raises(ValueError, match="p_zap"):
        social_dilemmas.make_batched("CleanUpLite-v0", batch_size=2, p_zap=2)
    with pytest.raises(TypeError, match="CleanUpLite-v0"):
        social_dilemmas.make_game("CleanUpLite-v0", colour="red")


def test_bad_actions():
    g = CleanUpLite()
    state, _ = g.reset([0, 1])
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        g.step(state, torch.tensor([[0, 6], [0, 0]]))
    with pytest.raises(ValueError, match="shape"):
        g.step(state, torch.zeros(3, 2, dtype=torch.long))
