"""Payoff tables: the published values of every built-in game, and validation of user tables."""

from __future__ import annotations

import math

import pytest
import torch

from social_dilemmas import make_game
from social_dilemmas.envs.matrix_game import IteratedMatrixGame
from social_dilemmas.envs.payoffs import GAMES, KINDS, PayoffTable

C, D = 0, 1

# Written out from the published tables, (a0, a1) -> (r0, r1).
KNOWN = {
    # Meulemans et al. 2025, Table 1: (T, R, P, S) = (2, 1, 0, -1).
    "prisoners_dilemma": {(C, C): (1, 1), (C, D): (-1, 2), (D, C): (2, -1), (D, D): (0, 0)},
    # Agent 0 wins +1 when the coins match, agent 1 when they differ.
    "matching_pennies": {(0, 0): (1, -1), (0, 1): (-1, 1), (1, 0): (-1, 1), (1, 1): (1, -1)},
    # Stag hunt with (T, R, P, S) = (3, 4, 2, 0).
    "stag_hunt": {(0, 0): (4, 4), (0, 1): (0, 3), (1, 0): (3, 0), (1, 1): (2, 2)},
    # Chicken with (T, R, P, S) = (1, 0, -10, -1).
    "chicken": {(0, 0): (0, 0), (0, 1): (-1, 1), (1, 0): (1, -1), (1, 1): (-10, -10)},
}
TRPS = {"prisoners_dilemma": (2, 1, 0, -1), "stag_hunt": (3, 4, 2, 0), "chicken": (1, 0, -10, -1)}
MEANINGS = {
    "prisoners_dilemma": ("cooperate", "defect"),
    "matching_pennies": ("heads", "tails"),
    "stag_hunt": ("stag", "hare"),
    "chicken": ("swerve", "straight"),
}


def test_every_built_in_game_is_known():
    assert set(GAMES) == set(KNOWN)


@pytest.mark.parametrize("game", sorted(KNOWN))
def test_tables_hold_the_published_values(game):
    table = GAMES[game]
    for (a0, a1), r in KNOWN[game].items():
        assert table.payoffs[a0][a1] == r
        assert table.as_tensor()[a0, a1].tolist() == list(r)
    assert table.action_meanings == MEANINGS[game]
    r0, r1 = table.joint_rewards()
    order = [(C, C), (C, D), (D, C), (D, D)]
    assert r0 == [KNOWN[game][o][0] for o in order] and r1 == [KNOWN[game][o][1] for o in order]


@pytest.mark.parametrize("game", sorted(KNOWN))
@pytest.mark.parametrize("joint", [(C, C), (C, D), (D, C), (D, D)])
def test_the_core_pays_the_table_for_every_joint_action(game, joint):
    core = IteratedMatrixGame(game)
    state, _ = core.reset(torch.arange(3))
    _, out = core.step(state, torch.tensor([joint] * 3))
    assert out.reward.tolist() == [list(map(float, KNOWN[game][joint]))] * 3
    assert out.reward.dtype == torch.float32
    assert core.spec.action_meanings == MEANINGS[game]


@pytest.mark.parametrize("game", sorted(TRPS))
def test_trps(game):
    assert GAMES[game].trps == TRPS[game] and GAMES[game].symmetric


def test_matching_pennies_is_zero_sum_and_not_symmetric():
    mp = GAMES["matching_pennies"]
    assert mp.kind == "zero_sum" and not mp.symmetric
    assert all(sum(mp.payoffs[a][b]) == 0 for a in range(2) for b in range(2))
    with pytest.raises(ValueError, match=r"matching pennies is not symmetric: T, R, P, S are undefined"):
        _ = mp.trps


def test_the_table_defines_the_game_classes():
    T, R, P, S = GAMES["prisoners_dilemma"].trps
    assert T > R > P > S and 2 * R > T + S
    T, R, P, S = GAMES["stag_hunt"].trps
    assert R > T >= P > S
    T, R, P, S = GAMES["chicken"].trps
    assert T > R > S > P


def test_a_user_table_from_nested_lists_and_tensors():
    t = PayoffTable("mine", [[[3, 3], [0, 5]], [[5, 0], [1, 1]]], kind="prisoners_dilemma")
    assert t.trps == (5.0, 3.0, 1.0, 0.0) and isinstance(t.payoffs[0][0][0], float)
    assert PayoffTable("same", torch.tensor(t.payoffs)).payoffs == t.payoffs
    g = make_game("IteratedMatrixGame-v0", payoffs=[[[3, 3], [0, 5]], [[5, 0], [1, 1]]], kind="prisoners_dilemma")
    assert g.table.trps == (5.0, 3.0, 1.0, 0.0)
    asym = PayoffTable("asymmetric", [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])
    assert asym.kind == "general" and not asym.symmetric


PD = [[[1, 1], [-1, 2]], [[2, -1], [0, 0]]]


@pytest.mark.parametrize(
    "payoffs, kind, pattern",
    [
        ([[1, 2], [3, 4]], "general", r"payoffs must have shape \[2, 2, 2\] .* got \[2, 2\]"),
        ([[[1, 1, 1], [0, 0, 0]], [[0, 0, 0], [0, 0, 0]]], "general", r"payoffs must have shape \[2, 2, 2\]"),
        ([[[1, 1], [0, 0]], [[0, 0], [0, 0]], [[0, 0], [0, 0]]], "general", r"payoffs must have shape \[2, 2, 2\]"),
        ([[[1, "a"], [0, 0]], [[0, 0], [0, 0]]], "general", r"payoffs must be numbers shaped \[2, 2, 2\]"),
        ([[[1, 1], [0]], [[0, 0], [0, 0]]], "general", r"payoffs must be numbers shaped \[2, 2, 2\]"),
        ([[[math.nan, 1], [0, 0]], [[0, 0], [0, 0]]], "general", r"payoffs must be finite"),
        ([[[math.inf, 1], [0, 0]], [[0, 0], [0, 0]]], "general", r"payoffs must be finite"),
        # T > R > P > S broken: R = 3 > T = 2.
        (
            [[[3, 3], [-1, 2]], [[2, -1], [0, 0]]],
            "prisoners_dilemma",
            r"needs T > R > P > S, got T=2.0, R=3.0, P=0.0, S=-1.0",
        ),
        # 2R > T + S broken: 2 * 1 = 2 <= 5 + (-1).
        ([[[1, 1], [-1, 5]], [[5, -1], [0, 0]]], "prisoners_dilemma", r"needs 2R > T \+ S, got 2R=2.0, T\+S=4.0"),
        # Asymmetric table declared a prisoner's dilemma.
        (
            [[[1, 1], [-1, 2]], [[2, -1], [0, 1]]],
            "prisoners_dilemma",
            r"kind='prisoners_dilemma' needs a symmetric table",
        ),
        (PD, "stag_hunt", r"a stag hunt needs R > T >= P > S, got T=2.0, R=1.0"),
        (PD, "chicken", r"chicken needs T > R > S > P, got T=2.0, R=1.0, P=0.0, S=-1.0"),
        (PD, "zero_sum", r"a zero_sum game needs r0 \+ r1 == 0 for every joint action"),
        (PD, "coordination", r"kind must be one of 'prisoners_dilemma', 'stag_hunt', 'chicken', 'zero_sum', 'general'"),
    ],
)
def test_bad_tables_are_rejected(payoffs, kind, pattern):
    with pytest.raises(ValueError, match=pattern):
        PayoffTable("custom", payoffs, kind=kind)
    with pytest.raises(ValueError, match=pattern):
        make_game("IteratedMatrixGame-v0", payoffs=payoffs, kind=kind)


def test_kinds_are_listed():
    assert KINDS == ("prisoners_dilemma", "stag_hunt", "chicken", "zero_sum", "general")


def test_bad_action_meanings():
    with pytest.raises(ValueError, match=r"action_meanings must name exactly 2 actions, got \('a', 'b', 'c'\)"):
        PayoffTable("x", PD, action_meanings=("a", "b", "c"))


def test_unknown_table_name_lists_the_built_ins():
    with pytest.raises(
        ValueError,
        match=r"payoffs must be one of 'prisoners_dilemma', 'matching_pennies', 'stag_hunt', 'chicken'; got 'pd'",
    ):
        make_game("IteratedMatrixGame-v0", payoffs="pd")


def test_tables_are_immutable():
    with pytest.raises(AttributeError):
        GAMES["prisoners_dilemma"].payoffs = PD  # type: ignore[misc]
