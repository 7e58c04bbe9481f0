"""The shipped reference agents: small frozen checkpoints, their training records and recorded scores.

The agents live in ``social_dilemmas/benchmark/reference_agents/`` (package data):

* ``<name>.pt`` — a trimmed checkpoint of ``social-dilemmas train`` (the run's Args and the
  model; no optimiser state), or for ``naive-baseline`` the naive learner's configuration and
  its initial parameter sets;
* ``records.json`` — per agent: algorithm, preset, scale (iterations, meta-batch, B, M),
  the exact command, the package commit, the wall time;
* ``scores.json`` — every agent's :class:`~social_dilemmas.benchmark.results.BenchmarkResult`
  on every suite, recorded by the same command that trained them.

All of it is made by ONE command (``make references`` runs it)::

    python -m social_dilemmas.benchmark.train_references --iterations 100 --seeds 16

:func:`load_reference` returns a policy by name; :func:`reference_results` the recorded results.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["REFERENCE_DIR", "load_reference", "reference_directory", "reference_names", "reference_records",
           "reference_results"]

REFERENCE_DIR = Path(__file__).with_name("reference_agents")
RECORDS = "records.json"
SCORES = "scores.json"


_active: list[Path] = []


@contextlib.contextmanager
def reference_directory(directory: str | Path) -> Iterator[Path]:
    """Use the agents in ``directory`` instead of the shipped ones inside the block (e.g. freshly trained)."""
    _active.append(Path(directory))
    try:
        yield _active[-1]
    finally:
        _active.pop()


def _directory(directory: str | Path | None) -> Path:
    if directory is not None:
        return Path(directory)
    return _active[-1] if _active else REFERENCE_DIR


def reference_records(directory: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """``{name: record}`` of the shipped agents (empty if none are installed)."""
    path = _directory(directory) / RECORDS
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def reference_names(directory: str | Path | None = None) -> list[str]:
    """Names of the shipped reference agents (``coala-ppo``, ``mfos``, ``batch-unaware``, ``naive-baseline``)."""
    return list(reference_records(directory))


def load_reference(name: str, directory: str | Path | None = None, **kwargs: Any) -> Any:
    """The reference agent ``name`` as a policy (greedy=False: it samples, as in training)."""
    records = reference_records(directory)
    if name not in records:
        known = ", ".join(records) or "none installed: run `make references`"
        raise ValueError(f"unknown reference agent {name!r}; shipped agents: {known}")
    return _load(name, str(_directory(directory)), tuple(sorted(kwargs.items())))


@lru_cache(maxsize=16)
def _load(name: str, directory: str, kwargs: tuple) -> Any:
    record = reference_records(directory)[name]
    path = Path(directory) / record["file"]
    if not path.exists():
        raise FileNotFoundError(f"reference agent {name!r}: checkpoint {path} is missing from the installation")
    if record["algo"] == "naive":
        from social_dilemmas.benchmark.naive_policy import NaiveLearnerPolicy

        return NaiveLearnerPolicy.load(path, name=name)
    from social_dilemmas.benchmark.policy import CheckpointPolicy

    return CheckpointPolicy(path, name=name, **dict(kwargs))


def reference_results(suite: str | None = None, directory: str | Path | None = None) -> dict[str, Any]:
    """``{agent: BenchmarkResult}`` recorded for the shipped agents (only ``suite``'s scenarios if given)."""
    from social_dilemmas.benchmark.results import BenchmarkResult
    from social_dilemmas.benchmark.scenarios import resolve_suite

    path = _directory(directory) / SCORES
    if not path.exists():
        return {}
    data = json.loads(path.read_text())
    out = {}
    wanted = None if suite is None else {s.id for s in resolve_suite(suite)}
    for name, d in data.items():
        r = BenchmarkResult.from_dict(d)
        if wanted is not None:
            r.scenarios = [s for s in r.scenarios if s.scenario.id in wanted]
        if r.scenarios:
            out[name] = r
    return out
