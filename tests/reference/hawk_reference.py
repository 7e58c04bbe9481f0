"""The Hawk network written from its equations, one member and one sub-environment at a time.

Slow and obvious on purpose: no scan, no batching, no custom backward. ``tests/test_hawk.py``
checks the batched ``social_dilemmas.models.hawk.HawkModel`` against it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _gelu(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _rms(x, scale):
    return x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-6) * (1.0 + scale)


def naive_hawk_member(s: dict, obs: torch.Tensor, reset: torch.Tensor, heads: int = 2, c: float = 8.0):
    """One member, one sub-environment, written from the equations step by step (no scan, no batching)."""
    length = obs.shape[0]
    lru = s["a_param"].shape[0]
    cw = s["conv_w"].shape[0]
    bw = lru // heads
    h = torch.zeros(lru)
    past: list[torch.Tensor] = []  # conv inputs since the last reset, newest last
    logits, values = [], []

    def block_diag(u, w, b):
        return torch.cat([u[k * bw : (k + 1) * bw] @ w[k] + b[k] for k in range(heads)])

    for t in range(length):
        if reset[t]:
            h = torch.zeros(lru)
            past = []
        first = len(past) == 0 and (t == 0 or bool(reset[t]))
        x = obs[t] @ s["embed_w"] + s["embed_b"]
        xn = _rms(x, s["norm1"])
        y = _gelu(xn @ s["lin_y_w"] + s["lin_y_b"])
        u_in = xn @ s["lin_x_w"] + s["lin_x_b"]
        past.append(u_in)
        u = s["conv_b"].clone()
        for k in range(cw):  # k steps back
            if k < len(past):
                u = u + past[-1 - k] * s["conv_w"][cw - 1 - k]
        past = past[-(cw - 1) :] if cw > 1 else []
        gx = torch.sigmoid(block_diag(u, s["gate_x_w"], s["gate_x_b"]))
        ga = torch.sigmoid(block_diag(u, s["gate_a_w"], s["gate_a_b"]))
        a_base = torch.exp(-F.softplus(s["a_param"]))
        a = a_base ** (c * ga)
        mult = torch.ones(lru) if first else torch.sqrt(1.0 - a * a)
        h = a * h + mult * (gx * u)
        x = x + (h * y) @ s["lin_out_w"] + s["lin_out_b"]
        xn = _rms(x, s["norm2"])
        g = _gelu(xn @ s["mlp_gate_w"] + s["mlp_gate_b"]) * (xn @ s["mlp_up_w"] + s["mlp_up_b"])
        x = x + g @ s["mlp_down_w"] + s["mlp_down_b"]
        f = _rms(x, s["final_norm"])
        logits.append(f @ s["policy_w"] + s["policy_b"])
        values.append((f @ s["value_w"] + s["value_b"])[0])
    return torch.stack(logits), torch.stack(values), h
