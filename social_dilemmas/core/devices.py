"""Which torch devices this machine has, and an up-front check of a requested one.

Every entry point that takes a ``device`` (the batched cores and so every face and the
meta-environment, the co-players, the trainers' ``Args``, ``evaluate`` and the command line)
resolves it with :func:`check_device`, so ``device="cuda"`` on a machine without CUDA fails at
construction with a message listing the devices that exist, not deep inside torch at the first
step.
"""

from __future__ import annotations

from typing import Any

import torch


def available_devices() -> list[str]:
    """The devices torch can use here, e.g. ``["cpu"]`` or ``["cpu", "cuda:0", "cuda:1"]``."""
    out = ["cpu"]
    if torch.cuda.is_available():
        out += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        out.append("mps")
    return out


def check_device(device: Any, name: str = "device") -> torch.device:
    """``device`` as a :class:`torch.device` that exists on this machine.

    Accepts what ``torch.device`` accepts (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a
    ``torch.device``); raises ``ValueError`` naming ``name`` and listing
    :func:`available_devices` for a device that is malformed, missing here, or not a compute
    device (``"meta"``). A bare integer is refused (torch would read ``0`` as ``cuda:0``).
    """
    have = ", ".join(available_devices())
    if isinstance(device, bool) or not isinstance(device, (str, torch.device)):
        raise TypeError(f"{name} must be a device name such as 'cpu' or 'cuda:0' (this machine has: {have}); "
                        f"got {device!r} ({type(device).__name__})")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"{name}={device!r} is not a torch device name; this machine has: {have}") from None
    kind = dev.type
    if kind == "cpu":
        return dev
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name}={device!r}: torch sees no CUDA device here; this machine has: {have}")
        if dev.index is not None and not 0 <= dev.index < count:
            raise ValueError(f"{name}={device!r}: there are only {count} CUDA device(s); this machine has: {have}")
        return dev
    if kind == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"{name}={device!r}: the MPS backend is not available here; this machine has: {have}")
        return dev
    raise ValueError(f"{name}={device!r}: {kind!r} is not a supported compute device; this machine has: {have}")
