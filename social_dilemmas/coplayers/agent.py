"""A frozen trained policy as a co-player ("another agent"), with long-context memory.

An :class:`AgentCoPlayer` plays with the parameters of one or more trained
:class:`~social_dilemmas.models.PolicyValueModel` members, frozen for the whole meta-episode.
Its recurrent memory is **never** reset at inner-episode boundaries
(``resets_at_inner_boundary = False``): like a learning-aware (meta) agent it sees the long
history of all ``M`` inner episodes, and only a new meta-episode starts it afresh
(paper.md §1.6-1.7: meta opponents act with their current, frozen parameters and their own
long-context memory over the ``M T`` steps).

Layout: the co-player acts for a whole meta-batch at once. Observations arrive flattened as
``[meta_batch * B, *obs]`` (slot-major: row ``j * B + b`` is game ``b`` of meta-batch slot
``j``); the co-player holds a population model with ``P = meta_batch`` whose member ``j`` is a
copy of the agent assigned to slot ``j``.

The population helpers :func:`population_like` and :func:`copy_members_` (gather members of
one population model into another of the same architecture) live here and are shared with
the naive learners and the opponent pool.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from social_dilemmas.core.validation import check_positive_int
from social_dilemmas.models.base import PolicyValueModel

__all__ = ["AgentCoPlayer", "copy_members_", "parameter_vector", "population_like"]


# ----------------------------------------------------------------------------- population helpers


def _as_index(index: Tensor | Sequence[int] | int, population: int, device: torch.device) -> Tensor:
    idx = torch.as_tensor(index, dtype=torch.int64, device=device).reshape(-1)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= population):
        raise IndexError(f"member indices must lie in [0, {population}), got {idx.tolist()}")
    return idx


def population_like(
    model: PolicyValueModel, population: int, index: Tensor | Sequence[int] | int = 0
) -> PolicyValueModel:
    """A new model of ``model``'s architecture with ``population`` members copied from ``index``.

    Member ``k`` of the result is member ``index[k]`` of ``model`` (an int index is broadcast).
    Works for every :class:`PolicyValueModel`: the module is deep-copied and each stacked
    ``[P, ...]`` parameter is replaced by its gathered ``[population, ...]`` version.
    """
    population = check_positive_int("population", population)
    idx = _as_index(index, model.population, model.device)
    if idx.numel() == 1:
        idx = idx.expand(population)
    if idx.numel() != population:
        raise ValueError(f"index must hold 1 or {population} member indices, got {idx.numel()}")
    # Deep-copy without duplicating the (possibly large) parameters first.
    memo = {id(getattr(model, n)): None for n in model.param_names()}
    clone = copy.deepcopy(model, memo)
    with torch.no_grad():
        for n in model.param_names():
            src = getattr(model, n)
            setattr(clone, n, nn.Parameter(src.detach()[idx].clone(), requires_grad=src.requires_grad))
    clone.population = population
    return clone


@torch.no_grad()
def copy_members_(dst: PolicyValueModel, src: PolicyValueModel, index: Tensor, mask: Tensor | None = None) -> None:
    """In place: member ``j`` of ``dst`` := member ``index[j]`` of ``src`` (where ``mask[j]``).

    One gather per parameter tensor, no loop over members. ``dst`` and ``src`` must share the
    architecture (same parameter names and per-member shapes).
    """
    names = dst.param_names()
    if names != src.param_names():
        raise ValueError(
            f"cannot copy members between different architectures: {type(src).__name__}({src.kind}) -> "
            f"{type(dst).__name__}({dst.kind})"
        )
    idx = index.to(device=src.device, dtype=torch.int64)
    if idx.shape != (dst.population,):
        raise ValueError(f"index must have shape [{dst.population}], got {list(idx.shape)}")
    for n in names:
        d, s = getattr(dst, n), getattr(src, n)
        if d.shape[1:] != s.shape[1:]:
            raise ValueError(f"parameter {n!r} has per-member shape {tuple(s.shape[1:])} in the source "
                             f"but {tuple(d.shape[1:])} in the destination")
        new = s.detach()[idx].to(device=d.device, dtype=d.dtype)
        if mask is None:
            d.copy_(new)
        else:
            m = mask.to(device=d.device, dtype=torch.bool).view(-1, *([1] * (d.dim() - 1)))
            d.copy_(torch.where(m, new, d))


def parameter_vector(model: PolicyValueModel) -> Tensor:
    """All parameters of every member flattened: ``[P, num_params_per_member]`` (detached)."""
    return torch.cat([getattr(model, n).detach().reshape(model.population, -1) for n in model.param_names()], dim=1)


# ----------------------------------------------------------------------------- the co-player


class AgentCoPlayer:
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
        self.meta_batch = check_positive_int("meta_batch", meta_batch)
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
        idx = _as_index(members, agents.population, agents.device)
        if idx.numel() == 1:
            idx = idx.expand(self.meta_batch)
        if idx.numel() != self.meta_batch:
            raise ValueError(f"members must hold 1 or meta_batch={self.meta_batch} indices, got {idx.numel()}")
        copy_members_(self.model, agents, idx, mask)
        m = idx.cpu() if mask is None else torch.where(mask.cpu(), idx.cpu(), self.members)
        self.members = m.clone()

    # -- CoPlayer protocol -----------------------------------------------------------------

    def initial_memory(self, batch_size: int, device: torch.device | None = None) -> Any:
        b = self._per_slot(batch_size)
        return self.model.initial_carry(b, device)

    @torch.no_grad()
    def action_logits(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        """``obs [meta_batch * B, obs_dim]`` -> ``(logits [meta_batch * B, A], memory)``."""
        b = self._per_slot(obs.shape[0])
        logits, _, memory = self.model.step(obs.reshape(self.meta_batch, b, -1), memory)
        return logits.reshape(obs.shape[0], -1), memory

    def action_probs(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        logits, memory = self.action_logits(obs, memory)
        if self.greedy:
            return torch.nn.functional.one_hot(logits.argmax(-1), self.num_actions).to(logits.dtype), memory
        return torch.softmax(logits, dim=-1), memory

    def reset_memory(self, memory: Any, mask: Tensor) -> Any:
        b = self._per_slot(mask.shape[0])
        return self.model.reset_carry(memory, mask.reshape(self.meta_batch, b))

    # -- meta-environment hooks ------------------------------------------------------------

    def parameter_vector(self) -> Tensor:
        """``[meta_batch, K]`` the flattened parameters playing in each slot (privileged obs)."""
        return parameter_vector(self.model)

    def _per_slot(self, n: int) -> int:
        if n % self.meta_batch:
            raise ValueError(f"batch of {n} sub-environments is not a multiple of meta_batch={self.meta_batch}")
        return n // self.meta_batch

    def __repr__(self) -> str:
        return f"AgentCoPlayer({self.model.kind}, meta_batch={self.meta_batch}, greedy={self.greedy})"
