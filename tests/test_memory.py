"""keep_freed_memory: argument checks, and freed heap memory is reused instead of faulted in again."""

import subprocess
import sys

import pytest

from social_dilemmas.core.memory import MAX_MMAP_THRESHOLD, keep_freed_memory

_SCRIPT = """
import resource, sys, torch
from social_dilemmas.core.memory import keep_freed_memory
applied = keep_freed_memory() if sys.argv[1] == "1" else False
def cycle():
    xs = [torch.ones(2 * 1024 * 1024) for _ in range(12)]  # 12 x 8 MiB, then all freed
    del xs
cycle(); cycle()
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    cycle()
print(int(applied), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - r0)
"""


def _faults(tuned: bool) -> tuple[bool, int]:
    out = subprocess.run([sys.executable, "-c", _SCRIPT, "1" if tuned else "0"], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    return bool(int(out[0])), int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc options")
def test_freed_memory_is_reused():
    applied, tuned = _faults(True)
    if not applied:
        pytest.skip("the C library is not glibc")
    _, default = _faults(False)
    pages = 5 * 12 * 8 * 1024 * 1024 // 4096  # what faulting everything in again would cost
    assert default > pages // 2  # the default gives the freed memory back to the system
    assert tuned < pages // 20


@pytest.mark.parametrize(
    "kwargs, match",
    [({"trim_threshold": 0}, "trim_threshold"), ({"trim_threshold": 2**31}, "trim_threshold"),
     ({"mmap_threshold": MAX_MMAP_THRESHOLD + 1}, "mmap_threshold"), ({"mmap_threshold": -5}, "mmap_threshold")],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keep_freed_memory(**kwargs)
