"""Argument checks that fail early with a message naming the argument and what is allowed.

Two layers:

* ``check_*`` functions validate one value (``check_int_range("max_steps", v, 1, MAX_STEPS)``);
* :class:`Rule` objects (:class:`Int`, :class:`Float`, :class:`OneOf`, :class:`Flag`,
  :class:`Text`, :class:`Maybe`) describe a dataclass field, and :func:`validate_fields` applies a
  table of them in ``__post_init__`` (used by the naive learner's ``NaiveConfig`` and the trainers'
  ``Args``), converting values in place (``numpy.int64(3)`` becomes ``3``).

Documented limits (also on the boundaries page of the docs):

* :data:`MAX_STEPS` bounds episode lengths and step counts (``max_steps``, ``freeze_steps``);
* :data:`MAX_BATCH` bounds every batch dimension (``batch_size``, ``num_envs``, ``meta_batch``);
* floats that end up in float32 tensors (rewards, payoffs) must be finite *after* the cast,
  i.e. ``|x| <= FLOAT32_MAX`` (about 3.4e38).
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Largest episode length / step count accepted (int32 range: step counters never overflow).
MAX_STEPS = 2**31 - 1
#: Largest batch dimension accepted (indices of a flat batch stay in int32 range).
MAX_BATCH = 2**31 - 1
#: Largest network width (``hidden``) accepted.
MAX_HIDDEN = 2**16
#: Largest magnitude a finite float32 holds.
FLOAT32_MAX = float(np.finfo(np.float32).max)


def check_int(name: str, value: Any) -> int:
    """``value`` as an int; a ``TypeError`` for floats, bools and non-numbers."""
    if isinstance(value, (bool, np.bool_)) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value.__index__())


def check_int_range(name: str, value: Any, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int in ``[low, high]`` (either bound may be ``None``)."""
    v = check_int(name, value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must be {_int_bounds(low, high)}, got {v}")
    return v


def _int_bounds(low: int | None, high: int | None) -> str:
    kind = "a positive integer" if low == 1 else "a non-negative integer" if low == 0 else "an integer"
    if low is not None and high is not None:
        return f"{kind} in [{low}, {high}]"
    return f"{kind} (>= {low})" if low is not None else f"{kind} <= {high}" if high is not None else kind


def check_positive_int(name: str, value: Any, high: int | None = None) -> int:
    """``value`` as an int >= 1 (and <= ``high`` when given)."""
    return check_int_range(name, value, 1, high)


def check_nonneg_int(name: str, value: Any, high: int | None = None) -> int:
    """``value`` as an int >= 0 (and <= ``high`` when given)."""
    return check_int_range(name, value, 0, high)


def _as_float(name: str, value: Any, allowed: str) -> float:
    if isinstance(value, (bool, np.bool_, str, bytes)):
        raise TypeError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__})")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__})") from None


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1] (NaN rejected)."""
    v = _as_float(name, value, "a number in [0, 1]")
    if not (0.0 <= v <= 1.0):  # also false for NaN
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return v


def check_finite(name: str, value: Any) -> float:
    """``value`` as a finite float."""
    v = _as_float(name, value, "a finite number")
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def check_float32(name: str, value: Any) -> float:
    """``value`` as a float that stays finite in float32 (``|x| <= FLOAT32_MAX``)."""
    v = _as_float(name, value, f"a finite number with |x| <= {FLOAT32_MAX:.4g} (float32)")
    if not math.isfinite(v) or abs(v) > FLOAT32_MAX:
        raise ValueError(f"{name} must be finite in float32 (|x| <= {FLOAT32_MAX:.4g}), got {value!r}")
    return v


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """``value`` if it is one of ``allowed``."""
    allowed = list(allowed)
    try:
        ok = value in allowed
    except TypeError:  # unhashable/incomparable values
        ok = False
    if not ok:
        hint = ""
        if isinstance(value, str):
            close = difflib.get_close_matches(value, [a for a in allowed if isinstance(a, str)], n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}{hint}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a bool; only ``True``/``False`` (and NumPy bools) are accepted."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


class NonFiniteError(FloatingPointError):
    """A computation produced NaN or infinity (a loss, a gradient, learned parameters)."""


def check_options(options: Any, known: Iterable[str] = ()) -> None:
    """``reset(options=...)`` must be ``None`` or a dict (keys other than ``known`` are ignored,
    as Gymnasium and PettingZoo environments do)."""
    if options is not None and not isinstance(options, Mapping):
        keys = ", ".join(map(repr, known)) or "none are used here"
        raise TypeError(f"options must be None or a dict (known keys: {keys}), got {options!r} "
                        f"({type(options).__name__})")


@contextlib.contextmanager
def allocation_guard(what: str) -> Iterator[None]:
    """Turn an allocator failure inside the block into a ``MemoryError`` naming ``what``.

    ``what`` says which arguments set the size, e.g. ``"batch_size=1099511627776"``.
    """
    try:
        yield
    except MemoryError as e:
        raise MemoryError(f"not enough memory for {what}: {e}; use a smaller value") from e
    except RuntimeError as e:
        text = str(e)
        if "memory" in text.lower() or "alloc" in text.lower() or "numel" in text.lower():
            raise MemoryError(f"not enough memory for {what}: {text.splitlines()[0]}; use a smaller value") from e
        raise


# ----------------------------------------------------------------------------- field rules


class Rule:
    """How one dataclass field is checked: ``rule(name, value)`` returns the converted value."""

    def __call__(self, name: str, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Rule):
    """An integer in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def __call__(self, name: str, value: Any) -> int:
        return check_int_range(name, value, self.low, self.high)


@dataclass(frozen=True)
class Float(Rule):
    """A finite float (in float32 when ``float32``) with optional open/closed bounds."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    float32: bool = True

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        if self.low is not None and self.high is not None:
            return f"in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"
        return " and ".join(parts)

    def __call__(self, name: str, value: Any) -> float:
        bounds = self.describe()
        allowed = f"a number {bounds}".rstrip() if bounds else "a finite number"
        v = _as_float(name, value, allowed)
        if not math.isfinite(v) or (self.float32 and abs(v) > FLOAT32_MAX):
            limit = f" in float32 (|x| <= {FLOAT32_MAX:.4g})" if self.float32 else ""
            raise ValueError(f"{name} must be {allowed}, finite{limit}; got {value!r}")
        lo_bad = self.low is not None and (v <= self.low if self.low_open else v < self.low)
        hi_bad = self.high is not None and (v >= self.high if self.high_open else v > self.high)
        if lo_bad or hi_bad:
            raise ValueError(f"{name} must be {bounds}, got {value!r}")
        return v


@dataclass(frozen=True)
class OneOf(Rule):
    """One of a fixed set of values."""

    choices: tuple[Any, ...]

    def __call__(self, name: str, value: Any) -> Any:
        return check_choice(name, value, self.choices)


@dataclass(frozen=True)
class Flag(Rule):
    """``True`` or ``False``."""

    def __call__(self, name: str, value: Any) -> bool:
        return check_bool(name, value)


@dataclass(frozen=True)
class Text(Rule):
    """A string (non-empty unless ``allow_empty``)."""

    allow_empty: bool = False

    def __call__(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string, got {value!r} ({type(value).__name__})")
        if not value and not self.allow_empty:
            raise ValueError(f"{name} must be a non-empty string, got ''")
        return value


@dataclass(frozen=True)
class Maybe(Rule):
    """``None`` or what ``rule`` accepts."""

    rule: Rule

    def __call__(self, name: str, value: Any) -> Any:
        if value is None:
            return None
        try:
            return self.rule(name, value)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{e} (or None)") from None


@dataclass(frozen=True)
class Check(Rule):
    """Any function ``fn(name, value) -> value``."""

    fn: Callable[[str, Any], Any]

    def __call__(self, name: str, value: Any) -> Any:
        return self.fn(name, value)


def cli_label(name: str) -> str:
    """``"clip_eps"`` -> ``"clip_eps (--clip-eps)"``: a field named as in Python and on the command line."""
    return f"{name} (--{name.replace('_', '-')})"


def validate_fields(obj: Any, rules: Mapping[str, Rule], label: Callable[[str], str] = str) -> None:
    """Check the fields of dataclass ``obj`` named in ``rules`` and store the converted values.

    Errors are ``TypeError`` (wrong type) or ``ValueError`` (out of range) naming the field as
    ``label(name)`` and what it accepts; the first bad field raises.
    """
    for name, rule in rules.items():
        value = getattr(obj, name)
        converted = rule(label(name), value)
        if converted is not value:
            object.__setattr__(obj, name, converted)
