"""Embedding + GRU cell + zero-initialised readouts, batched over a population.

``x = Linear(obs_dim, hidden)(obs)``; ``h' = GRUCell(x, h)`` with PyTorch's gate equations::

    r = sigmoid(x W_ir + b_ir + h W_hr + b_hr)
    z = sigmoid(x W_iz + b_iz + h W_hz + b_hz)
    n = tanh(x W_in + b_in + r * (h W_hn + b_hn))
    h' = (1 - z) * n + z * h

and ``(logits, value)`` are read out from ``h'``. Cell weights use PyTorch's default
``U(-1/sqrt(hidden), 1/sqrt(hidden))``; the embedding uses the fan-in normal; readouts start at
zero. Carry: ``(h [P, N, hidden],)``. Sequence mode computes the input projections of all steps
in one matmul and loops only the (nonlinear) recurrence over time, vectorised over ``P`` and ``N``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from social_dilemmas.core.validation import check_positive_int
from social_dilemmas.models.base import (
    Carry,
    ParamSpec,
    PolicyValueModel,
    apply_readouts,
    batched_linear,
    broadcast_mask,
    fan_in_normal,
    readout_specs,
    uniform_init,
    zeros_init,
)


class GRUModel(PolicyValueModel):
    """``P`` GRU policy-value networks.

    Args:
        obs_dim: observation size.
        num_actions: number of actions.
        population: number of independent networks.
        hidden: embedding and GRU width.
        seed: member ``i`` is initialised from ``seed + i``.
    """

    kind = "gru"

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        population: int = 1,
        hidden: int = 32,
        *,
        seed: int = 0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(obs_dim, num_actions, population)
        self.hidden = h = check_positive_int("hidden", hidden)
        bound = 1.0 / math.sqrt(h)
        self._declare(
            [
                ParamSpec("embed_w", (self.obs_dim, h), fan_in_normal(self.obs_dim)),
                ParamSpec("embed_b", (h,), zeros_init()),
                # gates stacked as [r | z | n] along the output dim, like torch.nn.GRUCell
                ParamSpec("w_ih", (h, 3 * h), uniform_init(bound)),
                ParamSpec("b_ih", (3 * h,), uniform_init(bound)),
                ParamSpec("w_hh", (h, 3 * h), uniform_init(bound)),
                ParamSpec("b_hh", (3 * h,), uniform_init(bound)),
                *readout_specs(h, self.num_actions),
            ],
            seed,
            dtype,
        )

    def carry_shapes(self) -> tuple[tuple[int, ...], ...]:
        return ((self.hidden,),)

    def _input_proj(self, obs: Tensor) -> Tensor:
        x = batched_linear(obs, self.embed_w, self.embed_b)
        return batched_linear(x, self.w_ih, self.b_ih)

    def _cell(self, gi: Tensor, h: Tensor) -> Tensor:
        gh = batched_linear(h, self.w_hh, self.b_hh)
        ir, iz, inn = gi.chunk(3, dim=-1)
        hr, hz, hn = gh.chunk(3, dim=-1)
        r = torch.sigmoid(ir + hr)
        z = torch.sigmoid(iz + hz)
        n = torch.tanh(inn + r * hn)
        return n + z * (h - n)

    def _step(self, obs: Tensor, carry: Carry) -> tuple[Tensor, Tensor, Carry]:
        h = self._cell(self._input_proj(obs), carry[0])
        logits, value = apply_readouts(self, h)
        return logits, value, (h,)

    def _sequence(self, obs: Tensor, carry: Carry, reset: Tensor | None) -> tuple[Tensor, Tensor, Carry]:
        gi = self._input_proj(obs)  # [P, N, L, 3h]
        h = carry[0]
        hs = []
        # unbind (one backward node) rather than gi[:, :, t] (a full-size gradient per step)
        keeps = [None] * obs.shape[2] if reset is None else (~reset).to(h.dtype).unbind(2)
        for gi_t, keep in zip(gi.unbind(2), keeps):
            if keep is not None:
                h = h * broadcast_mask(keep, h)
            h = self._cell(gi_t, h)
            hs.append(h)
        hseq = torch.stack(hs, dim=2)
        logits, value = apply_readouts(self, hseq)
        return logits, value, (h,)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", hidden={self.hidden}"
