"""Payoff tables of 2x2 games as validated data.

A table is written ``payoffs[a0][a1] = (r0, r1)``: the rewards of agent 0 and agent 1 when
agent 0 plays ``a0`` and agent 1 plays ``a1``. Action 0 is the "cooperative" action
(cooperate, stag, swerve, heads) and action 1 the other one.

For a symmetric game we use the standard letters (Rapoport & Chammah 1965; Press & Dyson
2012): ``R`` reward for mutual cooperation, ``S`` sucker's payoff, ``T`` temptation to defect,
``P`` punishment for mutual defection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from social_dilemmas.core.validation import FLOAT32_MAX, check_choice

#: Game classes whose defining inequalities are checked when a table declares them.
KINDS = ("prisoners_dilemma", "stag_hunt", "chicken", "zero_sum", "general")


@dataclass(frozen=True)
class PayoffTable:
    """A validated 2x2 payoff table.

    Attributes:
        name: human-readable game name.
        payoffs: ``((r0, r1) for a1) for a0`` nested tuples, shape 2x2x2.
        kind: one of :data:`KINDS`; its defining inequalities were verified.
        action_meanings: names of action 0 and action 1.
    """

    name: str
    payoffs: tuple[tuple[tuple[float, float], tuple[float, float]], tuple[tuple[float, float], tuple[float, float]]]
    kind: str = "general"
    action_meanings: tuple[str, str] = ("cooperate", "defect")

    def __post_init__(self) -> None:
        object.__setattr__(self, "payoffs", _as_table(self.payoffs))
        check_choice("kind", self.kind, KINDS)
        if len(self.action_meanings) != 2:
            raise ValueError(f"action_meanings must name exactly 2 actions, got {self.action_meanings!r}")
        _check_kind(self)

    @property
    def symmetric(self) -> bool:
        """True when swapping the players swaps the rewards."""
        p = self.payoffs
        return all(p[a][b][0] == p[b][a][1] for a in range(2) for b in range(2))

    @property
    def trps(self) -> tuple[float, float, float, float]:
        """``(T, R, P, S)`` of a symmetric game, seen by agent 0."""
        if not self.symmetric:
            raise ValueError(f"{self.name} is not symmetric: T, R, P, S are undefined")
        p = self.payoffs
        return p[1][0][0], p[0][0][0], p[1][1][0], p[0][1][0]

    def as_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """The table as a float32 tensor ``[2, 2, 2]`` indexed ``[a0, a1, agent]``."""
        return torch.tensor(self.payoffs, dtype=torch.float32, device=device)

    def joint_rewards(self) -> tuple[list[float], list[float]]:
        """Reward vectors over joint outcomes (CC, CD, DC, DD) for agent 0 and agent 1."""
        p = self.payoffs
        order = [(0, 0), (0, 1), (1, 0), (1, 1)]
        return [p[a][b][0] for a, b in order], [p[a][b][1] for a, b in order]


def _as_table(payoffs: Any) -> tuple:
    try:
        t = torch.as_tensor(payoffs, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as e:
        raise ValueError(f"payoffs must be numbers shaped [2, 2, 2] (a0, a1, agent), got {payoffs!r}") from e
    if tuple(t.shape) != (2, 2, 2):
        raise ValueError(
            f"payoffs must have shape [2, 2, 2] (agent-0 action, agent-1 action, (r0, r1)), got {list(t.shape)}"
        )
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"payoffs must be finite, got {payoffs!r}")
    if not bool(torch.isfinite(t.to(torch.float32)).all()):
        raise ValueError(
            f"payoffs must stay finite in float32 (|r| <= {FLOAT32_MAX:.4g}), the dtype of the game's rewards; "
            f"got {payoffs!r}"
        )
    return tuple(tuple(tuple(float(x) for x in cell) for cell in row) for row in t.tolist())


def _check_kind(table: PayoffTable) -> None:
    """The declared class's inequalities, on the table and on its float32 cast (what the games play)."""
    if table.kind == "general":
        return
    _check_kind_of(table, table.payoffs, "")
    as32 = tuple(tuple(tuple(float(np.float32(x)) for x in cell) for cell in row) for row in table.payoffs)
    if as32 != table.payoffs:
        _check_kind_of(table, as32, " after rounding to float32 (the dtype of the game's rewards)")


def _check_kind_of(table: PayoffTable, p: Any, where: str) -> None:
    kind = table.kind
    if kind == "zero_sum":
        if any(not math.isclose(p[a][b][0] + p[a][b][1], 0.0, abs_tol=1e-12) for a in range(2) for b in range(2)):
            raise ValueError(f"{table.name}: a zero_sum game needs r0 + r1 == 0 for every joint action{where}")
        return
    if not all(p[a][b][0] == p[b][a][1] for a in range(2) for b in range(2)):
        raise ValueError(
            f"{table.name}: kind={kind!r} needs a symmetric table (payoffs[a][b][0] == payoffs[b][a][1]){where}"
        )
    T, R, P, S = p[1][0][0], p[0][0][0], p[1][1][0], p[0][1][0]
    if kind == "prisoners_dilemma":
        if not (T > R > P > S):
            raise ValueError(
                f"{table.name}: a prisoner's dilemma needs T > R > P > S, got T={T}, R={R}, P={P}, S={S}" + where
            )
        if not (2 * R > T + S):
            raise ValueError(
                f"{table.name}: a prisoner's dilemma needs 2R > T + S, got 2R={2 * R}, T+S={T + S}" + where
            )
    elif kind == "stag_hunt":
        if not (R > T >= P > S):
            raise ValueError(f"{table.name}: a stag hunt needs R > T >= P > S, got T={T}, R={R}, P={P}, S={S}" + where)
    elif kind == "chicken" and not (T > R > S > P):
        raise ValueError(f"{table.name}: chicken needs T > R > S > P, got T={T}, R={R}, P={P}, S={S}" + where)


#: The paper's IPD (Meulemans et al. 2025, Table 1): (T, R, P, S) = (2, 1, 0, -1).
PRISONERS_DILEMMA = PayoffTable(
    "prisoner's dilemma",
    (((1, 1), (-1, 2)), ((2, -1), (0, 0))),
    kind="prisoners_dilemma",
)
#: Matching pennies: agent 0 wins when the coins match.
MATCHING_PENNIES = PayoffTable(
    "matching pennies", (((1, -1), (-1, 1)), ((-1, 1), (1, -1))), kind="zero_sum", action_meanings=("heads", "tails")
)
#: Stag hunt with (T, R, P, S) = (3, 4, 2, 0): hunting the stag pays only together.
STAG_HUNT = PayoffTable(
    "stag hunt", (((4, 4), (0, 3)), ((3, 0), (2, 2))), kind="stag_hunt", action_meanings=("stag", "hare")
)
#: Chicken (hawk-dove) with (T, R, P, S) = (1, 0, -10, -1): a crash is the worst outcome.
CHICKEN = PayoffTable(
    "chicken", (((0, 0), (-1, 1)), ((1, -1), (-10, -10))), kind="chicken", action_meanings=("swerve", "straight")
)

GAMES: dict[str, PayoffTable] = {
    "prisoners_dilemma": PRISONERS_DILEMMA,
    "matching_pennies": MATCHING_PENNIES,
    "stag_hunt": STAG_HUNT,
    "chicken": CHICKEN,
}
