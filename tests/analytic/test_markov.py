"""Closed-form IPD returns: known values, agreement with the batched environment, gradients."""

from __future__ import annotations

import math

import pytest
import torch

import social_dilemmas
from social_dilemmas.analytic.markov import (
    average_returns,
    average_returns_from_probs,
    discounted_returns,
    discounted_returns_from_probs,
    joint_chain,
)
from social_dilemmas.coplayers.fixed import NAMED_MEMORY1, Memory1Strategy
from social_dilemmas.core.rng import sample_categorical

ALLC = torch.tensor(NAMED_MEMORY1["always_cooperate"], dtype=torch.float64)
ALLD = torch.tensor(NAMED_MEMORY1["always_defect"], dtype=torch.float64)
TFT = torch.tensor(NAMED_MEMORY1["tit_for_tat"], dtype=torch.float64)


@pytest.mark.parametrize("gamma", [0.5, 0.95, 0.999])
@pytest.mark.parametrize(
    ("p1", "p2", "per_round"),
    [(ALLD, ALLD, (0.0, 0.0)), (TFT, TFT, (1.0, 1.0)), (ALLC, ALLD, (-1.0, 2.0)), (ALLD, ALLC, (2.0, -1.0))],
)
def test_known_values(p1, p2, per_round, gamma):
    j = discounted_returns_from_probs(p1, p2, gamma)
    expected = torch.tensor(per_round, dtype=torch.float64) / (1 - gamma)
    torch.testing.assert_close(j, expected, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(average_returns_from_probs(p1, p2), torch.tensor(per_round, dtype=torch.float64),
                               rtol=0, atol=1e-8)


def test_tft_against_alld_loses_only_the_first_round():
    # TFT cooperates once (-1), then both defect forever (0).
    gamma = 0.9
    torch.testing.assert_close(discounted_returns_from_probs(TFT, ALLD, gamma), torch.tensor([-1.0, 2.0]).double())
    torch.testing.assert_close(average_returns_from_probs(TFT, ALLD), torch.zeros(2).double(), rtol=0, atol=1e-8)


def test_chain_is_stochastic_and_swaps_player_two_view():
    g = torch.Generator().manual_seed(0)
    p1, p2 = torch.rand(7, 5, generator=g, dtype=torch.float64), torch.rand(7, 5, generator=g, dtype=torch.float64)
    m, s0 = joint_chain(p1, p2)
    assert m.shape == (7, 4, 4) and s0.shape == (7, 4)
    torch.testing.assert_close(m.sum(-2), torch.ones(7, 4, dtype=torch.float64))
    torch.testing.assert_close(s0.sum(-1), torch.ones(7, dtype=torch.float64))
    # After CD (player 1 cooperated, player 2 defected) player 2 acts on its own DC entry.
    p_coop_2_after_cd = m[:, 0, 1] + m[:, 2, 1]  # from CD (column 1) to CC or DC
    torch.testing.assert_close(p_coop_2_after_cd, p2[:, 3])


def test_players_are_symmetric_in_the_own_first_view():
    g = torch.Generator().manual_seed(1)
    a = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    b = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    ab, ba = discounted_returns(a, b, 0.9), discounted_returns(b, a, 0.9)
    torch.testing.assert_close(ab, ba.flip(-1))


def test_batch_dims_broadcast():
    a = torch.randn(2, 1, 5, dtype=torch.float64)
    b = torch.randn(1, 3, 5, dtype=torch.float64)
    j = discounted_returns(a, b, 0.8)
    assert j.shape == (2, 3, 2)
    torch.testing.assert_close(j[1, 2], discounted_returns(a[1, 0], b[0, 2], 0.8))


def test_normalized_return_and_average_limit():
    g = torch.Generator().manual_seed(2)
    a, b = torch.randn(5, 5, generator=g, dtype=torch.float64), torch.randn(5, 5, generator=g, dtype=torch.float64)
    torch.testing.assert_close(discounted_returns(a, b, 0.9, normalize=True), 0.1 * discounted_returns(a, b, 0.9))
    gamma = 1 - 1e-7
    torch.testing.assert_close(average_returns(a, b), (1 - gamma) * discounted_returns(a, b, gamma), rtol=0, atol=1e-5)


def _rollout_discounted(p1: torch.Tensor, p2: torch.Tensor, gamma: float, episodes: int, rounds: int, seed: int):
    """Per-episode discounted returns ``[episodes, 2]`` from the batched IPD environment."""
    env = social_dilemmas.make_batched("IPD-v0", episodes, max_steps=rounds)
    players = (Memory1Strategy(p1.tolist()), Memory1Strategy(p2.tolist()))
    obs = env.reset(seed=seed)
    total = torch.zeros(episodes, 2, dtype=torch.float64)
    for t in range(rounds):
        actions = []
        for i, player in enumerate(players):
            probs, _ = player.action_probs(obs[:, i])
            actions.append(sample_categorical(probs, env.state.rng.uniform(200 + i)))
        out = env.step(torch.stack(actions, dim=1))
        total += gamma**t * out.reward.double()
        obs = out.obs
    assert bool(out.truncated.all())
    return total


def test_closed_form_matches_environment_rollouts(seed=0):
    """Mean discounted return of 20k simulated episodes vs J, within 5 standard errors."""
    g = torch.Generator().manual_seed(100 + seed)
    p1, p2 = torch.rand(5, generator=g, dtype=torch.float64), torch.rand(5, generator=g, dtype=torch.float64)
    p1, p2 = p1.float().double(), p2.float().double()  # the env's strategies use float32 probabilities
    gamma, rounds, episodes = 0.7, 60, 20_000  # gamma^rounds = 5e-10: truncation is negligible
    returns = _rollout_discounted(p1, p2, gamma, episodes, rounds, seed)
    mean, se = returns.mean(0), returns.std(0) / math.sqrt(episodes)
    expected = discounted_returns_from_probs(p1, p2, gamma)
    assert torch.all((mean - expected).abs() < 5 * se), (mean, expected, se)
    # The test can tell a CD/DC mix-up for player 2 apart: that would be far off.
    wrong = discounted_returns_from_probs(p1, p2[[0, 1, 3, 2, 4]], gamma)
    assert torch.any((wrong - expected).abs() > 10 * se)


def test_gradients_match_finite_differences():
    g = torch.Generator().manual_seed(3)
    a = torch.randn(2, 5, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 5, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, y: discounted_returns(x, y, 0.9), (a, b))
    assert torch.autograd.gradgradcheck(lambda x, y: discounted_returns(x, y, 0.9), (a, b))
    assert torch.autograd.gradcheck(lambda x, y: average_returns(x, y), (a, b), atol=1e-5)


@pytest.mark.parametrize("gamma", [0.0, 1.0, -0.1, 1.5, float("nan"), "x"])
def test_gamma_outside_open_interval_is_rejected(gamma):
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns(torch.zeros(5), torch.zeros(5), gamma)


@pytest.mark.parametrize("shape", [(4,), (6,), (3, 4), ()])
def test_wrong_policy_shape_is_rejected(shape):
    with pytest.raises(ValueError, match="logits1"):
        discounted_returns(torch.zeros(shape), torch.zeros(5), 0.9)
    with pytest.raises(ValueError, match="p2"):
        discounted_returns_from_probs(torch.zeros(5), torch.zeros(shape), 0.9)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_logits_are_rejected(bad):
    x = torch.zeros(2, 5)
    x[1, 3] = bad
    with pytest.raises(ValueError, match="logits2 must be finite"):
        discounted_returns(torch.zeros(5), x, 0.9)
    with pytest.raises(ValueError, match="logits1 must be finite"):
        average_returns(x, torch.zeros(5))


def test_probabilities_outside_unit_interval_are_rejected():
    with pytest.raises(ValueError, match="p1 .*\\[0, 1\\]"):
        discounted_returns_from_probs(torch.full((5,), 1.5), torch.zeros(5), 0.9)
