"""Counter-based, per-sub-environment random numbers.

Every sub-environment of a batch owns a 32-bit ``key`` (derived from its seed) and a step
``counter``. A random number is a pure hash of ``(key, counter, stream, index)``, so the
numbers a sub-environment sees depend only on its own seed and on how many steps it has
taken: never on the batch size, on its position in the batch, or on the device. This is what
makes "same seed, same trajectory on batch 1 and batch 65536, CPU and GPU" hold.

All arithmetic stays below 2**63 in int64, so it is exact on every torch backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

_MASK32 = 0xFFFFFFFF
# Odd multipliers below 2**31: a 32-bit value times one of them never overflows int64.
_M1 = 0x7FEB352D
_M2 = 0x68E31DA5
_M3 = 0x2C1B3C6D
_M4 = 0x297A2D39
_GOLDEN = 0x1E3779B9


def _mix32(x: torch.Tensor) -> torch.Tensor:
    """A bijective avalanche mix of 32-bit values held in int64 (in place safe)."""
    x = x ^ (x >> 16)
    x = (x * _M1) & _MASK32
    x = x ^ (x >> 15)
    x = (x * _M2) & _MASK32
    x = x ^ (x >> 16)
    x = (x * _M3) & _MASK32
    x = x ^ (x >> 15)
    return x


def hash32(*words: torch.Tensor | int) -> torch.Tensor:
    """Hash a sequence of 32-bit words (tensors broadcast together) to one 32-bit word."""
    h: torch.Tensor | int = _GOLDEN
    for w in words:
        h = _mix32((h * _M4 + (w & _MASK32) + _GOLDEN) & _MASK32)  # type: ignore[operator]
    return h  # type: ignore[return-value]


@dataclass(frozen=True)
class RNG:
    """Random state of a batch of sub-environments.

    Attributes:
        key: ``[batch]`` int64, a 32-bit key per sub-environment (from its seed).
        counter: ``[batch]`` int64, how many times this sub-environment's stream advanced.
    """

    key: torch.Tensor
    counter: torch.Tensor

    @staticmethod
    def from_seeds(seeds: torch.Tensor) -> RNG:
        """Build the random state of ``len(seeds)`` sub-environments from integer seeds."""
        seeds = seeds.to(torch.int64)
        lo, hi = seeds & _MASK32, (seeds >> 32) & _MASK32
        key = hash32(lo, hi, 0x5EED)
        return RNG(key=key, counter=torch.zeros_like(key))

    def advance(self) -> RNG:
        """The state after one step (one counter increment)."""
        return RNG(self.key, self.counter + 1)

    def bits(self, stream: int, *shape: int) -> torch.Tensor:
        """32-bit random words, ``[batch, *shape]`` int64, for draw ``stream`` of this step."""
        key, ctr = self.key, self.counter
        n = 1
        for s in shape:
            n *= s
        if shape:
            idx = torch.arange(n, device=key.device, dtype=torch.int64).view(1, *shape)
            key = key.view(-1, *([1] * len(shape)))
            ctr = ctr.view(-1, *([1] * len(shape)))
            return hash32(key, ctr, stream, idx)
        return hash32(key, ctr, stream)

    def uniform(self, stream: int, *shape: int) -> torch.Tensor:
        """Uniform floats in ``[0, 1)``, ``[batch, *shape]`` float32, exact on any device."""
        return (self.bits(stream, *shape) >> 8).to(torch.float32) * (1.0 / (1 << 24))

    def __getitem__(self, index: torch.Tensor | slice | int) -> RNG:
        return RNG(self.key[index], self.counter[index])


def sample_categorical(probs: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Inverse-CDF sample from ``probs`` ``[..., n]`` with uniforms ``u`` ``[...]``.

    Deterministic given ``u``, so callers control randomness through :class:`RNG`.
    Returns int64 indices ``[...]``.
    """
    cdf = probs.cumsum(-1)
    idx = (cdf <= (u.unsqueeze(-1) * cdf[..., -1:])).sum(-1)
    return idx.clamp_max(probs.shape[-1] - 1)


#: Seeds are integers in ``[0, SEED_LIMIT)``: every seed a batch uses (``seed + i`` for
#: sub-environment ``i``) must fit a non-negative int64, so the same seed gives the same
#: stream on every device and batch size.
SEED_LIMIT = 2**63


def check_seed(name: str, value: Any, count: int = 1) -> int:
    """``value`` as a seed ``s`` such that ``s, s + 1, ..., s + count - 1`` are all valid seeds.

    Raises ``ValueError`` naming ``name`` and the accepted range ``[0, 2**63 - count]``.
    """
    top = SEED_LIMIT - count
    allowed = f"an integer in [0, 2**63 - {count}] = [0, {top}]" if count > 1 else "an integer in [0, 2**63 - 1]"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be {allowed}, got {value!r} ({type(value).__name__})")
    v = int(value)
    if v < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {v} (accepted: {allowed})")
    if v > top:
        why = f" so that the {count} seeds {name} + 0 .. {name} + {count - 1} stay below 2**63" if count > 1 else ""
        raise ValueError(f"{name} must be {allowed}{why}, got {v}")
    return v


def check_seed_list(name: str, seeds: Any, n: int | None = None, what: str = "sub-environment") -> torch.Tensor:
    """A 1-D sequence/array/tensor of seeds as an int64 tensor ``[len]`` (``n`` entries when given)."""
    want = "a non-empty 1-D sequence of integers"
    if n is not None:
        want = f"an int or a sequence of {n} ints (one per {what})"
    if isinstance(seeds, torch.Tensor) and seeds.dtype in (torch.uint64, torch.uint32, torch.uint16):
        seeds = seeds.cpu().numpy()
    if isinstance(seeds, torch.Tensor):
        t = seeds.detach()
        if t.dtype.is_floating_point or t.is_complex() or t.dtype == torch.bool or t.dim() != 1 or t.numel() == 0:
            raise ValueError(f"{name} must be {want}, got {seeds!r}")
        t = t.to(torch.int64)
        if bool((t < 0).any()):
            raise ValueError(f"seeds must be non-negative integers, got {t[t < 0][0].item()}")
    else:
        arr = np.asarray(seeds, dtype=object) if not isinstance(seeds, np.ndarray) else seeds
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"{name} must be {want}, got {seeds!r}")
        vals = []
        for i, s in enumerate(arr.tolist()):
            if isinstance(s, bool) or not isinstance(s, int):
                raise ValueError(f"{name} must be {want}, got {seeds!r} (entry {i} is {s!r})")
            if s < 0:
                raise ValueError(f"seeds must be non-negative integers, got {s}")
            vals.append(check_seed(f"{name}[{i}]", s))
        t = torch.tensor(vals, dtype=torch.int64)
    if n is not None and t.numel() != n:
        raise ValueError(f"{name} must be {want}, got {seeds!r} ({t.numel()} seeds)")
    return t


def seeds_for_batch(seed: Any, n: int, what: str = "sub-environment") -> torch.Tensor:
    """Per-member seeds ``[n]`` (int64) from a ``reset(seed=...)`` argument.

    ``seed`` is ``None`` (fresh entropy from the OS), a non-negative int ``s`` (member ``k``
    gets ``s + k``; ``s <= 2**63 - n``) or a sequence of ``n`` ints (one per ``what``, named
    in the error), each in ``[0, 2**63)``.
    """
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1, np.uint32)[0])
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        return torch.arange(n, dtype=torch.int64) + check_seed("seed", seed, n)
    if isinstance(seed, (str, bytes, dict, set, float, bool, np.bool_)) or not hasattr(seed, "__len__"):
        raise ValueError(f"seed must be an int or a sequence of {n} ints (one per {what}), got {seed!r}")
    return check_seed_list("seed", seed, n, what)
