"""Population helpers: gather, copy, flatten and slice members of population models.

Every :class:`~social_dilemmas.models.PolicyValueModel` stacks ``P`` independent networks
along dim 0 of each parameter. These helpers move members between such models of one
architecture without loops over members:

* :func:`population_like` — a new model whose members are copies of chosen members;
* :func:`copy_members_` — overwrite members of a model in place (storage kept);
* :func:`parameter_vector` — all members' parameters as one ``[P, K]`` matrix;
* :func:`member_view` — a model over members ``start:stop`` that *shares* storage, for
  computing gradients block by block (its parameters are leaves of their own).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from social_dilemmas.core.validation import check_positive_int
from social_dilemmas.models.base import PolicyValueModel

__all__ = ["copy_members_", "member_index", "member_view", "parameter_vector", "population_like"]


def member_index(index: Tensor | Sequence[int] | int, population: int, device: torch.device) -> Tensor:
    """``index`` (tensor, sequence or int) as a flat int64 tensor of member indices, range-checked."""
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
    idx = member_index(index, model.population, model.device)
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


def member_view(model: PolicyValueModel, start: int, stop: int) -> PolicyValueModel:
    """Members ``start:stop`` of ``model`` as a model of population ``stop - start`` sharing storage.

    Its parameters are new leaf tensors over the same memory (in-place changes to ``model``'s
    parameters show through, and vice versa), so ``torch.autograd.grad`` with respect to them
    gives the ``[stop - start, ...]`` gradient block directly, without the zero-padded
    full-size gradient that differentiating through a slice of ``model``'s parameters builds.
    """
    if not (0 <= start < stop <= model.population):
        raise IndexError(f"need 0 <= start < stop <= {model.population}, got start={start}, stop={stop}")
    view = copy.copy(model)  # shallow: submodule dicts are copied below, tensors are not
    view._parameters = {
        n: None if p is None else nn.Parameter(p.detach()[start:stop], requires_grad=p.requires_grad)
        for n, p in model._parameters.items()
    }
    view._buffers = dict(model._buffers)
    view._modules = dict(model._modules)
    view.population = stop - start
    return view
