"""A frozen trained policy as a co-player ("another agent"), with long-context memory.

An :class:`AgentCoPlayer` plays with the parameters of one or more trained
:class:`~social_dilemmas.models.PolicyValueModel` members, frozen for the whole meta-episode.
Its recurrent memory is **never** reset at inner-episode boundaries
(``resets_at_inner_boundary = False``): like a learning-aware (meta) agent it sees the long
history of all ``M`` inner episodes, and only a new meta-episode starts it afresh
(paper App. B.2.1: meta opponents act with their current, frozen parameters and their own
long-context memory over the ``M T`` steps).

Layout: the co-player acts for a whole meta-batch at once. Observations arrive flattened as
``[meta_batch * B, *obs]`` (slot-major: row ``j * B + b`` is game ``b`` of meta-batch slot
``j``); the co-player holds a population model with ``P = meta_batch`` whose member ``j`` is a
copy of the agent assigned to slot ``j``.

The population helpers it uses (:func:`population_like`, :func:`copy_members_`,
:func:`parameter_vector`) live in :mod:`social_dilemmas.models.population` and are
re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from social_dilemmas.coplayers.base import SlotModelPolicy
from social_dilemmas.core.validation import MAX_BATCH, check_positive_int
from social_dilemmas.models.base import PolicyValueModel
from social_dilemmas.models.population import copy_members_, member_index, parameter_vector, population_like

__all__ = ["AgentCoPlayer", "copy_members_", "parameter_vector", "population_like"]


# ----------------------------------------------------------------------------- the co-player


class AgentCoPlayer(SlotModelPolicy):
    """Frozen trained policies acting as co-players over a meta-batch, memory kept across inner episodes.

    Args:
        agents: a population model whose members are the trained agents.
        meta_batch: number of meta-batch slots this co-player plays in.
        members: which agent plays in each slot (``[meta_batch]`` indices, or one int for all
            slots); default ``0``. Change it later with :meth:`assign`.
        greedy: play the most likely action instead of sampling (default: sample).

    The co-player copies the assigned members into its own ``P = meta_batch`` model, so later
    changes to ``agents`` do not leak into a running meta-episode (call :meth:`assign` to
    refresh, e.g. after the agents were trained).
    """

    resets_at_inner_boundary = False
    kind = "agent"

    def __init__(
        self,
        agents: PolicyValueModel,
        meta_batch: int,
        members: Tensor | Sequence[int] | int = 0,
        *,
        greedy: bool = False,
    ) -> None:
        if not isinstance(agents, PolicyValueModel):
            raise TypeError(f"agents must be a PolicyValueModel, got {type(agents).__name__}")
        self.meta_batch = check_positive_int("meta_batch", meta_batch, MAX_BATCH)
        self.num_actions = agents.num_actions
        self.obs_dim = agents.obs_dim
        self.greedy = bool(greedy)
        self.model = population_like(agents, self.meta_batch, 0).requires_grad_(False)
        self.members = torch.zeros(self.meta_batch, dtype=torch.int64)
        self.assign(agents, members)

    @property
    def device(self) -> torch.device:
        return self.model.device

    def assign(
        self, agents: PolicyValueModel, members: Tensor | Sequence[int] | int, mask: Tensor | None = None
    ) -> None:
        """Slot ``j`` plays member ``members[j]`` of ``agents`` (only where ``mask[j]``, if given)."""
        idx = member_index(members, agents.population, agents.device)
        if idx.numel() == 1:
            idx = idx.expand(self.meta_batch)
        if idx.numel() != self.meta_batch:
            raise ValueError(f"members must hold 1 or meta_batch={self.meta_batch} indices, got {idx.numel()}")
        copy_members_(self.model, agents, idx, mask)
        m = idx.cpu() if mask is None else torch.where(mask.cpu(), idx.cpu(), self.members)
        self.members = m.clone()

    # -- CoPlayer protocol (the rest is SlotModelPolicy's) ------------------------------------

    def action_probs(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        logits, memory = self.action_logits(obs, memory)
        if self.greedy:
            return torch.nn.functional.one_hot(logits.argmax(-1), self.num_actions).to(logits.dtype), memory
        return torch.softmax(logits, dim=-1), memory

    def __repr__(self) -> str:
        return f"AgentCoPlayer({self.model.kind}, meta_batch={self.meta_batch}, greedy={self.greedy})"
