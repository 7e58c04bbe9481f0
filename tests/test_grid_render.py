"""Gridworld frames: what lies under a player stays visible, one colour per player in every game, a legend."""

from __future__ import annotations

import numpy as np
import pytest

from social_dilemmas.envs.cleanup_lite import CleanUpLite
from social_dilemmas.envs.coin_game import BLUE, RED, CoinGame
from social_dilemmas.envs.grid_render import AGENT_COLOURS, GRID_LINE
from tests.test_cleanup_lite import make_state as cleanup_state
from tests.test_coin_game import make_state as coin_state

PX = 32


def _cell_colours(img: np.ndarray, row: int, col: int) -> set[tuple[int, int, int]]:
    cell = img[row * PX : (row + 1) * PX, col * PX : (col + 1) * PX].reshape(-1, 3)
    return {tuple(int(v) for v in c) for c in np.unique(cell, axis=0)}


def _legend_colour(game, label: str) -> tuple[int, int, int]:
    return next(c for c, text in game.render_legend if text == label)


def test_cleanup_dirt_and_apples_show_under_a_player():
    g = CleanUpLite()
    river = g.width - 1
    img = g.render_rgb(cleanup_state(g, (1, river), (0, 0), apples=(0,), dirt=(1,)))
    under_p0 = _cell_colours(img, 1, river)
    assert AGENT_COLOURS[0] in under_p0 and _legend_colour(g, "dirt") in under_p0
    under_p1 = _cell_colours(img, 0, 0)
    assert AGENT_COLOURS[1] in under_p1 and _legend_colour(g, "apple") in under_p1
    clean = g.render_rgb(cleanup_state(g, (1, river), (0, 0), apples=(), dirt=()))
    assert _legend_colour(g, "dirt") not in _cell_colours(clean, 1, river)


@pytest.mark.parametrize("owner", [RED, BLUE])
def test_coin_shows_under_a_player(owner):
    game = CoinGame()
    img = game.render_rgb(coin_state(game, (1, 1), (0, 0), (1, 1), owner), 0)
    under = _cell_colours(img, 1, 1)
    assert AGENT_COLOURS[0] in under and _legend_colour(game, f"player_{owner}'s coin") in under


def test_same_player_colours_in_every_gridworld_and_a_complete_legend():
    cleanup, coin = CleanUpLite(), CoinGame()
    for game in (cleanup, coin):
        legend = dict(game.render_legend)
        assert legend[AGENT_COLOURS[0]].startswith("player_0") and legend[AGENT_COLOURS[1]].startswith("player_1")
    frames = [
        (cleanup, cleanup.render_rgb(cleanup_state(cleanup, (0, 1), (2, 2), apples=(0, 3), dirt=(1,),
                                                   freeze=(0, 2)))),
        (coin, coin.render_rgb(coin_state(coin, (0, 0), (2, 1), (1, 2), BLUE), 0)),
    ]
    for game, img in frames:
        painted = {tuple(int(v) for v in c) for c in np.unique(img.reshape(-1, 3), axis=0)}
        assert painted - {GRID_LINE} <= set(dict(game.render_legend)), game.spec.name


@pytest.mark.parametrize("face", ["gymnasium", "parallel", "aec"])
def test_human_rendering_prints_once_per_call(face, capsys):
    import gymnasium as gym

    import social_dilemmas  # noqa: F401
    from social_dilemmas.envs import coin_game_v0

    if face == "gymnasium":
        env = gym.make("social_dilemmas/CoinGame-v0", render_mode="human")
        calls = [lambda: env.reset(seed=0), lambda: env.step(0), env.render]
    elif face == "parallel":
        env = coin_game_v0.parallel_env(render_mode="human")
        calls = [lambda: env.reset(seed=0), lambda: env.step({a: 0 for a in env.agents}), env.render]
    else:
        env = coin_game_v0.env(render_mode="human")
        # an AEC cycle (one action per agent) is one step of the game
        calls = [lambda: env.reset(seed=0), lambda: [env.step(0) for _ in range(2)], env.render]
    capsys.readouterr()
    for call in calls:
        call()
        assert capsys.readouterr().out.count("CoinGame-v0 t=") == 1
