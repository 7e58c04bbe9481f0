"""Atomic checkpoints, resumable random state, a clear stop on non-finite losses, deferred Ctrl-C.

A checkpoint is one ``torch.save`` file written to ``<path>.tmp`` and moved over ``<path>`` with
``os.replace`` (atomic on POSIX and Windows), so a crash or Ctrl-C during the write never leaves
a half-written checkpoint: the previous one stays intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import threading
from pathlib import Path
from typing import Any

import numpy as np
import torch

from social_dilemmas.core.devices import check_device
from social_dilemmas.core.validation import NonFiniteError


class NonFiniteLossError(NonFiniteError):
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


#: The layout version of the checkpoints this package writes (and the newest it reads).
FORMAT = 1
#: Keys every agent checkpoint holds (see ``_checkpoint_state`` of the trainers).
REQUIRED_KEYS = ("format", "args", "iteration", "model", "obs_dim", "num_actions", "optimizer", "rng")
#: File name of the checkpoint inside a run directory.
CHECKPOINT_NAME = "checkpoint.pt"


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message names the file and what is wrong with it."""


def _package_version() -> str:
    from social_dilemmas import __version__  # noqa: PLC0415 - the package imports us

    return __version__


def _version_tuple(text: Any) -> tuple[int, ...]:
    parts = []
    for piece in str(text).split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def digest(obj: Any) -> str:
    """SHA-256 over every tensor, array and plain value of a checkpoint (key order included).

    Stored as ``state["digest"]`` by :func:`save_atomic` and checked by :func:`load`, so a
    bit flip in the weights is reported instead of silently loaded.
    """
    h = hashlib.sha256()

    def walk(x: Any) -> None:
        if isinstance(x, torch.Tensor):
            t = x.detach().cpu().contiguous()
            h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        elif isinstance(x, np.ndarray):
            h.update(f"A{x.dtype}{x.shape}".encode())
            h.update(np.ascontiguousarray(x).tobytes())
        elif isinstance(x, dict):
            h.update(b"{")
            for k, v in x.items():
                h.update(repr(k).encode())
                walk(v)
            h.update(b"}")
        elif isinstance(x, (list, tuple)):
            h.update(b"[" if isinstance(x, list) else b"(")
            for v in x:
                walk(v)
            h.update(b"]")
        else:
            h.update(repr(x).encode())

    walk(obj)
    return h.hexdigest()


def save_atomic(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (write ``path.tmp``, fsync, ``os.replace``).

    A dict gets ``package_version`` (when absent) and a ``digest`` (see :func:`digest`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if k != "digest"}
        obj.setdefault("package_version", _package_version())
        obj["digest"] = digest(obj)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def resolve_path(path: str | os.PathLike) -> Path:
    """A checkpoint file, or ``<dir>/checkpoint.pt`` for a run directory."""
    p = Path(path)
    return p / CHECKPOINT_NAME if p.is_dir() else p


def load(
    path: str | os.PathLike,
    map_location: str | torch.device | None = "cpu",
    *,
    required: tuple[str, ...] = REQUIRED_KEYS,
) -> dict[str, Any]:
    """Load and check a checkpoint written by :func:`save_atomic` (or a run directory's).

    Trusted files only (it holds pickled settings). Raises ``FileNotFoundError`` when there is
    no file, ``ValueError`` for a device this machine lacks, and :class:`CheckpointError`
    naming the file when it is empty, truncated or corrupt, fails its digest, was written in
    another checkpoint format or by a newer package, or lacks one of ``required``.
    """
    path = resolve_path(path)
    if map_location is not None:
        map_location = check_device(map_location, "device")
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes): it was never written completely")
    try:
        state = torch.load(path, map_location=map_location, weights_only=False)
    except (PermissionError, IsADirectoryError, MemoryError) as e:
        raise CheckpointError(f"checkpoint {path} cannot be read: {e}") from e
    except Exception as e:  # noqa: BLE001 - pickle/zip/torch errors of a damaged file all mean the same
        first = str(e).splitlines()[0][:200] if str(e) else ""
        raise CheckpointError(
            f"checkpoint {path} ({size} bytes) is corrupt or truncated: not a readable torch checkpoint "
            f"({type(e).__name__}: {first})"
        ) from e
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, not a social-dilemmas checkpoint")
    fmt = state.get("format")
    version = state.get("package_version")
    newer = version is not None and _version_tuple(version) > _version_tuple(_package_version())
    if fmt is not None and (isinstance(fmt, bool) or not isinstance(fmt, int)):
        raise CheckpointError(f"checkpoint {path} has format {fmt!r}; this package reads integer formats 1..{FORMAT}")
    if fmt is not None and fmt > FORMAT:
        raise CheckpointError(
            f"checkpoint {path} has format {fmt}, written by a newer social-dilemmas"
            f"{f' ({version})' if version else ''}; this one ({_package_version()}) reads formats 1..{FORMAT}: "
            "upgrade the package to load it"
        )
    if fmt is not None and fmt < 1:
        raise CheckpointError(f"checkpoint {path} has format {fmt}; this package reads formats 1..{FORMAT}")
    missing = [k for k in required if k not in state]
    if missing:
        raise CheckpointError(
            f"checkpoint {path} lacks {', '.join(map(repr, missing))} (a checkpoint holds {', '.join(required)})"
            + (f"; it was written by a newer social-dilemmas ({version})" if newer else "")
        )
    stored = state.pop("digest", None)
    if stored is not None and stored != digest(state):
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its contents do not match the digest stored when it was written "
            "(a damaged or partly overwritten file)"
        )
    return state


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
