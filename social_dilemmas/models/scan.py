"""Scans of the diagonal linear recurrence ``h_t = a_t * h_{t-1} + b_t`` (the RG-LRU's).

The recurrence is linear, so a whole sequence can be computed without a Python loop over time:
pairs ``(a, b)`` are affine maps ``h -> a h + b`` and composing them is associative,

    (a2, b2) o (a1, b1) = (a2 a1, a2 b1 + b2),

so an inclusive scan of the pairs gives every ``h_t``. :func:`linear_scan` offers two methods:

* ``"doubling"`` — a Hillis–Steele scan (``log2(chunk)`` doubling steps, each one vectorised
  tensor op) inside chunks of ``chunk`` steps, a second small scan over the chunk summaries, and
  one combine: ``O(log L)`` kernel launches, ``O(L log chunk)`` work. Products of ``a`` are
  formed by multiplication only (never ``exp(-cumsum log a)``), so nothing overflows: with
  ``a_t`` in ``[0, 1]`` they can only underflow towards 0, which is their correct value.
* ``"loop"`` — one fused multiply-add per step: ``O(L)`` launches, ``O(L)`` work.

``"auto"`` (the default) takes ``"loop"`` on the CPU, where elementwise ops are memory-bound and
the loop's single pass over the data beats the doubling scan's ``log2(chunk)`` passes (measured
in ``benchmarks/bench_models.py``), and ``"doubling"`` on accelerators, where a loop over time
is bound by kernel launches. Both are differentiable (plain autograd) and agree to float32
round-off; :func:`linear_scan_reference` is the obvious loop, kept for tests and benchmarks.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _scan_pairs(a: Tensor, b: Tensor, dim: int) -> tuple[Tensor, Tensor]:
    """Inclusive Hillis–Steele scan of affine maps along ``dim``: ``(prod a, h with h_{-1} = 0)``."""
    n = a.shape[dim]
    d = 1
    while d < n:
        a_cur, b_cur = a.narrow(dim, d, n - d), b.narrow(dim, d, n - d)
        a_prev, b_prev = a.narrow(dim, 0, n - d), b.narrow(dim, 0, n - d)
        b = torch.cat([b.narrow(dim, 0, d), torch.addcmul(b_cur, a_cur, b_prev)], dim=dim)
        a = torch.cat([a.narrow(dim, 0, d), a_cur * a_prev], dim=dim)
        d *= 2
    return a, b


SCAN_METHODS = ("auto", "doubling", "loop")


def linear_scan(
    a: Tensor, b: Tensor, h0: Tensor | None = None, chunk: int = 64, method: str = "auto"
) -> tuple[Tensor, Tensor]:
    """All states of ``h_t = a_t * h_{t-1} + b_t`` along dim ``-2``.

    Args:
        a: ``[..., L, C]`` decay factors (any real values; the RG-LRU's are in ``[0, 1)``).
        b: ``[..., L, C]`` inputs, same shape as ``a``.
        h0: ``[..., C]`` state before step 0 (default zeros).
        chunk: steps per chunk of the doubling scan's first level.
        method: ``"auto"``, ``"doubling"`` or ``"loop"`` (see the module docstring).

    Returns:
        ``(h [..., L, C], h_last [..., C])``.
    """
    if a.shape != b.shape or a.dim() < 2:
        raise ValueError(f"a and b must have the same shape [..., L, C], got {list(a.shape)} and {list(b.shape)}")
    if method not in SCAN_METHODS:
        raise ValueError(f"method must be one of {', '.join(SCAN_METHODS)}; got {method!r}")
    if method == "auto":
        method = "loop" if a.device.type == "cpu" else "doubling"
    if method == "loop":
        return _scan_loop(a, b, h0)
    return _scan_doubling(a, b, h0, chunk)


def _scan_loop(a: Tensor, b: Tensor, h0: Tensor | None) -> tuple[Tensor, Tensor]:
    # unbind, not a[..., t, :]: one backward node for all steps instead of a full-size
    # zero-padded gradient per step (which made the loop's backward O(L^2) in memory traffic)
    a_steps, b_steps = a.unbind(-2), b.unbind(-2)
    h = b_steps[0] if h0 is None else torch.addcmul(b_steps[0], a_steps[0], h0)
    out = [h]
    for a_t, b_t in zip(a_steps[1:], b_steps[1:]):
        h = torch.addcmul(b_t, a_t, h)
        out.append(h)
    return torch.stack(out, dim=-2), h


def _scan_doubling(a: Tensor, b: Tensor, h0: Tensor | None, chunk: int) -> tuple[Tensor, Tensor]:
    length = a.shape[-2]
    if h0 is not None:
        # Fold the initial state into the first input: h_0 = a_0 h0 + b_0.
        b = torch.cat([torch.addcmul(b[..., :1, :], a[..., :1, :], h0.unsqueeze(-2)), b[..., 1:, :]], dim=-2)
    if length <= chunk:
        _, h = _scan_pairs(a, b, dim=-2)
        return h, h[..., -1, :]
    lead, c = a.shape[:-2], a.shape[-1]
    nc = -(-length // chunk)
    pad = nc * chunk - length
    if pad:
        # Identity maps (a = 1, b = 0) after the end change nothing before it.
        a = torch.cat([a, a.new_ones((*lead, pad, c))], dim=-2)
        b = torch.cat([b, b.new_zeros((*lead, pad, c))], dim=-2)
    a = a.reshape(*lead, nc, chunk, c)
    b = b.reshape(*lead, nc, chunk, c)
    a_in, b_in = _scan_pairs(a, b, dim=-2)  # within each chunk, from a zero state
    # State entering chunk k: scan of the chunk summaries, shifted by one.
    _, carry = _scan_pairs(a_in[..., -1, :], b_in[..., -1, :], dim=-2)  # [..., nc, C]
    h_enter = torch.cat([carry.new_zeros((*lead, 1, c)), carry[..., :-1, :]], dim=-2)
    h = torch.addcmul(b_in, a_in, h_enter.unsqueeze(-2)).reshape(*lead, nc * chunk, c)
    if pad:
        h = h[..., :length, :]
    return h, h[..., -1, :]


def linear_scan_reference(a: Tensor, b: Tensor, h0: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """The same recurrence as :func:`linear_scan`, one step at a time (slow, obviously right)."""
    h = torch.zeros_like(b[..., 0, :]) if h0 is None else h0
    out = []
    for t in range(a.shape[-2]):
        h = a[..., t, :] * h + b[..., t, :]
        out.append(h)
    return torch.stack(out, dim=-2), h
