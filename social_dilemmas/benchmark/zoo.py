"""The fixed co-player zoo: classic IPD strategies and scripted gridworld bots, as batched co-players.

Every member follows the co-player protocol of :mod:`social_dilemmas.coplayers.base`
(``action_probs(obs [N, *obs], memory) -> (probs [N, A], memory)``), so the shaping
meta-environment plays it like any other co-player.

IPD (observations are the 5-state one-hot ``(start, CC, CD, DC, DD)``, own action first):

* the memory-1 strategies of :mod:`social_dilemmas.coplayers.fixed` (ALLC, ALLD, TFT, Grim,
  WSLS, random) plus the *alternator* (C, D, C, D, ...: it flips its own last move);
* :class:`TitForTwoTats` (defects only after two defections in a row: memory-2);
* an extortionate zero-determinant strategy (:func:`social_dilemmas.coplayers.fixed.zd_strategy`,
  ``chi = 3``) and a *generous* one (:func:`generous_zd_strategy`, Stewart & Plotkin 2013).

Gridworlds: :class:`CoinChaser` (the coin game: takes every coin, or only its own) and
:class:`CleanUpBot` (CleanUp-lite: a diligent cleaner or a pure harvester). Both read the
documented observation layout of their game and never zap.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from social_dilemmas.coplayers.fixed import (
    Memory1Strategy,
    UniformRandom,
    check_pd_payoffs,
    make_strategy,
    zd_strategy,
)
from social_dilemmas.core.validation import check_choice, check_finite

__all__ = [
    "ALTERNATOR",
    "GRIDWORLD_BOTS",
    "CleanUpBot",
    "CoinChaser",
    "TitForTwoTats",
    "generous_zd_strategy",
    "gridworld_zoo",
    "ipd_zoo",
    "zoo_member",
]

#: Names of the scripted gridworld bots (:func:`gridworld_zoo`).
GRIDWORLD_BOTS = ("coin_taker", "coin_own_only", "cleaner", "harvester")

#: P(cooperate) after (start, CC, CD, DC, DD): cooperate first, then flip the own last move.
ALTERNATOR = (1.0, 0.0, 0.0, 1.0, 1.0)


class TitForTwoTats:
    """Tit-for-two-tats: cooperates unless the co-player defected in both of the last two rounds.

    Memory: ``[N]`` bool, "the co-player defected in the previous round". Observations are the
    IPD one-hot ``(start, CC, CD, DC, DD)`` seen own action first, so the co-player's last move
    was a defection in states CD and DD.
    """

    num_actions = 2
    resets_at_inner_boundary = True
    name = "tit_for_two_tats"

    def initial_memory(self, batch_size: int, device: torch.device | str) -> Tensor:
        return torch.zeros(batch_size, dtype=torch.bool, device=device)

    def action_probs(self, obs: Tensor, memory: Tensor) -> tuple[Tensor, Tensor]:
        if obs.shape[-1] != 5:
            raise ValueError(f"{self.name} plays an iterated 2x2 game: it needs 5-dim one-hot obs, "
                             f"got {list(obs.shape)}")
        defected_now = (obs[:, 2] + obs[:, 4]) > 0.5
        if memory is None:
            memory = torch.zeros_like(defected_now)
        p = (~(defected_now & memory)).to(obs.dtype)
        return torch.stack((p, 1.0 - p), dim=-1), defected_now

    def reset_memory(self, memory: Tensor, mask: Tensor) -> Tensor:
        return memory & ~mask.to(memory.device)

    def __repr__(self) -> str:
        return "TitForTwoTats()"


def generous_zd_strategy(
    chi: float = 2.0, phi: float = 0.1, trps: tuple[float, float, float, float] = (2.0, 1.0, 0.0, -1.0)
) -> Memory1Strategy:
    """A generous zero-determinant strategy: it enforces ``s_x - R = chi (s_y - R)`` (Stewart & Plotkin 2013).

    With ``(T, R, P, S)`` the payoffs, the cooperation probabilities after (CC, CD, DC, DD)
    are ``1 + phi ((R - R) - chi (R - R))`` = 1, ``1 + phi ((S - R) - chi (T - R))``,
    ``phi ((T - R) - chi (S - R))`` and ``phi (chi - 1) (R - P)``: the general ZD form
    ``p - (1, 1, 0, 0) = phi [(S_x - R) - chi (S_y - R)]`` with the baseline at the
    mutual-cooperation payoff (the extortion family of :mod:`social_dilemmas.analytic.zd` puts
    it at ``P``). It starts by cooperating. ``phi`` must keep every probability in ``[0, 1]``.
    """
    T, R, P, S = check_pd_payoffs(trps)
    chi, phi = check_finite("chi", chi), check_finite("phi", phi)
    if not chi >= 1.0:
        raise ValueError(f"chi must be >= 1 (generosity factor), got {chi!r}")
    p = [1.0, 1.0, 1.0 + phi * ((S - R) - chi * (T - R)), phi * ((T - R) - chi * (S - R)), phi * (chi - 1.0) * (R - P)]
    top = min(1.0 / (chi * (T - R) + (R - S)), 1.0 / ((T - R) + chi * (R - S)),
              1.0 / ((chi - 1.0) * (R - P)) if chi > 1 else float("inf"))
    if not 0.0 < phi <= top + 1e-12:
        raise ValueError(f"phi must lie in (0, {top:.6g}] for a generous ZD strategy with chi={chi}, got {phi!r}")
    return Memory1Strategy([min(max(x, 0.0), 1.0) for x in p], name=f"generous_zd(chi={chi:g}, phi={phi:g})")


def ipd_zoo(trps: tuple[float, float, float, float] = (2.0, 1.0, 0.0, -1.0)) -> dict[str, Any]:
    """Name -> a fresh co-player for the IPD zoo (the order is the report's)."""
    zoo: dict[str, Any] = {name: make_strategy(name) for name in (
        "always_cooperate", "always_defect", "tit_for_tat")}
    zoo["tit_for_two_tats"] = TitForTwoTats()
    zoo["grim_trigger"] = make_strategy("grim_trigger")
    zoo["win_stay_lose_shift"] = make_strategy("win_stay_lose_shift")
    zoo["random"] = make_strategy("random")
    zoo["alternator"] = Memory1Strategy(ALTERNATOR, name="alternator")
    T, R, P, S = trps
    chi = 3.0
    zoo["zd_extort_3"] = zd_strategy(chi, 0.5 * (P - S) / ((P - S) + chi * (T - P)), trps)
    zoo["zd_generous_2"] = generous_zd_strategy(2.0, 0.1, trps)
    return zoo


# ----------------------------------------------------------------------------- gridworld bots


def _step_toward(row: Tensor, col: Tensor, trow: Tensor, tcol: Tensor, size: tuple[int, int] | None) -> Tensor:
    """Action (0 right, 1 left, 2 up, 3 down, -1 here) of one step toward ``(trow, tcol)``.

    ``size=(h, w)`` makes the grid a torus (the shortest way round); ``None``: plain grid.
    Columns are closed first, then rows.
    """
    if size is None:
        dc, dr = tcol - col, trow - row
    else:
        h, w = size
        dc = (tcol - col) % w
        dc = torch.where(dc > w // 2, dc - w, dc)
        dr = (trow - row) % h
        dr = torch.where(dr > h // 2, dr - h, dr)
    act = torch.full_like(row, -1)
    act = torch.where(dr > 0, torch.full_like(act, 3), act)
    act = torch.where(dr < 0, torch.full_like(act, 2), act)
    act = torch.where(dc > 0, torch.zeros_like(act), act)
    act = torch.where(dc < 0, torch.ones_like(act), act)
    return act


class _Scripted:
    """Deterministic scripted bots: memoryless, one-hot action probabilities."""

    resets_at_inner_boundary = True

    def initial_memory(self, batch_size: int, device: torch.device | str) -> None:
        return None

    def reset_memory(self, memory: Any, mask: Tensor) -> None:
        return None

    def action_probs(self, obs: Tensor, memory: Any = None) -> tuple[Tensor, None]:
        if obs.shape[-1] != self.obs_dim:
            raise ValueError(f"{self.name} needs {self.obs_dim}-dim observations of its game, got {list(obs.shape)}")
        return torch.nn.functional.one_hot(self.actions(obs), self.num_actions).to(obs.dtype), None

    def actions(self, obs: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class CoinChaser(_Scripted):
    """A coin-game bot that walks the shortest way to the coin.

    Args:
        game: the :class:`~social_dilemmas.envs.coin_game.CoinGame` it plays (grid size, wrap).
        own_only: take only coins of its own colour; while the coin is the other player's it
            wanders (a fixed cycle right, down, left, up) but never steps onto that coin.
    """

    def __init__(self, game: Any, own_only: bool = False) -> None:
        self.grid = int(game.grid_size)
        self.wrap = bool(game.wrap)
        self.num_actions = int(game.spec.num_actions)
        self.obs_dim = 4 * self.grid * self.grid
        self.own_only = bool(own_only)
        self.name = "coin_own_only" if own_only else "coin_taker"
        from social_dilemmas.envs.coin_game import DELTAS

        g = self.grid
        table = torch.zeros(g * g, self.num_actions, dtype=torch.int64)
        for cell in range(g * g):
            for a in range(self.num_actions):
                r, col = cell // g + DELTAS[a][0], cell % g + DELTAS[a][1]
                if self.wrap:
                    r, col = r % g, col % g
                elif not (0 <= r < g and 0 <= col < g):
                    r, col = cell // g, cell % g
                table[cell, a] = r * g + col
        self._move = table  # [C, A] next cell of every (cell, action)

    def actions(self, obs: Tensor) -> Tensor:
        c, g = self.grid * self.grid, self.grid
        me = obs[:, :c].argmax(1)
        own = obs[:, 2 * c:3 * c]
        other = obs[:, 3 * c:4 * c]
        is_own = own.sum(1) > 0.5
        coin = torch.where(is_own, own.argmax(1), other.argmax(1))
        size = (g, g) if self.wrap else None
        act = _step_toward(me // g, me % g, coin // g, coin % g, size).clamp(min=0)
        if not self.own_only:
            return act
        move = self._move.to(obs.device)
        # wander: the first move, in a cycle keyed by the own cell, that avoids the other's coin
        wander = torch.full_like(me, -1)
        for k in range(4):
            cand = (me + k) % 4
            wander = torch.where((wander < 0) & (move[me, cand] != coin), cand, wander)
        wander = wander.clamp(min=0)
        return torch.where(is_own, act, wander)


class CleanUpBot(_Scripted):
    """A CleanUp-lite bot: ``"cleaner"`` walks to the nearest dirt and cleans it, ``"harvester"``
    walks to the nearest apple and eats it. With nothing to do it waits (no-op) at the river
    (cleaner) or in the orchard (harvester). It never zaps.
    """

    def __init__(self, game: Any, role: str) -> None:
        self.role = check_choice("role", role, ("cleaner", "harvester"))
        self.name = role
        self.h, self.w = int(game.height), int(game.width)
        self.num_actions = int(game.spec.num_actions)
        self.obs_dim = int(game.spec.obs_shape[0])
        self.cells = self.h * self.w

    def actions(self, obs: Tensor) -> Tensor:
        c, w = self.cells, self.w
        me = obs[:, :c].argmax(1)
        grid = obs[:, 2 * c:5 * c].reshape(-1, c, 3)
        target = grid[:, :, 2 if self.role == "cleaner" else 1] > 0.5  # dirt or apple
        cell = torch.arange(c, device=obs.device)
        rows, cols = cell // w, cell % w
        dist = (rows.view(1, -1) - (me // w).view(-1, 1)).abs() + (cols.view(1, -1) - (me % w).view(-1, 1)).abs()
        home = w - 1 if self.role == "cleaner" else 0
        # no target: head for the home column's cell in the own row
        has = target.any(1)
        best = torch.where(has, torch.where(target, dist, dist.new_full((), 10**6)).argmin(1), (me // w) * w + home)
        act = _step_toward(me // w, me % w, best // w, best % w, None)
        return torch.where(act < 0, torch.full_like(act, 5), act)  # 5 = no-op (stay and harvest/clean)


def gridworld_zoo(game: Any) -> dict[str, Any]:
    """Name -> a fresh scripted co-player for a coin game or CleanUp-lite instance."""
    kind = type(game).__name__
    if kind == "CoinGame":
        return {"coin_taker": CoinChaser(game), "coin_own_only": CoinChaser(game, own_only=True),
                "random": UniformRandom(game.spec.num_actions)}
    if kind == "CleanUpLite":
        return {"cleaner": CleanUpBot(game, "cleaner"), "harvester": CleanUpBot(game, "harvester"),
                "random": UniformRandom(game.spec.num_actions)}
    raise ValueError(f"no scripted zoo for {game.spec.name}; zoos exist for the coin game and CleanUp-lite")


def zoo_member(name: str, game: Any) -> Any:
    """A fresh zoo co-player ``name`` for the ``game`` instance (the IPD zoo, or the gridworld bots)."""
    if type(game).__name__ in ("CoinGame", "CleanUpLite"):
        zoo = gridworld_zoo(game)
    else:
        table = getattr(game, "table", None)
        zoo = ipd_zoo(table.trps if table is not None else (2.0, 1.0, 0.0, -1.0))
    if name not in zoo:
        raise ValueError(f"unknown zoo strategy {name!r} for {game.spec.name}; known: {', '.join(zoo)}")
    return zoo[name]
