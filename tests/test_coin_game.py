"""The coin game core: reference match, known answers, symmetry, conservation, seeding, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from reference.coin_game_reference import CoinGameReference

import social_dilemmas
from social_dilemmas.core.rng import RNG, hash32
from social_dilemmas.envs.coin_game import CoinGame, CoinGameState
from social_dilemmas.testing import check_batch_invariance, check_determinism, check_game, check_reference_match

RIGHT, LEFT, UP, DOWN, STAY = range(5)
RED, BLUE = 0, 1


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # (fixture: tests/conftest.py)


def cell(rc: tuple[int, int], g: int = 3) -> int:
    return rc[0] * g + rc[1]


def make_state(game: CoinGame, red, blue, coin, colour, *, n: int = 1, seed: int = 0) -> CoinGameState:
    """A batch of ``n`` copies of one hand-made position (cells as (row, col))."""
    g = game.grid_size
    col = lambda v: torch.full((n,), v, dtype=torch.int64)  # noqa: E731
    return CoinGameState(
        pos=torch.stack((col(cell(red, g)), col(cell(blue, g))), 1),
        coin=col(cell(coin, g)),
        colour=col(colour),
        t=col(0),
        rng=RNG.from_seeds(torch.arange(n) + seed),
    )


def step_once(game: CoinGame, state: CoinGameState, a_red: int, a_blue: int):
    n = state.t.shape[0]
    actions = torch.tensor([[a_red, a_blue]] * n)
    return game.step(state, actions)


# ---------------------------------------------------------------------- reference match
VARIANTS = [
    {},
    {"wrap": False},
    {"grid_size": 4, "noop_action": True, "new_coin_colour": "random"},
    {"grid_size": 2, "max_steps": 5},
    {"reward_own": 2.0, "reward_other": 0.5, "penalty": -3.0, "wrap": False, "noop_action": True},
]


@pytest.mark.parametrize("kwargs", VARIANTS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "default")
def test_matches_reference(kwargs):
    check_reference_match(CoinGame(**kwargs), lambda: CoinGameReference(**kwargs), batch_size=5, steps=3 * 16 + 3)


@given(
    grid_size=st.integers(2, 4),
    wrap=st.booleans(),
    noop=st.booleans(),
    colour=st.sampled_from(["alternate", "random"]),
    max_steps=st.integers(1, 6),
    seed=st.integers(0, 2**40),
    data=st.data(),
)
def test_matches_reference_on_generated_actions(grid_size, wrap, noop, colour, max_steps, seed, data):
    """Hypothesis-chosen action sequences, crossing several autoresets (short episodes)."""
    kw = dict(grid_size=grid_size, wrap=wrap, noop_action=noop, new_coin_colour=colour, max_steps=max_steps)
    num_actions = 5 if noop else 4
    steps = data.draw(st.integers(1, 3 * max_steps + 2), label="steps")
    acts = data.draw(
        st.lists(st.lists(st.integers(0, num_actions - 1), min_size=6, max_size=6), min_size=steps, max_size=steps),
        label="actions",
    )
    actions = np.asarray(acts).reshape(steps, 3, 2)
    check_reference_match(CoinGame(**kw), lambda: CoinGameReference(**kw), batch_size=3, seed=seed, actions=actions)


# ---------------------------------------------------------------------- known answers
# Each row of the table on the documentation page (coin_game_v0): red, blue, coin, colour,
# actions, expected rewards with wrap=True and wrap=False.
KNOWN = [
    ((0, 0), (2, 2), (0, 1), RED, (RIGHT, LEFT), (1, 0), (1, 0)),  # red takes its own coin
    ((0, 0), (2, 2), (0, 1), BLUE, (RIGHT, LEFT), (1, -2), (1, -2)),  # red takes blue's coin
    ((0, 0), (0, 2), (0, 1), RED, (RIGHT, LEFT), (-1, 1), (-1, 1)),  # tie on red's coin
    ((0, 0), (0, 2), (0, 1), BLUE, (RIGHT, LEFT), (1, -1), (1, -1)),  # tie on blue's coin
    ((0, 0), (1, 1), (0, 2), RED, (LEFT, RIGHT), (1, 0), (0, 0)),  # red wraps onto its coin
    ((2, 1), (1, 1), (0, 1), BLUE, (DOWN, UP), (1, -1), (0, 1)),  # wrap makes a tie
    ((1, 1), (2, 2), (0, 0), RED, (UP, UP), (0, 0), (0, 0)),  # nobody reaches the coin
]


@pytest.mark.parametrize("wrap", [True, False])
@pytest.mark.parametrize("row", KNOWN, ids=[f"row{i}" for i in range(len(KNOWN))])
def test_known_answers(row, wrap):
    red, blue, coin, colour, (a_red, a_blue), with_wrap, without_wrap = row
    game = CoinGame(wrap=wrap)
    state = make_state(game, red, blue, coin, colour, n=4)
    nxt, out = step_once(game, state, a_red, a_blue)
    expected = with_wrap if wrap else without_wrap
    assert out.reward.tolist() == [list(map(float, expected))] * 4
    took = (out.metrics["own_coin"] + out.metrics["other_coin"]).sum(1)
    if expected == (0, 0):
        assert took.eq(0).all()
        assert nxt.coin.eq(cell(coin)).all() and nxt.colour.eq(colour).all()
    else:
        # a new coin of the other colour, never under a player
        assert nxt.colour.eq(1 - colour).all()
        assert (nxt.coin != nxt.pos[:, 0]).all() and (nxt.coin != nxt.pos[:, 1]).all()


def test_moves_and_walls():
    g = CoinGame(wrap=False, noop_action=True)
    torus = CoinGame(wrap=True, noop_action=True)
    state = make_state(g, (0, 0), (2, 2), (1, 1), RED)
    for a, on_torus, walled in [
        (UP, (2, 0), (0, 0)),
        (LEFT, (0, 2), (0, 0)),
        (RIGHT, (0, 1), (0, 1)),
        (DOWN, (1, 0), (1, 0)),
        (STAY, (0, 0), (0, 0)),
    ]:
        assert int(step_once(torus, state, a, STAY)[0].pos[0, 0]) == cell(on_torus)
        assert int(step_once(g, state, a, STAY)[0].pos[0, 0]) == cell(walled)


def test_ties_are_symmetric_between_colours():
    """Swapping the players and the coin colour swaps the outcome of a contested coin."""
    game = CoinGame()
    for colour in (RED, BLUE):
        a = step_once(game, make_state(game, (0, 0), (0, 2), (0, 1), colour), RIGHT, LEFT)[1]
        b = step_once(game, make_state(game, (0, 2), (0, 0), (0, 1), 1 - colour), LEFT, RIGHT)[1]
        assert a.reward.flip(1).tolist() == b.reward.tolist()
        for k in ("own_coin", "other_coin"):
            assert a.metrics[k].flip(1).tolist() == b.metrics[k].tolist()


def test_outcome_table_is_the_rule():
    t = CoinGame().outcome_table()
    # code = picked0 + 2 * picked1 + 4 * colour -> (r0, r1, own0, own1, other0, other1)
    assert t[0].tolist() == [0, 0, 0, 0, 0, 0]
    assert t[1].tolist() == [1, 0, 1, 0, 0, 0]  # red takes red
    assert t[2].tolist() == [-2, 1, 0, 0, 0, 1]  # blue takes red
    assert t[3].tolist() == [-1, 1, 1, 0, 0, 1]  # both take red
    assert t[5].tolist() == [1, -2, 0, 0, 1, 0]  # red takes blue
    assert t[7].tolist() == [1, -1, 0, 1, 1, 0]  # both take blue


def test_observation_layout():
    game = CoinGame()
    state = make_state(game, (0, 0), (2, 2), (1, 2), BLUE)
    obs = game.observe(state)[0]
    red_view, blue_view = obs[0].view(4, 9), obs[1].view(4, 9)
    assert red_view[0].nonzero().item() == 0 and red_view[1].nonzero().item() == 8
    assert red_view[2].sum() == 0 and red_view[3].nonzero().item() == 5  # blue coin = the other's
    assert blue_view[0].nonzero().item() == 8 and blue_view[1].nonzero().item() == 0
    assert blue_view[2].nonzero().item() == 5 and blue_view[3].sum() == 0  # blue coin = own
    assert torch.equal(game.global_state(state)[0], obs[0])


@pytest.mark.parametrize("grid_size", [3, 4])
def test_table_and_scatter_observations_agree(grid_size):
    game = CoinGame(grid_size=grid_size)
    state, _ = game.reset(torch.arange(64))
    reference = torch.zeros(64, 2, 4 * game.num_cells)
    for i in range(64):
        p0, p1, coin, colour = int(state.pos[i, 0]), int(state.pos[i, 1]), int(state.coin[i]), int(state.colour[i])
        for me, (a, b) in enumerate(((p0, p1), (p1, p0))):
            reference[i, me, a] = reference[i, me, game.num_cells + b] = 1
            plane = 2 if colour == me else 3
            reference[i, me, plane * game.num_cells + coin] = 1
    assert torch.equal(game.observe(state), reference)


# ---------------------------------------------------------------------- properties
def _random_run(game: CoinGame, seed: int, steps: int, n: int = 32):
    state, obs = game.reset(torch.arange(n) + seed)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        actions = torch.randint(0, game.spec.num_actions, (n, 2), generator=gen)
        prev = state
        state, out = game.step(state, actions)
        yield prev, actions, state, out


@given(seed=st.integers(0, 2**31), wrap=st.booleans(), colour=st.sampled_from(["alternate", "random"]))
def test_coins_are_conserved(seed, wrap, colour):
    game = CoinGame(wrap=wrap, new_coin_colour=colour, max_steps=7)
    for prev, _actions, state, out in _random_run(game, seed, 20):
        # exactly one coin, never under a player, in every observation
        assert out.obs[:, :, 18:].sum(-1).eq(1).all() and out.final_obs[:, :, 18:].sum(-1).eq(1).all()
        assert ((state.coin != state.pos[:, 0]) & (state.coin != state.pos[:, 1])).all()
        took = out.metrics["own_coin"] + out.metrics["other_coin"]  # [N, 2]
        assert took.le(1).all()
        # rewards are exactly the rule: +1 per taker, -2 to the owner per other-colour taking
        assert torch.equal(out.reward.sum(1), took.sum(1) - 2 * out.metrics["other_coin"].sum(1))
        # a coin that was taken is replaced (episode ends aside): a new one appears
        moved = ~out.done & took.sum(1).gt(0)
        if colour == "alternate":
            assert (state.colour[moved] == 1 - prev.colour[moved]).all()


@given(seed=st.integers(0, 2**31), wrap=st.booleans())
def test_swapping_players_swaps_everything(seed, wrap):
    """Run a game and its mirror (players and colours swapped) under swapped actions."""
    game = CoinGame(wrap=wrap)
    n = 16
    state, _ = game.reset(torch.arange(n) + seed)
    mirror = dataclasses.replace(state, pos=state.pos.flip(1), colour=1 - state.colour)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(12):
        actions = torch.randint(0, 4, (n, 2), generator=gen)
        state, out = game.step(state, actions, autoreset=False)
        mirror, mout = game.step(mirror, actions.flip(1), autoreset=False)
        assert torch.equal(out.reward, mout.reward.flip(1))
        assert torch.equal(out.obs, mout.obs.flip(1))
        for k in out.metrics:
            assert torch.equal(out.metrics[k], mout.metrics[k].flip(1))


def test_start_state_distribution():
    game = CoinGame()
    state, obs = game.reset(torch.arange(20000))
    assert (state.pos[:, 0] != state.pos[:, 1]).all()
    assert ((state.coin != state.pos[:, 0]) & (state.coin != state.pos[:, 1])).all()
    assert abs(state.colour.float().mean().item() - 0.5) < 0.02
    for k in range(2):
        freq = torch.bincount(state.pos[:, k], minlength=9).float() / 20000
        assert (freq - 1 / 9).abs().max() < 0.02
    freq = torch.bincount(state.coin, minlength=9).float() / 20000
    assert (freq - 1 / 9).abs().max() < 0.02


# ---------------------------------------------------------------------- seeding
def test_shipped_checks():
    check_game(CoinGame(max_steps=5))
    check_game(CoinGame(grid_size=4, wrap=False, noop_action=True, max_steps=5))
    check_determinism(lambda device="cpu": CoinGame(max_steps=6, device=device))
    check_batch_invariance(lambda device="cpu": CoinGame(max_steps=6, device=device))


def _hash_actions(seeds: torch.Tensor, t: int, num_actions: int) -> torch.Tensor:
    return hash32(seeds.view(-1, 1), t, torch.arange(2).view(1, -1), 0xC01) % num_actions


def test_same_trajectory_in_batch_of_1_and_65536():
    """Sub-env i of a batch of 65536 seeded s replays a batch of 1 seeded s + i (crossing resets)."""
    game = CoinGame(max_steps=4)
    big = torch.arange(65536) + 1000
    picks = [0, 1, 4097, 32768, 65535]
    state, obs = game.reset(big)
    trace = [obs[picks]]
    for t in range(10):
        state, out = game.step(state, _hash_actions(big, t, 4), validate=False)
        trace += [out.obs[picks], out.reward[picks], out.final_obs[picks]]
    for j, i in enumerate(picks):
        s1, o1 = game.reset(big[i : i + 1])
        single = [o1]
        for t in range(10):
            s1, out = game.step(s1, _hash_actions(big[i : i + 1], t, 4))
            single += [out.obs, out.reward, out.final_obs]
        for a, b in zip(trace, single):
            assert torch.equal(a[j], b[0])


def test_registered_and_made():
    assert "CoinGame-v0" in social_dilemmas.registered_ids()
    env = social_dilemmas.make_batched("CoinGame-v0", batch_size=3)
    assert isinstance(env.game, CoinGame) and env.game.max_steps == 16
    obs = env.reset(seed=0)
    assert obs.shape == (3, 2, 36) and obs.dtype == torch.float32
    out = env.step(torch.zeros(3, 2, dtype=torch.long))
    assert set(out.metrics) == {"own_coin", "other_coin"}
    assert all(v.shape == (3, 2) and v.dtype == torch.float32 for v in out.metrics.values())


def test_rendering():
    game = CoinGame()
    state = make_state(game, (0, 0), (0, 0), (2, 2), BLUE)
    text = game.render_ansi(state, 0)
    assert "RB" in text and "b" in text.splitlines()[-2] and "blue" in text
    img = game.render_rgb(state, 0)
    assert img.shape == (96, 96, 3) and img.dtype == np.uint8
    assert len(np.unique(img.reshape(-1, 3), axis=0)) >= 4  # background, lines, players, coin


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"grid_size": 1}, ValueError, ["grid_size", "too small"]),
        ({"grid_size": 0}, ValueError, ["grid_size"]),
        ({"grid_size": 2.5}, TypeError, ["grid_size", "integer"]),
        ({"grid_size": True}, TypeError, ["grid_size"]),
        ({"max_steps": 0}, ValueError, ["max_steps"]),
        ({"max_steps": -3}, ValueError, ["max_steps"]),
        ({"wrap": "yes"}, TypeError, ["wrap"]),
        ({"noop_action": 1}, TypeError, ["noop_action"]),
        ({"new_coin_colour": "green"}, ValueError, ["new_coin_colour", "alternate"]),
        ({"penalty": float("nan")}, ValueError, ["penalty"]),
        ({"reward_own": "one"}, TypeError, ["reward_own"]),
        ({"device": "nonsense"}, ValueError, ["device"]),
    ],
)
def test_bad_arguments(kwargs, exc, words):
    with pytest.raises(exc) as e:
        CoinGame(**kwargs)
    for w in words:
        assert w in str(e.value)


def test_bad_actions():
    game = CoinGame()
    state, _ = game.reset([0, 1])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        game.step(state, torch.tensor([[0, 4], [0, 0]]))
    with pytest.raises(ValueError, match="shape"):
        game.step(state, torch.zeros(2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="integer"):
        game.step(state, torch.zeros(2, 2))
