"""Helpers over state objects: frozen dataclasses whose leaves are tensors with a batch dim.

Fields named in a dataclass's ``__static_fields__`` (a tuple of names) are carried through
unchanged; every other field must be a tensor or a nested state dataclass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import torch

S = TypeVar("S")


def _static(obj: Any) -> tuple[str, ...]:
    return getattr(obj, "__static_fields__", ())


def tree_map(fn: Callable[..., torch.Tensor], tree: S, *rest: S) -> S:
    """Apply ``fn`` leaf-wise to one or more states of the same structure."""
    if isinstance(tree, torch.Tensor):
        return fn(tree, *rest)  # type: ignore[return-value]
    if dataclasses.is_dataclass(tree):
        static = _static(tree)
        out = {}
        for f in dataclasses.fields(tree):
            a = getattr(tree, f.name)
            if f.name in static or a is None:
                out[f.name] = a
            else:
                out[f.name] = tree_map(fn, a, *(getattr(r, f.name) for r in rest))
        return dataclasses.replace(tree, **out)  # type: ignore[type-var]
    if isinstance(tree, dict):
        return {k: tree_map(fn, v, *(r[k] for r in rest)) for k, v in tree.items()}  # type: ignore[return-value]
    if isinstance(tree, (tuple, list)):
        return type(tree)(tree_map(fn, *xs) for xs in zip(tree, *rest))  # type: ignore[return-value]
    raise TypeError(f"cannot map over a leaf of type {type(tree).__name__}")


def tree_where(mask: torch.Tensor, if_true: S, if_false: S) -> S:
    """Select per sub-environment: ``mask`` is ``[batch]`` bool, leaves are ``[batch, ...]``."""

    def pick(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        m = mask.view(-1, *([1] * (a.dim() - 1)))
        return torch.where(m, a, b)

    return tree_map(pick, if_true, if_false)


def tree_index(tree: S, index: Any) -> S:
    """Take sub-environments ``index`` (an int, slice or index tensor) of every leaf."""
    return tree_map(lambda a: a[index], tree)


def tree_to(tree: S, device: torch.device | str) -> S:
    """Move every leaf to ``device``."""
    return tree_map(lambda a: a.to(device), tree)


def tree_cat(trees: list[S]) -> S:
    """Concatenate states along the batch dimension."""
    return tree_map(lambda *xs: torch.cat(xs, 0), trees[0], *trees[1:])
