"""Policy networks shared by naive learners, the COALA reference learner and the baselines.

Every model is a *population* of ``P`` independent networks in one module (see
:mod:`social_dilemmas.models.base` for the contract): inputs are ``[P, N, ...]``, parameters are
``[P, ...]``, and member ``i``'s initialisation depends only on ``seed + i``.

Kinds (:func:`make_model`):

* ``"hawk"`` — the paper's network (App. B.3): embedding, one residual Hawk block (RG-LRU),
  RMSNorm, zero-initialised readouts; a parallel scan in sequence mode.
* ``"gru"`` — embedding + GRU cell + readouts.
* ``"mlp"`` — memoryless two-layer tanh MLP.
* ``"tabular"`` — memoryless logit/value tables on one-hot observations (the IPD's memory-1 policy).

Example::

    >>> import torch
    >>> from social_dilemmas.models import make_model
    >>> m = make_model("hawk", obs_dim=5, num_actions=2, population=4, seed=0)
    >>> carry = m.initial_carry(batch_size=16)
    >>> logits, value, carry = m.step(torch.zeros(4, 16, 5), carry)
    >>> logits.shape, value.shape
    (torch.Size([4, 16, 2]), torch.Size([4, 16]))
"""

from __future__ import annotations

import importlib
from typing import Any

import torch

from social_dilemmas.core.devices import check_device
from social_dilemmas.core.validation import MAX_HIDDEN, check_positive_int
from social_dilemmas.models.base import Carry, PolicyValueModel, member_seed, resolve_seed
from social_dilemmas.models.functional import log_probs_entropy, probs, sample_actions, sample_actions_from_uniforms
from social_dilemmas.models.population import copy_members_, member_view, parameter_vector, population_like

#: kind -> "module:Class" (imported on first use).
MODEL_KINDS: dict[str, str] = {
    "hawk": "social_dilemmas.models.hawk:HawkModel",
    "gru": "social_dilemmas.models.gru:GRUModel",
    "mlp": "social_dilemmas.models.mlp:MLPModel",
    "tabular": "social_dilemmas.models.tabular:TabularModel",
}


def model_class(kind: str) -> type[PolicyValueModel]:
    """The class registered under ``kind``."""
    if kind not in MODEL_KINDS:
        raise ValueError(f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(MODEL_KINDS))}")
    module, name = MODEL_KINDS[kind].split(":")
    return getattr(importlib.import_module(module), name)


def make_model(
    kind: str,
    obs_dim: int,
    num_actions: int,
    population: int = 1,
    hidden: int = 32,
    generator: torch.Generator | None = None,
    *,
    seed: int | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    **kw: Any,
) -> PolicyValueModel:
    """Build a population of ``population`` networks of the given ``kind``.

    Args:
        kind: one of :data:`MODEL_KINDS` (``"hawk"``, ``"gru"``, ``"mlp"``, ``"tabular"``).
        obs_dim: flat observation size.
        num_actions: number of discrete actions.
        population: ``P``, the number of independent parameter sets.
        hidden: network width (Hawk: model, LRU and MLP width; ignored by ``"tabular"``).
        generator: draws the base seed (one draw) when ``seed`` is not given.
        seed: base seed; member ``i`` is initialised from ``seed + i``. With neither ``seed`` nor
            ``generator`` the base seed is drawn from torch's global RNG.
        device, dtype: where the parameters live (initialisation always happens on the CPU).
        **kw: extra architecture options of the kind (e.g. ``num_heads`` for Hawk,
            ``init_std`` for tabular).
    """
    cls = model_class(kind)
    hidden = check_positive_int("hidden", hidden, MAX_HIDDEN)
    base_seed = resolve_seed(seed, generator)
    if kind != "tabular":  # a table has no hidden width
        kw["hidden"] = hidden
    model = cls(obs_dim, num_actions, population, seed=base_seed, dtype=dtype, **kw)
    if device is not None:
        model = model.to(check_device(device))
    return model


__all__ = [
    "MODEL_KINDS",
    "Carry",
    "PolicyValueModel",
    "copy_members_",
    "log_probs_entropy",
    "make_model",
    "member_seed",
    "member_view",
    "model_class",
    "parameter_vector",
    "population_like",
    "probs",
    "resolve_seed",
    "sample_actions",
    "sample_actions_from_uniforms",
]
