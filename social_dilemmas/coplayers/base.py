"""The one protocol every co-player follows: fixed strategies, naive learners, trained agents.

A co-player is a *batched policy with explicit memory*. It maps a batch of its own
observations to action probabilities; the caller samples actions with per-sub-environment
uniforms (:func:`social_dilemmas.core.rng.sample_categorical`), so randomness stays owned
by the environment's :class:`~social_dilemmas.core.rng.RNG` and trajectories are the same on
every batch size and device.

Boundaries: at an inner-episode boundary the meta-environment calls
:meth:`CoPlayer.reset_memory` for the finished sub-environments when
``resets_at_inner_boundary`` is true (naive learners, fixed strategies), and never otherwise
(long-context agents). Learning co-players additionally implement :meth:`LearningCoPlayer.update`.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor

from social_dilemmas.models.base import PolicyValueModel
from social_dilemmas.models.population import parameter_vector


@runtime_checkable
class CoPlayer(Protocol):
    """A batched policy with its own memory.

    Attributes:
        num_actions: size of the discrete action set it chooses from.
        resets_at_inner_boundary: whether its memory is cleared at every inner-episode end.
    """

    num_actions: int
    resets_at_inner_boundary: bool

    def initial_memory(self, batch_size: int, device: torch.device) -> Any:
        """Memory for ``batch_size`` sub-environments (``None`` for memoryless policies)."""
        ...

    def action_probs(self, obs: torch.Tensor, memory: Any) -> tuple[torch.Tensor, Any]:
        """``obs [N, *obs_shape]`` -> ``(probs [N, num_actions], new memory)``."""
        ...

    def reset_memory(self, memory: Any, mask: torch.Tensor) -> Any:
        """Clear the memory of the sub-environments where ``mask [N]`` is true."""
        ...


@runtime_checkable
class LearningCoPlayer(CoPlayer, Protocol):
    """A co-player that also learns from batches of finished episodes."""

    def update(self, episodes: Any) -> dict[str, torch.Tensor]:
        """Learn from a batch of finished episodes; returns scalar diagnostics."""
        ...


class SlotModelPolicy:
    """Shared acting code of co-players backed by a population model, one member per slot.

    Subclasses set ``model`` (a :class:`~social_dilemmas.models.PolicyValueModel` with
    ``P = meta_batch``), ``meta_batch`` and ``num_actions``. Observations arrive flattened
    slot-major as ``[meta_batch * B, obs_dim]`` (row ``j * B + b`` is game ``b`` of slot ``j``)
    and member ``j`` acts for slot ``j``.
    """

    model: PolicyValueModel
    meta_batch: int
    num_actions: int

    def initial_memory(self, batch_size: int, device: torch.device | None = None) -> Any:
        return self.model.initial_carry(self._per_slot(batch_size), device)

    @torch.no_grad()
    def action_logits(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        """``obs [meta_batch * B, obs_dim]`` -> ``(logits [meta_batch * B, A], memory)``."""
        b = self._per_slot(obs.shape[0])
        logits, _, memory = self.model.step(obs.reshape(self.meta_batch, b, -1), memory)
        return logits.reshape(obs.shape[0], -1), memory

    def action_probs(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        logits, memory = self.action_logits(obs, memory)
        return torch.softmax(logits, dim=-1), memory

    def reset_memory(self, memory: Any, mask: Tensor) -> Any:
        return self.model.reset_carry(memory, mask.reshape(self.meta_batch, self._per_slot(mask.shape[0])))

    def parameter_vector(self) -> Tensor:
        """``[meta_batch, K]`` the flattened parameters playing in each slot (privileged obs)."""
        return parameter_vector(self.model)

    def _per_slot(self, n: int) -> int:
        if n % self.meta_batch:
            raise ValueError(f"batch of {n} sub-environments is not a multiple of meta_batch={self.meta_batch}")
        return n // self.meta_batch
