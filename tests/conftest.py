"""Shared test setup: import paths, the hypothesis profile, device parameters."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# `reference.*` (slow reference implementations) lives next to the tests; the package itself
# is importable from a source checkout even when it is not installed.
for p in (str(TESTS), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

try:
    from hypothesis import HealthCheck, settings

    # Torch's first calls are slow, so no per-example deadline; `HYPOTHESIS_PROFILE=thorough`
    # runs ten times the default number of examples.
    settings.register_profile("repo", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile(
        "thorough", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repo"))
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    pass

# Under pytest-xdist every worker is a process of its own: one intra-op thread each keeps
# `-n 2` on a 2-core machine from oversubscribing the cores (OpenMP spinning makes that 10x slower).
if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)

CUDA = torch.cuda.is_available()
#: Devices every device-parametrised test runs on.
DEVICES = ["cpu", "cuda"] if CUDA else ["cpu"]


def pytest_collection_modifyitems(config, items):
    if CUDA:
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """Every available device: ``cpu``, and ``cuda`` when present."""
    return request.param


@pytest.fixture
def one_torch_thread():
    """Small tensors: one torch thread is much faster than two on a busy 2-core CI machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session", autouse=True)
def _sb3_logs_in_tmp(tmp_path_factory):
    """SB3 models built without a log folder create ``$TMPDIR/SB3-<time>`` each; keep them in pytest's tmp."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SB3_LOGDIR", str(tmp_path_factory.mktemp("sb3_logs")))
        yield
