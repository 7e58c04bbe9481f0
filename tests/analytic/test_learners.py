"""Exact naive learners, the shaping objective (Eq. 17), mixed groups and exact LOLA.

The references here use nested finite differences only — no autograd — so they check both
the unrolled naive steps and the differentiation through them.
"""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.analytic.learners import mixed_objective, naive_unroll, partial_objective, shaping_objective
from social_dilemmas.analytic.lola import lola_objective
from social_dilemmas.analytic.markov import discounted_returns

GAMMA = 0.9


def _j(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return discounted_returns(a, b, GAMMA, normalize=True)


def _fd_grad(f, x: torch.Tensor, h: float = 1e-5) -> torch.Tensor:
    """Central finite-difference gradient of the scalar function ``f`` at ``x [5]``."""
    g = torch.zeros_like(x)
    for k in range(x.numel()):
        e = torch.zeros_like(x)
        e[k] = h
        g[k] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _ref_unroll(meta: torch.Tensor, psi: torch.Tensor, steps: int, lr: float) -> list[torch.Tensor]:
    traj = [psi]
    for _ in range(steps):
        psi = psi + lr * _fd_grad(lambda q: _j(meta, q)[1], psi)
        traj.append(psi)
    return traj


@pytest.fixture
def logits():
    g = torch.Generator().manual_seed(0)
    return torch.randn(4, 5, generator=g, dtype=torch.float64)


def test_naive_steps_are_gradient_ascent_on_own_return(logits):
    meta, psi = logits[0], logits[1]
    traj = naive_unroll(meta, psi, 3, 2.0, GAMMA)
    ref = _ref_unroll(meta, psi, 3, 2.0)
    for got, want in zip(traj, ref):
        torch.testing.assert_close(got, want, rtol=0, atol=1e-7)
    own = torch.stack([_j(meta, q)[1] for q in naive_unroll(meta, psi, 10, 0.5, GAMMA)])
    assert bool((own.diff() > 0).all())  # small steps keep improving the naive learner's return


def test_shaping_gradient_matches_nested_finite_differences(logits):
    meta = logits[0].clone().requires_grad_(True)
    naive = logits[1:3]  # a meta-batch of 2 naive learners
    steps, lr = 2, 3.0
    obj, info = shaping_objective(meta, naive, steps, lr, GAMMA)
    (grad,) = torch.autograd.grad(obj, meta)

    def ref_objective(m: torch.Tensor) -> torch.Tensor:
        vals = [_j(m, q)[0] for psi in naive for q in _ref_unroll(m, psi, steps, lr)]
        return torch.stack(vals).mean()

    torch.testing.assert_close(obj.detach(), ref_objective(meta.detach()), rtol=0, atol=1e-8)
    torch.testing.assert_close(grad, _fd_grad(ref_objective, meta.detach(), h=1e-4), rtol=0, atol=2e-5)
    assert info["naive_return"].shape == (2, steps + 1)
    # Shaping differs from the naive gradient (which ignores the learner's response).
    (naive_grad,) = torch.autograd.grad(partial_objective(meta, naive, GAMMA).mean(), meta)
    assert (grad - naive_grad).abs().max() > 1e-3


def test_shaping_with_no_naive_steps_is_the_plain_return(logits):
    meta = logits[0]
    obj, _ = shaping_objective(meta, logits[1:], 0, 5.0, GAMMA)
    torch.testing.assert_close(obj, _j(meta, logits[1:])[..., 0].mean())


def test_mixed_gradient_is_the_p_naive_mixture(logits):
    group = logits[:2].clone().requires_grad_(True)  # [n=2, 5]
    naive = logits[2:].unsqueeze(0).expand(2, 2, 5)  # [n, B=2, 5]

    def grad(p: float) -> torch.Tensor:
        obj, _ = mixed_objective(group, naive, p, 2, 3.0, GAMMA)
        return torch.autograd.grad(obj.sum(), group)[0]

    g0, g1, gp = grad(0.0), grad(1.0), grad(0.3)
    torch.testing.assert_close(gp, 0.3 * g1 + 0.7 * g0)
    # p_naive = 0: each member's partial gradient against the other, nothing else.
    for i in range(2):
        a = group[i].detach().clone().requires_grad_(True)
        (want,) = torch.autograd.grad(_j(a, group[1 - i].detach())[0], a)
        torch.testing.assert_close(g0[i], want)
        obj, _ = shaping_objective(a, naive[i], 2, 3.0, GAMMA)
        torch.testing.assert_close(g1[i], torch.autograd.grad(obj, a)[0])


def test_lola_without_lookahead_is_the_naive_gradient(logits):
    pair = logits[:2].clone().requires_grad_(True)
    obj, info = lola_objective(pair, 0, 5.0, GAMMA)
    (got,) = torch.autograd.grad(obj.sum(), pair)
    for i in range(2):
        a = pair[i].detach().clone().requires_grad_(True)
        (want,) = torch.autograd.grad(_j(a, pair[1 - i].detach())[0], a)
        torch.testing.assert_close(got[i], want)
    torch.testing.assert_close(info["returns"], _j(pair[0], pair[1]).detach())


@pytest.mark.parametrize("lookahead", [1, 2])
def test_lola_gradient_matches_nested_finite_differences(logits, lookahead):
    pair = logits[:2].clone().requires_grad_(True)
    lr = 3.0
    obj, _ = lola_objective(pair, lookahead, lr, GAMMA)
    (got,) = torch.autograd.grad(obj.sum(), pair)
    for i in range(2):
        other = pair[1 - i].detach()

        def ref(a: torch.Tensor, other=other) -> torch.Tensor:
            return _j(a, _ref_unroll(a, other, lookahead, lr)[-1])[0]

        torch.testing.assert_close(got[i], _fd_grad(ref, pair[i].detach(), h=1e-4), rtol=0, atol=2e-5)


def test_lola_partial_variant_mixes_gradients(logits):
    pair = logits[:2].clone().requires_grad_(True)

    def grad(p: float) -> torch.Tensor:
        return torch.autograd.grad(lola_objective(pair, 2, 5.0, GAMMA, p_naive=p)[0].sum(), pair)[0]

    torch.testing.assert_close(grad(0.4), 0.4 * grad(1.0) + 0.6 * grad(0.0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda x: lola_objective(x[:3], 1, 5.0, GAMMA), "pair"),
        (lambda x: lola_objective(x[:2], -1, 5.0, GAMMA), "lookahead"),
        (lambda x: lola_objective(x[:2], 1, 5.0, 1.0), "gamma"),
        (lambda x: lola_objective(x[:2], 1, 5.0, GAMMA, p_naive=1.5), "p_naive"),
        (lambda x: shaping_objective(x[0], x[1:3], 2, -1.0, GAMMA), "lr_naive"),
        (lambda x: shaping_objective(x[0], x[1:, :4], 2, 1.0, GAMMA), "naive_init"),
        (lambda x: naive_unroll(x[0], x[1], 2.5, 1.0, GAMMA), "steps"),
        (lambda x: mixed_objective(x[:1], x[1:].unsqueeze(0), 0.5, 2, 1.0, GAMMA), "at least 2"),
        (lambda x: mixed_objective(x[:2], x[2:], 0.5, 2, 1.0, GAMMA), "naive_init"),
        (lambda x: partial_objective(x[0], torch.full((5,), float("nan")), GAMMA), "other must be finite"),
        (lambda x: shaping_objective(x[0], x[1:3], 2, 1.0, GAMMA, return_scale="raw"), "return_scale.*per_round"),
        (lambda x: shaping_objective(x[0], x[1:3], 2, 1.0, GAMMA, episode_reduction="max"), "episode_reduction.*sum"),
        (lambda x: mixed_objective(x[:2], x[2:].unsqueeze(0).expand(2, 2, 5), 0.5, 2, 1.0, GAMMA,
                                   shaping_weight=-1), "shaping_weight"),
        (lambda x: mixed_objective(x[:2], x[2:].unsqueeze(0).expand(2, 2, 5), 1.0, 2, 1.0, GAMMA,
                                   shaping_weight=0), "no gradient"),
        (lambda x: lola_objective(x[:2], 1, 5.0, GAMMA, return_scale="J"), "return_scale"),
    ],
)
def test_bad_arguments_raise_clear_errors(logits, call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(logits)


# ---------------------------------------------------------------------- the two scale readings
def test_total_return_scale_steps_on_the_unnormalized_return(logits):
    """``return_scale="total"``: the naive learner ascends ``J`` itself (Eq. 15-16 as printed)."""
    meta, psi = logits[0], logits[1]
    lr = 0.05
    traj = naive_unroll(meta, psi, 2, lr, GAMMA, return_scale="total")
    want = psi
    for got in traj[1:]:
        x = want.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(discounted_returns(meta, x, GAMMA, normalize=False)[1], x)
        want = want + lr * g
        torch.testing.assert_close(got, want)
    # = the per-round reading with the learning rate divided by (1 - gamma)
    torch.testing.assert_close(traj[-1], naive_unroll(meta, psi, 2, lr / (1 - GAMMA), GAMMA)[-1])


def test_summed_episodes_are_m_plus_one_times_the_mean(logits):
    meta = logits[0].clone().requires_grad_(True)
    mean, info = shaping_objective(meta, logits[1:3], 4, 2.0, GAMMA)
    total, _ = shaping_objective(meta, logits[1:3], 4, 2.0, GAMMA, episode_reduction="sum")
    torch.testing.assert_close(total, 5 * mean)
    torch.testing.assert_close(total, info["meta_return"].mean(0).sum())  # the sum runs over the 5 episodes


def test_total_scale_objective_is_j_on_the_naive_trajectory(logits):
    meta = logits[0].clone().requires_grad_(True)
    obj, info = shaping_objective(meta, logits[1:3], 2, 0.1, GAMMA, return_scale="total")
    traj = [naive_unroll(meta, q, 2, 0.1, GAMMA, return_scale="total") for q in logits[1:3]]
    want = torch.stack([torch.stack([discounted_returns(meta, q, GAMMA)[0] for q in t]) for t in traj]).mean()
    torch.testing.assert_close(obj, want)
    assert float(info["meta_return"].abs().max()) < 2.5  # reported per round either way


def test_shaping_weight_scales_only_the_naive_term(logits):
    group = logits[:2].clone().requires_grad_(True)
    naive = logits[2:].unsqueeze(0).expand(2, 2, 5)

    def grad(p: float, **kw) -> torch.Tensor:
        obj, _ = mixed_objective(group, naive, p, 2, 3.0, GAMMA, **kw)
        return torch.autograd.grad(obj.sum(), group)[0]

    g0, g1 = grad(0.0), grad(1.0)
    torch.testing.assert_close(grad(0.3, shaping_weight=4.0), 0.3 * 4.0 * g1 + 0.7 * g0)
    torch.testing.assert_close(grad(0.3, episode_reduction="sum"), 0.3 * 3 * g1 + 0.7 * g0)  # M + 1 = 3 episodes
    torch.testing.assert_close(grad(0.0, shaping_weight=0.0), g0)
