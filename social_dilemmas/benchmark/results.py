"""Result objects of a benchmark run: per-replicate values, estimates with intervals, JSON round trip.

:class:`ScenarioResult` holds, for one policy and one scenario, every figure's per-replicate
values per opponent; :class:`BenchmarkResult` holds a suite's scenarios and the aggregate (the
IQM of normalised scores over all scenario x opponent tasks). Both render through
:mod:`social_dilemmas.benchmark.report`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from social_dilemmas.benchmark.scenarios import Scenario, get_scenario
from social_dilemmas.benchmark.stats import Estimate, iqm, stratified_bootstrap

__all__ = ["RESULT_FORMAT", "BenchmarkResult", "ScenarioResult"]

#: Version of the JSON layout written by :meth:`BenchmarkResult.as_dict`.
RESULT_FORMAT = 1


def _clean(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass
class ScenarioResult:
    """One policy on one scenario.

    Attributes:
        scenario: the scenario played.
        policy: the policy's name.
        values: ``{opponent: {figure: [replicates]}}``.
    """

    scenario: Scenario
    policy: str
    values: dict[str, dict[str, np.ndarray]]

    @property
    def opponents(self) -> list[str]:
        return list(self.values)

    def metrics(self) -> list[str]:
        return [m for m in self.scenario.metrics if any(m in v for v in self.values.values())]

    def estimate(self, metric: str, opponent: str | None = None, seed: int = 0) -> Estimate:
        """Mean and 95 % interval of ``metric`` against ``opponent``, or averaged over all opponents
        (stratified bootstrap) when ``opponent`` is ``None``."""
        if opponent is not None:
            if opponent not in self.values:
                raise ValueError(f"unknown opponent {opponent!r} in {self.scenario.id}; known: "
                                 f"{', '.join(self.values)}")
            groups = [self.values[opponent].get(metric, np.array([]))]
        else:
            groups = [v.get(metric, np.array([])) for v in self.values.values()]
        return stratified_bootstrap(groups, lambda m: m.mean(-1), seed=seed)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.scenario.id, "policy": self.policy, "summary": {}, "opponents": {}}
        for metric in self.metrics():
            out["summary"][metric] = self.estimate(metric).as_dict()
        for opp, figs in self.values.items():
            out["opponents"][opp] = {
                m: {**self.estimate(m, opp).as_dict(), "replicates": [_clean(x) for x in figs[m].tolist()]}
                for m in self.metrics() if m in figs
            }
        for d in (out["summary"], *out["opponents"].values()):
            for e in d.values():
                for k in ("mean", "low", "high"):
                    e[k] = _clean(e[k])
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScenarioResult:
        values = {opp: {m: np.array([np.nan if x is None else x for x in e["replicates"]], dtype=np.float64)
                        for m, e in figs.items()} for opp, figs in d["opponents"].items()}
        return cls(get_scenario(d["scenario"]), d["policy"], values)


@dataclass
class BenchmarkResult:
    """A policy's results on a suite of scenarios.

    Attributes:
        policy: the policy's name.
        scenarios: one :class:`ScenarioResult` per scenario, in suite order.
        meta: how it was made (suite, seeds, seed, wall time, versions).
    """

    policy: str
    scenarios: list[ScenarioResult]
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, scenario_id: str) -> ScenarioResult:
        for s in self.scenarios:
            if s.scenario.id == scenario_id:
                return s
        raise KeyError(f"no result for scenario {scenario_id!r}; have: {', '.join(self.scenario_ids)}")

    @property
    def scenario_ids(self) -> list[str]:
        return [s.scenario.id for s in self.scenarios]

    def aggregate(self, metric: str = "score", seed: int = 0) -> Estimate:
        """Interquartile mean of ``metric`` over every (scenario, opponent) task, stratified-bootstrap interval."""
        groups = [figs[metric] for s in self.scenarios for figs in s.values.values() if metric in figs]
        return stratified_bootstrap(groups, iqm, seed=seed)

    def as_dict(self) -> dict[str, Any]:
        agg = self.aggregate().as_dict()
        agg = {k: _clean(v) if isinstance(v, float) else v for k, v in agg.items()}
        return {"format": RESULT_FORMAT, "policy": self.policy, "meta": dict(self.meta),
                "aggregate": {"score_iqm": agg}, "scenarios": [s.as_dict() for s in self.scenarios]}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchmarkResult:
        if d.get("format") != RESULT_FORMAT:
            raise ValueError(f"benchmark result format {d.get('format')!r} is not {RESULT_FORMAT} (made by another "
                             "version of social-dilemmas)")
        return cls(d["policy"], [ScenarioResult.from_dict(s) for s in d["scenarios"]], dict(d.get("meta", {})))

    @classmethod
    def load(cls, path: str | Path) -> BenchmarkResult:
        return cls.from_dict(json.loads(Path(path).read_text()))

    # -- rendering (see social_dilemmas.benchmark.report)
    def table(self, references: dict[str, BenchmarkResult] | None = None) -> str:
        from social_dilemmas.benchmark.report import text_table

        return text_table(self, references)

    def to_markdown(self, references: dict[str, BenchmarkResult] | None = None) -> str:
        from social_dilemmas.benchmark.report import markdown_report

        return markdown_report(self, references)

    def plot(self, path: str | Path, references: dict[str, BenchmarkResult] | None = None) -> Path:
        from social_dilemmas.benchmark.report import plot_bars

        return plot_bars(self, Path(path), references)

    def save(self, out_dir: str | Path, references: dict[str, BenchmarkResult] | None = None,
             *, overwrite: bool = False) -> list[Path]:
        from social_dilemmas.benchmark.report import save_report

        return save_report(self, Path(out_dir), references, overwrite=overwrite)
