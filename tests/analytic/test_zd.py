"""Zero-determinant strategies: the enforced linear payoff relation and the least-squares fit."""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.analytic.markov import average_returns_from_probs
from social_dilemmas.analytic.zd import PD_TRPS, fit_zd, phi_max, zd_policy, zd_probabilities
from social_dilemmas.coplayers.fixed import NAMED_MEMORY1, zd_strategy

T, R, P, S = PD_TRPS


@pytest.mark.parametrize(("chi", "frac"), [(1.0, 0.5), (2.0, 0.3), (3.0, 1.0), (7.5, 0.8)])
def test_zd_enforces_linear_payoff_relation(chi, frac):
    """s_X - P = chi (s_Y - P) for a ZD player X against any co-player Y, in either seat."""
    zd = zd_policy(chi, frac * float(phi_max(chi)))
    g = torch.Generator().manual_seed(int(chi * 10))
    others = torch.rand(16, 5, generator=g, dtype=torch.float64) * 0.98 + 0.01
    s = average_returns_from_probs(zd, others)  # ZD in seat 1
    torch.testing.assert_close(s[:, 0] - P, chi * (s[:, 1] - P), rtol=0, atol=1e-7)
    s = average_returns_from_probs(others, zd)  # ZD in seat 2
    torch.testing.assert_close(s[:, 1] - P, chi * (s[:, 0] - P), rtol=0, atol=1e-7)
    # A non-ZD policy does not obey such a relation: the check can fail.
    s = average_returns_from_probs(others[0], others)
    assert ((s[:, 0] - P) - chi * (s[:, 1] - P)).abs().max() > 1e-2


def test_tit_for_tat_is_the_zd_limit():
    tft = torch.tensor(NAMED_MEMORY1["tit_for_tat"], dtype=torch.float64)
    torch.testing.assert_close(zd_policy(1.0, float(phi_max(1.0))), tft)


def test_fixed_zd_strategy_uses_the_same_formula():
    chi, phi = 2.5, 0.1
    strat = zd_strategy(chi, phi)
    torch.testing.assert_close(strat.p_cooperate.double(), zd_policy(chi, phi), atol=1e-7, rtol=0)
    torch.testing.assert_close(zd_probabilities(chi, phi), zd_policy(chi, phi)[1:])


@pytest.mark.parametrize(("chi", "phi"), [(0.5, 0.1), (2.0, 0.0), (2.0, 0.5), (float("nan"), 0.1)])
def test_bad_zd_parameters_are_rejected(chi, phi):
    with pytest.raises(ValueError, match="chi|phi"):
        zd_policy(chi, phi)


def test_fit_recovers_zd_parameters():
    chis = torch.tensor([1.0, 1.7, 3.0, 12.0], dtype=torch.float64)
    phis = 0.6 * phi_max(chis)
    policies = torch.cat((torch.full((4, 1), 0.3, dtype=torch.float64), zd_probabilities(chis, phis)), dim=-1)
    fit = fit_zd(policies)
    torch.testing.assert_close(fit.chi, chis, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(fit.phi, phis, rtol=1e-4, atol=1e-6)
    assert bool((fit.loss < 1e-10).all())


def test_fit_loss_is_the_least_squares_minimum():
    g = torch.Generator().manual_seed(0)
    policies = torch.rand(3, 2, 5, generator=g, dtype=torch.float64)
    fit = fit_zd(policies)
    assert fit.loss.shape == (3, 2)
    # No ZD strategy on a dense (chi, phi) grid beats the fit.
    chi = torch.logspace(0, 3, 300, dtype=torch.float64).view(-1, 1)
    phi = phi_max(chi) * torch.linspace(0, 1, 300, dtype=torch.float64)
    family = zd_probabilities(chi, phi).reshape(-1, 4)  # [G, 4]
    brute = ((policies[..., None, 1:] - family) ** 2).mean(-1).min(-1).values
    assert bool((fit.loss <= brute + 1e-12).all())
    assert bool((fit.loss > 1e-4).all())  # random policies are not ZD


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="policy"):
        fit_zd(torch.zeros(3))
    with pytest.raises(ValueError, match="policy"):
        fit_zd(torch.full((5,), 2.0))
