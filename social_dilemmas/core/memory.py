"""Keep freed memory in the process: fewer page faults for the CPU training loops.

Every naive-learner update allocates and frees tens of megabytes of activations and gradients
(``meta_batch x B x T x width`` floats each). glibc's ``malloc`` returns the freed top of its
heap to the operating system once it exceeds a few megabytes, so the next update page-faults
all of it in again (about 5-9 thousand minor faults per update at the paper's IPD scale, a
large share of the update's time on a virtual machine). :func:`keep_freed_memory` raises
glibc's trim and mmap thresholds so that freed memory is reused instead; the process then
keeps its peak heap. It changes no results, only speed, and is opt-in because it sets
process-wide allocator options.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

from social_dilemmas.core.validation import check_positive_int

__all__ = ["MAX_MMAP_THRESHOLD", "keep_freed_memory"]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: glibc's largest accepted mmap threshold on 64-bit platforms (32 MiB).
MAX_MMAP_THRESHOLD = 32 * 1024 * 1024


def keep_freed_memory(trim_threshold: int = 1 << 30, mmap_threshold: int = MAX_MMAP_THRESHOLD) -> bool:
    """Ask glibc's ``malloc`` to keep up to ``trim_threshold`` bytes of freed heap for reuse.

    Args:
        trim_threshold: free bytes at the top of the heap before ``malloc`` gives memory back.
        mmap_threshold: allocations at least this large bypass the heap (each one then maps
            fresh, faulting pages); at most :data:`MAX_MMAP_THRESHOLD`.

    Returns:
        True if both options were applied; False where the C library is not glibc (macOS,
        Windows, musl), where nothing is changed.
    """
    if check_positive_int("trim_threshold", trim_threshold) > 2**31 - 1:
        raise ValueError(f"trim_threshold must fit a C int (at most {2**31 - 1}), got {trim_threshold}")
    check_positive_int("mmap_threshold", mmap_threshold)
    if mmap_threshold > MAX_MMAP_THRESHOLD:
        raise ValueError(
            f"mmap_threshold must be at most {MAX_MMAP_THRESHOLD} bytes (glibc's limit), got {mmap_threshold}"
        )
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, trim_threshold)) and bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold))
