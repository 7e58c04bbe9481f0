"""Bootstrap intervals, the interquartile mean and the alpha-Rank league ranking."""

from __future__ import annotations

import numpy as np
import pytest

from social_dilemmas.benchmark.league import alpha_rank, play_league
from social_dilemmas.benchmark.stats import bootstrap_ci, iqm, stratified_bootstrap


def test_bootstrap_interval_of_a_constant_is_the_constant():
    e = bootstrap_ci([0.5] * 10)
    assert (e.mean, e.low, e.high, e.n) == (0.5, 0.5, 0.5, 10)


def test_bootstrap_interval_covers_the_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    hits = sum(bootstrap_ci(rng.normal(1.0, 2.0, size=30), n_boot=1000, seed=i).contains(1.0) for i in range(300))
    assert 0.88 <= hits / 300 <= 0.99, hits / 300


def test_bootstrap_interval_shrinks_with_more_replicates():
    rng = np.random.default_rng(1)
    small, big = bootstrap_ci(rng.normal(size=10)), bootstrap_ci(rng.normal(size=1000))
    assert big.high - big.low < 0.5 * (small.high - small.low)


def test_bootstrap_is_reproducible_and_drops_nans():
    x = [1.0, 2.0, float("nan"), 4.0]
    assert bootstrap_ci(x, seed=3) == bootstrap_ci(x, seed=3)
    assert bootstrap_ci(x).n == 3 and bootstrap_ci(x).mean == pytest.approx(7 / 3)
    assert np.isnan(bootstrap_ci([float("nan")]).mean)


def test_iqm_resists_an_outlier_where_the_mean_does_not():
    x = np.array([0.4, 0.5, 0.5, 0.5, 0.5, 0.5, 0.6, 100.0])
    assert iqm(x) == pytest.approx(0.5)
    assert x.mean() > 10


def test_stratified_bootstrap_aggregates_task_means():
    e = stratified_bootstrap([[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]], lambda m: m.mean(-1))
    assert e.mean == pytest.approx(2 / 3) and e.low == pytest.approx(2 / 3) and e.n == 6


# ----------------------------------------------------------------------------- league ranking


def _cyclic_population() -> tuple[list[str], np.ndarray]:
    """Rock-paper-scissors plus a bully X that crushes a weak member W but loses to R, P and S.

    X has the best mean payoff over opponents, yet every strong member beats it.
    """
    names = ["R", "P", "S", "X", "W"]
    m = np.array([
        # R     P     S     X     W
        [0.0, -1.0, 1.0, 0.1, 0.5],  # R
        [1.0, 0.0, -1.0, 0.1, 0.5],  # P
        [-1.0, 1.0, 0.0, 0.1, 0.5],  # S
        [-0.1, -0.1, -0.1, 0.0, 10.0],  # X
        [-0.5, -0.5, -0.5, -10.0, 0.0],  # W
    ])
    return names, m


def test_alpha_rank_is_not_fooled_by_a_cyclic_population():
    names, m = _cyclic_population()
    assert names[int(m.mean(1).argmax())] == "X"  # the mean return misleads
    pi = alpha_rank(m)
    assert pi.sum() == pytest.approx(1.0)
    assert np.allclose(pi[:3], 1 / 3, atol=0.02), pi  # the cycle shares the mass
    assert pi[3] < 0.01 and pi[4] < 0.01, pi


def test_alpha_rank_puts_the_mass_on_a_dominant_strategy():
    m = np.array([[1.0, 2.0, 3.0], [0.5, 1.0, 2.0], [0.0, 0.5, 1.0]])  # row 0 beats everyone
    pi = alpha_rank(m)
    assert pi[0] > 0.99


def test_alpha_rank_rejects_bad_matrices():
    with pytest.raises(ValueError, match="square"):
        alpha_rank(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        alpha_rank(np.array([[0.0, np.nan], [0.0, 0.0]]))


def test_league_payoffs_and_heatmap(tmp_path):
    league = play_league({"allc": "always_cooperate", "alld": "always_defect", "tft": "tit_for_tat"},
                         num_inner_episodes=1, batch_size=2, seeds=2)
    pay = league.mean_payoff
    i = {n: k for k, n in enumerate(league.names)}
    assert pay[i["alld"], i["allc"]] == 2.0 and pay[i["allc"], i["alld"]] == -1.0  # T and S
    assert pay[i["tft"], i["tft"]] == 1.0 and pay[i["alld"], i["alld"]] == 0.0
    assert pay[i["tft"], i["alld"]] == pytest.approx(-0.1)  # exploited in the first of 10 rounds
    assert league.mass.sum() == pytest.approx(1.0)
    assert league.mass[i["alld"]] > league.mass[i["allc"]]  # ALLD invades unconditional cooperators
    masses = [r[1] for r in league.ranking()]
    assert masses == sorted(masses, reverse=True)
    assert "alpha-Rank" in league.table()
    pytest.importorskip("matplotlib")
    png = league.plot(tmp_path / "league.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    d = league.as_dict()
    assert len(d["payoff"]) == 3 and len(d["alpha_rank"]) == 3
