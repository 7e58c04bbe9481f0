"""Data parallelism over ``torch.distributed``: which meta-batch slots a rank plays, and its collectives.

Launched by ``torchrun`` (it sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``), every rank holds full replicas of the learning agents and plays a contiguous
block of the *global* meta-batch (:meth:`World.slot_range`). Every random stream of a slot is
keyed by its global index, so the rollouts do not depend on the world size; the learner sums the
gradients and every batch-wide statistic over the ranks (:meth:`World.sum_`), so every rank
applies the same update. One process (no ``WORLD_SIZE``, or 1) is the world of size 1, where
every collective is a no-op and nothing here touches ``torch.distributed``.

Backends: gloo on the CPU, NCCL on CUDA with one GPU per rank (``cuda:LOCAL_RANK``). Collectives
time out after :data:`DEFAULT_TIMEOUT_S` seconds (``SOCIAL_DILEMMAS_DIST_TIMEOUT`` overrides it),
and a failed or timed-out collective raises :class:`PeerFailure`, so a job whose rank dies ends
with a clear message instead of hanging; torchrun then stops the remaining ranks.
"""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

import torch

__all__ = ["DEFAULT_TIMEOUT_S", "TIMEOUT_ENV", "PeerFailure", "World", "env_world_size", "exit_after_peer_failure",
           "init_world",
           "require_single_process"]

#: Seconds a collective waits for the other ranks before the job is declared broken.
DEFAULT_TIMEOUT_S = 300.0
TIMEOUT_ENV = "SOCIAL_DILEMMAS_DIST_TIMEOUT"


class PeerFailure(RuntimeError):
    """A collective failed: another rank died or stopped answering within the timeout."""


def env_world_size() -> int:
    """The world size torchrun announced (``WORLD_SIZE``), 1 when not launched by it."""
    raw = os.environ.get("WORLD_SIZE", "1")
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"WORLD_SIZE must be a positive integer, got {raw!r}") from None
    if size < 1:
        raise ValueError(f"WORLD_SIZE must be a positive integer, got {raw!r}")
    return size


def require_single_process(what: str) -> None:
    """Raise a clear error when ``what`` is launched on several ranks (it has no data-parallel form)."""
    size = env_world_size()
    if size > 1:
        raise ValueError(f"{what} runs in one process only, but it was launched with WORLD_SIZE={size}; "
                         "run it without torchrun (or with --nproc-per-node 1). Data-parallel training covers "
                         "the COALA trainer: coala(-ppo/-a2c), batch-unaware and mfos.")


def _timeout_s() -> float:
    raw = os.environ.get(TIMEOUT_ENV)
    if raw is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}")
    return value


@dataclass
class World:
    """This process's place in the job: ``rank`` of ``size`` (``local_rank`` on its machine).

    ``size == 1`` is a plain single-process run: every collective returns its input unchanged.
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    timeout_s: float = DEFAULT_TIMEOUT_S
    owns_group: bool = False
    """this object initialised the process group (and :meth:`close` destroys it)"""
    broken: bool = False
    """a collective failed: the group cannot be shut down cleanly (peers are gone)"""

    @property
    def main(self) -> bool:
        """Rank 0: the one that logs, shows progress and writes checkpoints."""
        return self.rank == 0

    def slot_range(self, meta_batch: int) -> tuple[int, int]:
        """The global meta-batch slots ``[lo, hi)`` this rank plays (contiguous, sizes differ by <= 1)."""
        if meta_batch < self.size:
            raise ValueError(f"meta_batch={meta_batch} must be >= the number of ranks ({self.size}): every rank "
                             "plays at least one meta-batch slot")
        return self.rank * meta_batch // self.size, (self.rank + 1) * meta_batch // self.size

    # ------------------------------------------------------------------ collectives

    @contextmanager
    def _collective(self, what: str) -> Iterator[None]:
        try:
            yield
        except RuntimeError as e:  # (torch.distributed.DistError subclasses RuntimeError)
            self.broken = True
            raise PeerFailure(
                f"rank {self.rank} of {self.size}: {what} failed, so another rank died or stopped answering "
                f"within {self.timeout_s:g} s ({TIMEOUT_ENV} sets the limit). The last checkpoint in the run "
                f"directory is intact: resume it with --resume, with any number of ranks. Cause: {e}"
            ) from e

    def sum_(self, t: torch.Tensor) -> torch.Tensor:
        """Sum ``t`` over the ranks in place (every rank gets the same bits) and return it."""
        if self.size > 1:
            import torch.distributed as dist  # noqa: PLC0415

            with self._collective("an all-reduce"):
                dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t

    def max_(self, t: torch.Tensor) -> torch.Tensor:
        """Element-wise maximum of ``t`` over the ranks, in place."""
        if self.size > 1:
            import torch.distributed as dist  # noqa: PLC0415

            with self._collective("an all-reduce"):
                dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return t

    def any(self, flag: bool, device: torch.device | str = "cpu") -> bool:
        """True on every rank when ``flag`` is true on at least one."""
        if self.size == 1:
            return bool(flag)
        return bool(self.max_(torch.tensor([int(flag)], device=device)).item())

    def union(self, names: Iterable[str]) -> list[str]:
        """The sorted union of every rank's ``names`` (so all ranks reduce the same entries)."""
        mine = sorted(set(names))
        if self.size == 1:
            return mine
        import torch.distributed as dist  # noqa: PLC0415

        gathered: list[list[str] | None] = [None] * self.size
        with self._collective("exchanging metric names"):
            dist.all_gather_object(gathered, mine)
        return sorted(set().union(*(g or [] for g in gathered)))

    def sum_grads_(self, params: list[torch.Tensor], extra: torch.Tensor | None = None) -> torch.Tensor | None:
        """Sum the ``.grad`` of ``params`` (and ``extra``, e.g. loss statistics) over the ranks.

        One flat all-reduce; a parameter without a gradient counts as zeros. Returns the summed
        ``extra``.
        """
        if self.size == 1:
            return extra
        parts = [torch.zeros_like(p).reshape(-1) if p.grad is None else p.grad.reshape(-1) for p in params]
        if extra is not None:
            parts.append(extra.reshape(-1).to(parts[0].dtype) if parts else extra.reshape(-1))
        flat = self.sum_(torch.cat(parts))
        offset = 0
        for p in params:
            n = p.numel()
            if p.grad is None:
                p.grad = torch.empty_like(p)
            p.grad.copy_(flat[offset:offset + n].view_as(p))
            offset += n
        if extra is None:
            return None
        return flat[offset:].view_as(extra).to(extra.dtype)

    def barrier(self) -> None:
        if self.size > 1:
            import torch.distributed as dist  # noqa: PLC0415

            with self._collective("a barrier"):
                dist.barrier()

    def close(self) -> None:
        """Destroy the process group if this object created it (unless a peer is gone: that could block)."""
        if self.owns_group and not self.broken:
            import torch.distributed as dist  # noqa: PLC0415

            if dist.is_initialized():
                dist.destroy_process_group()


def init_world(device: str | torch.device = "cpu") -> World:
    """The :class:`World` of this process, initialising the process group when torchrun launched it.

    Uses an existing default process group when there is one. On CUDA each rank takes the GPU
    ``LOCAL_RANK`` (``device`` must then be plain ``"cuda"``); on the CPU the backend is gloo.
    """
    size = env_world_size()
    dev = torch.device(device)
    import torch.distributed as dist  # noqa: PLC0415

    if size == 1 and not (dist.is_available() and dist.is_initialized()):
        return World()
    if not dist.is_available():
        raise RuntimeError(f"WORLD_SIZE={size} but this torch build has no torch.distributed")
    timeout = _timeout_s()
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if dev.type == "cuda":
        if dev.index is not None and size > 1:
            raise ValueError(f"device={str(device)!r}: with several ranks pass device='cuda'; each rank then uses "
                             "the GPU cuda:LOCAL_RANK (one GPU per rank)")
        if local_rank >= torch.cuda.device_count():
            raise ValueError(f"LOCAL_RANK={local_rank} but this machine has {torch.cuda.device_count()} GPU(s): "
                             "start at most one rank per GPU (--nproc-per-node)")
        torch.cuda.set_device(local_rank)
    owns = False
    if not dist.is_initialized():
        # Import torch._dynamo before the group exists: imported later (torch.optim's first
        # optimiser does it), it keeps the group alive past destroy_process_group (torch 2.13), and
        # its gloo worker threads, still running when the interpreter shuts down, can abort the
        # process at exit ("terminate called without an active exception") after a finished run.
        import torch._dynamo as _dynamo  # noqa: F401, PLC0415 (binds no local "torch")

        backend = "nccl" if dev.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(seconds=timeout))
        owns = True
    return World(rank=dist.get_rank(), size=dist.get_world_size(), local_rank=local_rank, timeout_s=timeout,
                 owns_group=owns)


def exit_after_peer_failure(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and end the process at once, without interpreter teardown.

    After a :class:`PeerFailure` the process group cannot be destroyed (a peer is gone or hung),
    and letting Python tear it down at exit can abort the process from C++ ("terminate called
    without an active exception", SIGABRT) instead of exiting with ``code``.
    """
    print(message, file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(code)
