"""The Hawk network: against a step-by-step reference, its scan and its hand-written backwards."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from model_helpers import OBS_DIM, A, assert_carry_close, build, random_obs
from reference.hawk_reference import naive_hawk_member

from social_dilemmas.models import make_model
from social_dilemmas.models.scan import linear_scan, linear_scan_reference


@pytest.mark.parametrize(
    "options",
    [
        {"scan_method": "doubling", "scan_chunk": 1},
        {"scan_method": "doubling", "scan_chunk": 7},
        {"scan_method": "doubling", "scan_chunk": 512},
        {"scan_method": "loop"},
        {"time_block": 1},
        {"time_block": 13, "scan_method": "doubling"},
        {"time_block": "auto"},
    ],
)
def test_hawk_scan_options_do_not_change_results(options):
    obs = random_obs(2, 3, 150)
    reset = torch.rand(2, 3, 150, generator=torch.Generator().manual_seed(1)) < 0.05
    outs = []
    for opts in ({"scan_method": "doubling", "scan_chunk": 64, "time_block": None}, options):
        m = build("hawk", population=2, **opts)
        outs.append(m(obs, None, reset))
    for o in outs[1:]:
        torch.testing.assert_close(o[0], outs[0][0], atol=1e-5, rtol=1e-5)
        assert_carry_close(o[2], outs[0][2])


@pytest.mark.parametrize("length", [1, 30, 130])
@pytest.mark.parametrize("scan_method", ["doubling", "loop"])
def test_hawk_matches_naive_reference(length, scan_method):
    p, n = 2, 3
    m = build("hawk", population=p, scan_chunk=32, scan_method=scan_method, time_block=None)
    obs = random_obs(p, n, length, seed=11)
    reset = torch.rand(p, n, length, generator=torch.Generator().manual_seed(12)) < 0.08
    with torch.no_grad():
        logits, value, carry = m(obs, None, reset)
        for i in range(p):
            s = m.member_state(i)
            for j in range(n):
                lg, v, h = naive_hawk_member(s, obs[i, j], reset[i, j])
                torch.testing.assert_close(logits[i, j], lg, atol=1e-5, rtol=1e-5)
                torch.testing.assert_close(value[i, j], v, atol=1e-5, rtol=1e-5)
                torch.testing.assert_close(carry[0][i, j], h, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("length,chunk", [(1, 64), (5, 2), (64, 64), (65, 64), (200, 64), (1000, 128), (77, 1)])
def test_linear_scan_matches_loop(length, chunk):
    g = torch.Generator().manual_seed(length)
    a = torch.rand(3, 2, length, 4, generator=g)
    a[..., ::17, :] = 0.0  # resets
    b = torch.randn(3, 2, length, 4, generator=g)
    h0 = torch.randn(3, 2, 4, generator=g)
    h, last = linear_scan(a, b, h0, chunk=chunk)
    h_ref, last_ref = linear_scan_reference(a, b, h0)
    torch.testing.assert_close(h, h_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(last, last_ref, atol=1e-5, rtol=1e-5)
    h, _ = linear_scan(a, b, None, chunk=chunk)
    torch.testing.assert_close(h, linear_scan_reference(a, b)[0], atol=1e-5, rtol=1e-5)


def test_linear_scan_gradients_match_loop():
    g = torch.Generator().manual_seed(0)
    a = (torch.rand(2, 90, 3, generator=g) * 0.5 + 0.5).requires_grad_()
    b = torch.randn(2, 90, 3, generator=g).requires_grad_()
    w = torch.randn(2, 90, 3, generator=g)
    (gs_a, gs_b) = torch.autograd.grad((linear_scan(a, b, chunk=16)[0] * w).sum(), (a, b))
    (gr_a, gr_b) = torch.autograd.grad((linear_scan_reference(a, b)[0] * w).sum(), (a, b))
    torch.testing.assert_close(gs_a, gr_a, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(gs_b, gr_b, atol=1e-4, rtol=1e-4)


def _reference_rms_norm(x: torch.Tensor, scale: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    shape = (scale.shape[0],) + (1,) * (x.dim() - 2) + (scale.shape[-1],)
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * (1.0 + scale.view(shape))


def _reference_conv(ext: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    cw = w.shape[1]
    length = ext.shape[2] - (cw - 1)
    return b[:, None, None, :] + sum(ext[:, :, j : j + length] * w[:, None, None, j] for j in range(cw))


def test_hand_written_backwards_match_autograd():
    """RMSNorm and the causal conv: values, gradients and second-order gradients (float64)."""
    from social_dilemmas.models.base import _RMSNorm
    from social_dilemmas.models.hawk import _CausalConv

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    scale = (0.3 * torch.randn(2, 5, generator=g, dtype=torch.float64)).requires_grad_()
    torch.testing.assert_close(_RMSNorm.apply(x, scale, 1e-6), _reference_rms_norm(x, scale))
    assert torch.autograd.gradcheck(lambda a, s: _RMSNorm.apply(a, s, 1e-6), (x, scale))
    assert torch.autograd.gradgradcheck(lambda a, s: _RMSNorm.apply(a, s, 1e-6), (x, scale))
    ext = torch.randn(2, 3, 3 + 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(2, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 5, generator=g, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(_CausalConv.apply(ext, w, b), _reference_conv(ext, w, b))
    assert torch.autograd.gradcheck(_CausalConv.apply, (ext, w, b))
    assert torch.autograd.gradgradcheck(_CausalConv.apply, (ext, w, b))


def test_hawk_initial_decay_on_ring():
    m = make_model("hawk", OBS_DIM, A, population=4, seed=0)
    a = torch.exp(-F.softplus(m.a_param.detach()))
    assert a.min() >= 0.9 - 1e-6 and a.max() <= 0.999 + 1e-6
    assert torch.all(m.norm1 == 0) and torch.all(m.lin_x_b == 0)
    assert m.conv_w.std().item() == pytest.approx(math.sqrt(0.01 / 4), rel=0.3)
