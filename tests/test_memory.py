"""keep_freed_memory: argument checks.

Its effect (fewer page faults) depends on the C library and on the heap's history, so it is
measured in benchmarks/bench_meta_env.py (``--malloc keep|default``), not asserted here.
"""

import pytest

from social_dilemmas.core.memory import MAX_MMAP_THRESHOLD, keep_freed_memory


@pytest.mark.parametrize(
    "kwargs, match",
    [({"trim_threshold": 0}, "trim_threshold"), ({"trim_threshold": 2**31}, "trim_threshold"),
     ({"mmap_threshold": MAX_MMAP_THRESHOLD + 1}, "mmap_threshold"), ({"mmap_threshold": -5}, "mmap_threshold")],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keep_freed_memory(**kwargs)
