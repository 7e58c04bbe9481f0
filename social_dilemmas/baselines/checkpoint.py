"""Atomic checkpoints, resumable random state, a clear stop on non-finite losses, deferred Ctrl-C.

A checkpoint is one ``torch.save`` file written to ``<path>.tmp`` and moved over ``<path>`` with
``os.replace`` (atomic on POSIX and Windows), so a crash or Ctrl-C during the write never leaves
a half-written checkpoint: the previous one stays intact.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite; training stopped before the optimiser step."""


def check_finite(iteration: int, **losses: torch.Tensor) -> None:
    """Raise :class:`NonFiniteLossError` naming the offending loss terms if any is not finite."""
    bad = [name for name, value in losses.items() if not bool(torch.isfinite(value).all())]
    if bad:
        vals = ", ".join(f"{n}={losses[n].detach().flatten()[:4].tolist()}" for n in bad)
        raise NonFiniteLossError(
            f"non-finite loss at iteration {iteration} ({vals}); training stopped before the optimiser step. "
            "The last good checkpoint is intact; lower the learning rate or reward_rescaling, or enable "
            "advantage_normalization, then resume from it."
        )


def save_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (write ``path.tmp``, fsync, ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def load(path: str | os.PathLike, map_location: str | torch.device | None = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_atomic` (trusted files only: it holds pickled args)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location=map_location, weights_only=False)


def rng_state(generator: torch.Generator | None = None) -> dict[str, Any]:
    """Every random state a run consumes: Python, NumPy, torch (CPU and CUDA) and ``generator``."""
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }
    if generator is not None:
        state["generator"] = generator.get_state()
    return state


def set_rng_state(state: dict[str, Any], generator: torch.Generator | None = None) -> None:
    """Restore what :func:`rng_state` captured."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if generator is not None and "generator" in state:
        generator.set_state(state["generator"])


class DeferredInterrupt(contextlib.AbstractContextManager):
    """Turn the first Ctrl-C into a flag checked between iterations; a second one interrupts.

    Only active in the main thread (signal handlers cannot be installed elsewhere); otherwise it
    does nothing and Ctrl-C raises ``KeyboardInterrupt`` as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None
        self._active = False

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._active = True
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._previous)
            self._active = False
