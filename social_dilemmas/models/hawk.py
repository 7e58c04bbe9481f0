"""The paper's policy network: a one-block Hawk (RG-LRU) with zero-initialised readouts.

Architecture (paper App. B.3; block details from the Hawk/Griffin reference implementation,
De et al. 2024, ``google-deepmind/recurrentgemma``)::

    x = Linear(obs_dim -> d)(obs)                                    # embedding
    x = x + RecurrentBlock(RMSNorm(x))                               # temporal mixing
    x = x + GatedMLP(RMSNorm(x))                                     # channel mixing
    f = RMSNorm(x);  logits = Linear(d -> A)(f);  value = Linear(d -> 1)(f)   # readouts, zero-init

    RecurrentBlock(x) = Linear(lru -> d)( RG_LRU(Conv1D(Linear(d -> lru)(x))) * GeLU(Linear(d -> lru)(x)) )
    GatedMLP(x)       = Linear(m -> d)( GeLU(Linear(d -> m)(x)) * Linear(d -> m)(x) )

RG-LRU with ``H`` heads (block-diagonal gate weights, ``H`` blocks) and ``c = 8``::

    i_t = sigmoid(W_x u_t + b_x),  r_t = sigmoid(W_a u_t + b_a)
    log a_t = -c * r_t * softplus(Lambda)               # a_t = a^(c r_t), a = exp(-softplus(Lambda))
    h_t = a_t * h_{t-1} + sqrt(1 - a_t^2) * (i_t * u_t)

Defaults are the paper's: ``d = lru = m = 32``, ``H = 2``, temporal conv width 4. Initialisation
follows the reference: fan-in normal (variance ``1 / fan_in``) for input linears, variance
``2 / fan_in`` for the two output linears (``2 / num_blocks`` with one block), conv weights
variance ``0.01 / 4``, block-diagonal gates variance ``1 / block_width``, biases and RMSNorm scales
0 (RMSNorm multiplies by ``1 + scale``), ``a`` area-uniform on the ring ``[0.9, 0.999]``; GeLU is
the tanh approximation. Policy and value readouts start at zero.

Carry: ``(h [P, N, lru], conv [P, N, conv_width - 1, lru], started [P, N, 1])`` — the RG-LRU
state, the last ``conv_width - 1`` conv inputs, and 1.0 once a step has been taken since the
last reset. Like the reference (``segment_pos == 0``), the first step of a segment feeds the
gated input un-normalised (multiplier 1 instead of ``sqrt(1 - a_t^2)``); the ``started`` flag
makes step mode agree with sequence mode on this, and a zero carry is a fresh one.
``reset[..., l]`` in sequence mode equals zeroing the carry before step ``l``: the conv does not
look across the boundary and the RG-LRU restarts from zero.

Sequence mode runs the RG-LRU with :func:`social_dilemmas.models.scan.linear_scan` (a chunked
parallel scan on accelerators, a fused loop on the CPU, where it is faster); everything else is
position-wise, computed for many steps at once (on the CPU in time blocks that fit in cache,
see ``time_block``).
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

from social_dilemmas.core.validation import check_choice, check_positive_int
from social_dilemmas.models.base import (
    Carry,
    Init,
    ParamSpec,
    PolicyValueModel,
    apply_readouts,
    batched_linear,
    fan_in_normal,
    normal_init,
    readout_specs,
    rms_norm,
    zeros_init,
)
from social_dilemmas.models.scan import SCAN_METHODS, linear_scan

_MAX_SQRT_GRADIENT = 1000.0
_FAR = 1 << 30  # "no reset seen": further back than any conv window
_CPU_BLOCK_ACTIVATIONS = 1 << 20  # time-block size on the CPU, in activations (see time_block)
_COMPILED_CPU_BLOCK = 64  # time-block length in steps under torch.compile on the CPU


class _SqrtBoundDerivative(torch.autograd.Function):
    """``sqrt(x)`` whose derivative is capped at ``_MAX_SQRT_GRADIENT`` (as in the reference)."""

    @staticmethod
    def forward(ctx, x: Tensor) -> Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        return torch.sqrt(x)

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad / torch.sqrt(torch.clamp(4.0 * x, min=1.0 / _MAX_SQRT_GRADIENT**2))


def sqrt_bound_derivative(x: Tensor) -> Tensor:
    """``sqrt(x)`` with its derivative capped at ``_MAX_SQRT_GRADIENT``.

    Under ``torch.compile`` the same value and first derivative come from a straight-through
    expression (``sqrt(x)`` plus a zero whose gradient is the capped one), which the compiler
    can trace with dynamic shapes; eager mode uses the custom function.
    """
    if torch.compiler.is_compiling():
        slope = torch.rsqrt(torch.clamp(4.0 * x, min=1.0 / _MAX_SQRT_GRADIENT**2)).detach()
        return torch.sqrt(x).detach() + (x - x.detach()) * slope
    return _SqrtBoundDerivative.apply(x)


class _CausalConv(torch.autograd.Function):
    """Depthwise causal conv over time without resets: ``out = b + sum_k ext[t + cw-1-k] * w[cw-1-k]``.

    Same arithmetic as the tap loop of :meth:`HawkModel._conv`; the hand-written backward
    accumulates the input gradient into one buffer instead of one zero-padded slice gradient
    per tap (which autograd would build), the main cost of the conv's backward.
    """

    @staticmethod
    def forward(ctx, ext: Tensor, w: Tensor, b: Tensor) -> Tensor:  # type: ignore[override]
        cw = w.shape[1]
        length = ext.shape[2] - (cw - 1)
        ctx.save_for_backward(ext, w)
        out = b[:, None, None, :]
        for k in range(cw):  # tap k steps back multiplies w[cw-1-k]
            out = torch.addcmul(out, ext[:, :, cw - 1 - k : cw - 1 - k + length], w[:, None, None, cw - 1 - k])
        return out

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, Tensor]:  # type: ignore[override]
        ext, w = ctx.saved_tensors
        cw = w.shape[1]
        length = ext.shape[2] - (cw - 1)
        grad_ext = torch.zeros_like(ext)
        grad_w = torch.empty_like(w)
        for j in range(cw):  # j = cw-1-k: window starts at j
            grad_ext[:, :, j : j + length].addcmul_(grad, w[:, None, None, j])
            grad_w[:, j] = (grad * ext[:, :, j : j + length]).sum((1, 2))
        return grad_ext, grad_w, grad.sum((1, 2))


def _ring(min_rad: float, max_rad: float, eps: float, g: torch.Generator, shape: tuple[int, ...]) -> Tensor:
    u = torch.rand(shape, generator=g, dtype=torch.float64)
    a_sq = min_rad**2 + eps + u * (max_rad**2 - min_rad**2)
    neg_log_a = -0.5 * torch.log(a_sq)
    return torch.log(torch.expm1(neg_log_a)).float()  # softplus^-1(-log a)


def ring_init(min_rad: float, max_rad: float, eps: float = 1e-8) -> Init:
    """``Lambda`` such that ``a = exp(-softplus(Lambda))`` is area-uniform on ``[min_rad, max_rad]``."""
    return partial(_ring, float(min_rad), float(max_rad), float(eps))


def gelu(x: Tensor) -> Tensor:
    return F.gelu(x, approximate="tanh")


class HawkModel(PolicyValueModel):
    """``P`` one-block Hawk policy-value networks (the paper's architecture).

    Args:
        obs_dim: observation size.
        num_actions: number of actions.
        population: number of independent networks.
        hidden: model width ``d`` (paper: 32).
        seed: member ``i`` is initialised from ``seed + i``.
        lru_width: RG-LRU width (default ``hidden``).
        mlp_width: gated-MLP expanded width (default ``hidden``).
        num_heads: blocks of the RG-LRU gates (paper: 2); must divide ``lru_width``.
        conv_width: temporal width of the causal conv (paper/reference: 4).
        c: the RG-LRU's gate exponent (8).
        min_rad, max_rad: ring of the initial ``a`` (0.9, 0.999).
        scan_method: how sequence mode runs the RG-LRU recurrence: ``"doubling"`` (parallel
            scan), ``"loop"``, or ``"auto"`` (loop on the CPU, doubling elsewhere); see
            :mod:`social_dilemmas.models.scan`. Results agree to float round-off.
        scan_chunk: chunk length of the doubling scan (a speed knob).
        time_block: sequence mode runs the network over blocks of this many steps, passing the
            carry on (the same result to float round-off). ``None``: the whole sequence at once;
            ``"auto"``: on the CPU, blocks of about 2**20 activations (``P * N * steps * width``)
            so that intermediates stay in cache (3-4x faster there; 64 steps under ``torch.compile``,
            whose graph must not depend on the batch size), the whole sequence elsewhere.
    """

    kind = "hawk"

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        population: int = 1,
        hidden: int = 32,
        *,
        seed: int = 0,
        lru_width: int | None = None,
        mlp_width: int | None = None,
        num_heads: int = 2,
        conv_width: int = 4,
        c: float = 8.0,
        min_rad: float = 0.9,
        max_rad: float = 0.999,
        scan_chunk: int = 64,
        scan_method: str = "auto",
        time_block: int | str | None = "auto",
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(obs_dim, num_actions, population)
        self.hidden = d = check_positive_int("hidden", hidden)
        self.lru_width = lru = check_positive_int("lru_width", d if lru_width is None else lru_width)
        self.mlp_width = m = check_positive_int("mlp_width", d if mlp_width is None else mlp_width)
        self.num_heads = h = check_positive_int("num_heads", num_heads)
        if lru % h:
            raise ValueError(f"num_heads ({h}) must divide lru_width ({lru})")
        self.conv_width = cw = check_positive_int("conv_width", conv_width)
        self.scan_chunk = check_positive_int("scan_chunk", scan_chunk)
        self.scan_method = check_choice("scan_method", scan_method, SCAN_METHODS)
        if time_block is not None and time_block != "auto":
            time_block = check_positive_int("time_block", time_block)
        self.time_block = time_block
        if not (0.0 < min_rad <= max_rad < 1.0):
            raise ValueError(f"need 0 < min_rad <= max_rad < 1, got min_rad={min_rad}, max_rad={max_rad}")
        if not (math.isfinite(c) and c > 0):
            raise ValueError(f"c must be a positive number, got {c!r}")
        self.c = float(c)
        bw = lru // h
        final_scale = 2.0  # 2 / number of residual blocks
        self._declare(
            [
                ParamSpec("embed_w", (self.obs_dim, d), fan_in_normal(self.obs_dim)),
                ParamSpec("embed_b", (d,), zeros_init()),
                # recurrent block
                ParamSpec("norm1", (d,), zeros_init()),
                ParamSpec("lin_y_w", (d, lru), fan_in_normal(d)),
                ParamSpec("lin_y_b", (lru,), zeros_init()),
                ParamSpec("lin_x_w", (d, lru), fan_in_normal(d)),
                ParamSpec("lin_x_b", (lru,), zeros_init()),
                ParamSpec("conv_w", (cw, lru), normal_init(math.sqrt(0.01 / cw))),
                ParamSpec("conv_b", (lru,), zeros_init()),
                ParamSpec("gate_x_w", (h, bw, bw), fan_in_normal(bw)),
                ParamSpec("gate_x_b", (h, bw), zeros_init()),
                ParamSpec("gate_a_w", (h, bw, bw), fan_in_normal(bw)),
                ParamSpec("gate_a_b", (h, bw), zeros_init()),
                ParamSpec("a_param", (lru,), ring_init(min_rad, max_rad)),
                ParamSpec("lin_out_w", (lru, d), fan_in_normal(lru, final_scale)),
                ParamSpec("lin_out_b", (d,), zeros_init()),
                # gated MLP block
                ParamSpec("norm2", (d,), zeros_init()),
                ParamSpec("mlp_gate_w", (d, m), fan_in_normal(d)),
                ParamSpec("mlp_gate_b", (m,), zeros_init()),
                ParamSpec("mlp_up_w", (d, m), fan_in_normal(d)),
                ParamSpec("mlp_up_b", (m,), zeros_init()),
                ParamSpec("mlp_down_w", (m, d), fan_in_normal(m, final_scale)),
                ParamSpec("mlp_down_b", (d,), zeros_init()),
                # head
                ParamSpec("final_norm", (d,), zeros_init()),
                *readout_specs(d, self.num_actions),
            ],
            seed,
            dtype,
        )

    def carry_shapes(self) -> tuple[tuple[int, ...], ...]:
        return ((self.lru_width,), (self.conv_width - 1, self.lru_width), (1,))

    # -- pieces ----------------------------------------------------------------------------

    def _dense_gate(self, w: Tensor) -> Tensor:
        """A block-diagonal gate weight ``[P, H, bw, bw]`` as a dense ``[P, H*bw, H*bw]`` matrix.

        The block structure is kept by construction (off-diagonal blocks are constant zeros, so
        they get no gradient); one dense matmul over 32 channels is cheaper than per-head
        einsums with their permutes.
        """
        p, hh, bw, _ = w.shape
        eye = torch.eye(hh, dtype=w.dtype, device=w.device)
        return torch.einsum("phij,hk->phikj", w, eye).reshape(p, hh * bw, hh * bw)

    def _conv(self, u: Tensor, buf: Tensor, pos: Tensor | None) -> tuple[Tensor, Tensor]:
        """Causal depthwise conv over time with ``buf`` holding the previous inputs.

        ``pos [P, N, L]`` (or None when nothing resets) counts the steps since the last reset,
        0 at a reset; a tap ``k`` steps back is used only if ``k <= pos``.
        """
        cw, length = self.conv_width, u.shape[2]
        ext = torch.cat([buf, u], dim=2)  # [P, N, cw-1+L, lru]
        w = self.conv_w  # [P, cw, lru]
        if pos is None and not torch.compiler.is_compiling():  # the compiler fuses the tap loop
            return _CausalConv.apply(ext, w, self.conv_b), ext[:, :, ext.shape[2] - (cw - 1) :]
        out = self.conv_b[:, None, None, :]
        for k in range(cw):  # tap k steps back multiplies w[cw-1-k]
            window = ext[:, :, cw - 1 - k : cw - 1 - k + length]
            wk = w[:, None, None, cw - 1 - k]
            if pos is not None and k > 0:
                wk = wk * (pos >= k).unsqueeze(-1).to(ext.dtype)  # no tap across a reset
            out = torch.addcmul(out, window, wk)
        new_buf = ext[:, :, ext.shape[2] - (cw - 1) :]
        if pos is not None and cw > 1:
            # keep only inputs after the last reset: slot j holds the input (cw-2-j) steps back
            back = torch.arange(cw - 2, -1, -1, device=u.device)
            keep = pos[:, :, -1:] >= back  # [P, N, cw-1]
            new_buf = new_buf * keep.unsqueeze(-1).to(new_buf.dtype)
        return out, new_buf

    def _run(self, obs: Tensor, carry: Carry, reset: Tensor | None) -> tuple[Tensor, Tensor, Carry]:
        """The network over ``obs [P, N, L, obs_dim]`` from ``carry`` (shared by both modes)."""
        h0, buf, started = carry
        p, n, length = obs.shape[:3]
        if reset is not None:
            idx = torch.arange(length, device=obs.device)
            last = torch.where(reset, idx, torch.full_like(idx, -_FAR)).cummax(dim=-1).values
            pos = idx - last  # [P, N, L]
            start = reset.clone()
        else:
            pos = None
            start = torch.zeros((p, n, length), dtype=torch.bool, device=obs.device)
        start[:, :, 0] |= started[..., 0] <= 0  # a fresh carry starts a segment

        x = batched_linear(obs, self.embed_w, self.embed_b)
        # recurrent block. Each linear is its own matmul (no concatenated weights split after):
        # a split's backward concatenates the gradients, a full extra pass over the activations.
        xn = rms_norm(x, self.norm1)
        y = gelu(batched_linear(xn, self.lin_y_w, self.lin_y_b))
        u, new_buf = self._conv(batched_linear(xn, self.lin_x_w, self.lin_x_b), buf, pos)
        gate_x = torch.sigmoid(batched_linear(u, self._dense_gate(self.gate_x_w), self.gate_x_b.flatten(1)))
        gate_a = torch.sigmoid(batched_linear(u, self._dense_gate(self.gate_a_w), self.gate_a_b.flatten(1)))
        # log a_t = -c r_t softplus(Lambda); the input is scaled by sqrt(1 - a_t^2) except at a segment start
        log_a = gate_a * (-self.c * F.softplus(self.a_param))[:, None, None, :]
        a = torch.exp(log_a)
        mult = sqrt_bound_derivative(-torch.expm1(2.0 * log_a))
        mult = torch.where(start.unsqueeze(-1), 1.0, mult)
        bx = u * gate_x * mult
        if reset is not None:
            a = torch.where(reset.unsqueeze(-1), 0.0, a)
        hs, h_last = linear_scan(a, bx, h0, chunk=self.scan_chunk, method=self.scan_method)
        x = x + batched_linear(hs * y, self.lin_out_w, self.lin_out_b)
        # gated MLP block
        xn = rms_norm(x, self.norm2)
        hidden = gelu(batched_linear(xn, self.mlp_gate_w, self.mlp_gate_b)) * batched_linear(
            xn, self.mlp_up_w, self.mlp_up_b
        )
        x = x + batched_linear(hidden, self.mlp_down_w, self.mlp_down_b)
        logits, value = apply_readouts(self, rms_norm(x, self.final_norm))
        return logits, value, (h_last, new_buf, torch.ones_like(started))

    # -- the two modes ---------------------------------------------------------------------

    def _step(self, obs: Tensor, carry: Carry) -> tuple[Tensor, Tensor, Carry]:
        logits, value, carry = self._run(obs.unsqueeze(2), carry, None)
        return logits.squeeze(2), value.squeeze(2), carry

    def _block_length(self, obs: Tensor) -> int:
        p, n, length = obs.shape[:3]
        if self.time_block is None:
            return length
        if self.time_block == "auto":
            if obs.device.type != "cpu":
                return length
            if torch.compiler.is_compiling():
                # the compiled graph must not depend on the batch size (data-parallel ranks see
                # minibatches of varying size): a fixed block, the eager rule's value at paper scale
                return _COMPILED_CPU_BLOCK
            width = max(self.hidden, self.lru_width, self.mlp_width)
            return max(1, _CPU_BLOCK_ACTIVATIONS // (p * n * width))
        return int(self.time_block)

    def _sequence(self, obs: Tensor, carry: Carry, reset: Tensor | None) -> tuple[Tensor, Tensor, Carry]:
        length = obs.shape[2]
        block = self._block_length(obs)
        if block >= length:
            return self._run(obs, carry, reset)
        logits, values = [], []
        for s in range(0, length, block):
            r = None if reset is None else reset[:, :, s : s + block]
            lg, v, carry = self._run(obs[:, :, s : s + block], carry, r)
            logits.append(lg)
            values.append(v)
        return torch.cat(logits, dim=2), torch.cat(values, dim=2), carry

    def extra_repr(self) -> str:
        return super().extra_repr() + (
            f", hidden={self.hidden}, lru_width={self.lru_width}, mlp_width={self.mlp_width}, "
            f"num_heads={self.num_heads}, conv_width={self.conv_width}"
        )
