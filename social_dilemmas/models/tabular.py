"""A memoryless table of logits and values, indexed by a one-hot observation.

``logits = obs @ table [P, obs_dim, A]`` and ``value = obs @ values [P, obs_dim]``. With one-hot
observations this is exactly a lookup: row ``s`` of the table holds the logits in state ``s``.
Non-one-hot observations give the matching linear mix of rows.

Relation to the analytic IPD's memory-1 policy: the iterated matrix games observe a one-hot over
the 5 states ``{s0, CC, CD, DC, DD}`` (own action first) and action 0 is *cooperate*. With
``A = 2`` the probability of cooperating in state ``s`` is

    p_s = softmax(table[s])[0] = sigmoid(table[s, 0] - table[s, 1]),

so the analytic parameterisation ``p = sigmoid(theta)`` (5 logits ``theta``) corresponds to
``table[:, :, 0] = theta`` and ``table[:, :, 1] = 0`` (:meth:`TabularModel.set_cooperation_logits`);
:meth:`TabularModel.cooperation_logits` reads ``theta`` back. The table and values start at zero
(uniform play, value 0), as every readout does; pass ``init_std > 0`` for random tables, which
also makes members differ.
"""

from __future__ import annotations

import torch
from torch import Tensor

from social_dilemmas.core.validation import check_finite
from social_dilemmas.models.base import Carry, ParamSpec, PolicyValueModel, batched_linear, normal_init


class TabularModel(PolicyValueModel):
    """Memoryless logits/value tables ``[P, obs_dim, A]`` / ``[P, obs_dim]``; the carry is ``()``.

    Args:
        obs_dim: number of (one-hot) states.
        num_actions: number of actions.
        population: number of independent tables.
        seed: member ``i`` is initialised from ``seed + i``.
        init_std: standard deviation of the initial logits (default 0: uniform policy).
    """

    kind = "tabular"

    def __init__(
        self,
        obs_dim: int,
        num_actions: int,
        population: int = 1,
        *,
        seed: int = 0,
        init_std: float = 0.0,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(obs_dim, num_actions, population)
        init_std = check_finite("init_std", init_std)
        if init_std < 0:
            raise ValueError(f"init_std must be >= 0, got {init_std}")
        self.init_std = init_std
        self._declare(
            [
                ParamSpec("table", (self.obs_dim, self.num_actions), normal_init(init_std)),
                ParamSpec("values", (self.obs_dim, 1), normal_init(0.0)),
            ],
            seed,
            dtype,
        )

    def _step(self, obs: Tensor, carry: Carry) -> tuple[Tensor, Tensor, Carry]:
        return batched_linear(obs, self.table), batched_linear(obs, self.values).squeeze(-1), carry

    def _sequence(self, obs: Tensor, carry: Carry, reset: Tensor | None) -> tuple[Tensor, Tensor, Carry]:
        return self._step(obs, carry)

    def cooperation_logits(self) -> Tensor:
        """``theta [P, obs_dim]`` with ``P(action 0 | s) = sigmoid(theta[:, s])`` (needs ``A = 2``)."""
        self._need_two_actions()
        return self.table[..., 0] - self.table[..., 1]

    def cooperation_probabilities(self) -> Tensor:
        """``P(action 0 | s)``, ``[P, obs_dim]`` (needs ``A = 2``)."""
        return torch.sigmoid(self.cooperation_logits())

    @torch.no_grad()
    def set_cooperation_logits(self, theta: Tensor) -> None:
        """Set the tables so that ``P(action 0 | s) = sigmoid(theta[..., s])``.

        ``theta`` is ``[P, obs_dim]`` or ``[obs_dim]`` (shared by every member).
        """
        self._need_two_actions()
        theta = torch.as_tensor(theta, dtype=self.dtype, device=self.device).expand(self.population, self.obs_dim)
        self.table[..., 0].copy_(theta)
        self.table[..., 1].zero_()

    def _need_two_actions(self) -> None:
        if self.num_actions != 2:
            raise ValueError(f"cooperation logits need num_actions == 2, this model has {self.num_actions}")

    def extra_repr(self) -> str:
        return super().extra_repr() + f", init_std={self.init_std}"
