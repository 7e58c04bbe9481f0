"""Argument checks that fail early with a message naming the argument and what is allowed."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def check_int(name: str, value: Any) -> int:
    """``value`` as an int; a ``TypeError`` for floats, bools and non-numbers."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return int(value.__index__())


def check_positive_int(name: str, value: Any) -> int:
    """``value`` as an int >= 1."""
    v = check_int(name, value)
    if v < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {v}")
    return v


def check_nonneg_int(name: str, value: Any) -> int:
    """``value`` as an int >= 0."""
    v = check_int(name, value)
    if v < 0:
        raise ValueError(f"{name} must be a non-negative integer (>= 0), got {v}")
    return v


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1] (NaN rejected)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not (0.0 <= v <= 1.0):  # also false for NaN
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return v


def check_finite(name: str, value: Any) -> float:
    """``value`` as a finite float."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a finite number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value
