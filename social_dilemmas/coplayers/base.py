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
