"""Axelrod's strategies join the IPD zoo and the league (needs the optional ``axelrod`` extra)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("axelrod")

from social_dilemmas.benchmark import evaluate  # noqa: E402
from social_dilemmas.benchmark.axelrod_zoo import AxelrodCoPlayer  # noqa: E402
from social_dilemmas.benchmark.league import play_league  # noqa: E402


def test_axelrod_scenario_matches_our_own_strategies():
    r = evaluate("tit_for_tat", "ipd/axelrod-v0", seeds=2)["ipd/axelrod-v0"]
    assert np.all(r.values["Cooperator"]["reward"] == 1.0)  # TFT vs Cooperator: mutual cooperation
    assert np.allclose(r.values["Defector"]["reward"], -0.1)  # exploited once per 10-round match
    assert np.all(r.values["Tit For Tat"]["cooperation"] == 1.0)
    ours = evaluate("alternator", "ipd/zoo-v0", seeds=2)["ipd/zoo-v0"].values["tit_for_tat"]["reward"]
    theirs = evaluate("alternator", "ipd/axelrod-v0", seeds=2)["ipd/axelrod-v0"].values["Tit For Tat"]["reward"]
    assert np.array_equal(ours, theirs)


def test_axelrod_strategies_play_in_a_league():
    league = play_league({"tft": "tit_for_tat", "axl-defector": AxelrodCoPlayer("Defector"),
                          "axl-cooperator": AxelrodCoPlayer("Cooperator")}, num_inner_episodes=1, seeds=2)
    pay = league.mean_payoff
    assert pay[1, 2] == 2.0 and pay[2, 1] == -1.0  # T and S


def test_unknown_axelrod_strategy():
    with pytest.raises(ValueError, match="unknown Axelrod strategy"):
        AxelrodCoPlayer("Nobody")
