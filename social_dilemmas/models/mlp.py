"""A memoryless two-layer tanh MLP with zero-initialised policy and value readouts.

``obs -> tanh(Linear(obs_dim, hidden)) -> tanh(Linear(hidden, hidden)) -> (logits, value)``.
Hidden layers use the fan-in normal initialisation (variance ``1 / fan_in``); readouts start at
zero (uniform play, value 0). The carry is ``()``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from social_dilemmas.core.validation import check_positive_int
from social_dilemmas.models.base import (
    Carry,
    ParamSpec,
    PolicyValueModel,
    apply_readouts,
    batched_linear,
    fan_in_normal,
    readout_specs,
    zeros_init,
)


class MLPModel(PolicyValueModel):
    """``P`` memoryless tanh MLPs.

    Args:
        obs_dim: observation size.
        num_actions: number of actions.
        population: number of independent networks.
        hidden: width of both hidden layers.
        seed: member ``i`` is initialised from ``seed + i``.
    """

    kind = "mlp"

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
        self.hidden = check_positive_int("hidden", hidden)
        h = self.hidden
        self._declare(
            [
                ParamSpec("fc1_w", (self.obs_dim, h), fan_in_normal(self.obs_dim)),
                ParamSpec("fc1_b", (h,), zeros_init()),
                ParamSpec("fc2_w", (h, h), fan_in_normal(h)),
                ParamSpec("fc2_b", (h,), zeros_init()),
                *readout_specs(h, self.num_actions),
            ],
            seed,
            dtype,
        )

    def _step(self, obs: Tensor, carry: Carry) -> tuple[Tensor, Tensor, Carry]:
        x = torch.tanh(batched_linear(obs, self.fc1_w, self.fc1_b))
        x = torch.tanh(batched_linear(x, self.fc2_w, self.fc2_b))
        logits, value = apply_readouts(self, x)
        return logits, value, carry

    def _sequence(self, obs: Tensor, carry: Carry, reset: Tensor | None) -> tuple[Tensor, Tensor, Carry]:
        return self._step(obs, carry)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", hidden={self.hidden}"
