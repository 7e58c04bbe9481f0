"""Bootstrap confidence intervals and the outlier-resistant aggregate (interquartile mean).

Every figure of a benchmark is a mean over independent replicates (one co-player with its own
games and random streams each). Its 95 % confidence interval is the percentile bootstrap over
those replicates (Efron & Tibshirani 1993, ch. 13): resample the replicates with replacement
``n_boot`` times, take the 2.5 % and 97.5 % quantiles of the resampled means. Aggregates over
several tasks (a scenario's opponents, a suite's scenarios) use the *stratified* bootstrap of
rliable (Agarwal et al., NeurIPS 2021): replicates are resampled within each task, then the
aggregate is recomputed. The aggregate over a suite is the interquartile mean (IQM, the mean of
the middle 50 % of task scores), which a single outlying task cannot drag far.

Resampling uses its own NumPy generator (``seed``), so a report's intervals are reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Estimate", "bootstrap_ci", "consistent", "iqm", "stratified_bootstrap"]

#: Bootstrap resamples per interval.
N_BOOT = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % bootstrap interval and the number of replicates behind it."""

    mean: float
    low: float
    high: float
    n: int

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}

    def contains(self, value: float, atol: float = 1e-9) -> bool:
        return self.low - atol <= value <= self.high + atol

    def overlaps(self, other: Estimate, atol: float = 1e-9) -> bool:
        return self.low - atol <= other.high and other.low - atol <= self.high

    def __str__(self) -> str:
        return f"{self.mean:.3f} [{self.low:.3f}, {self.high:.3f}]"


def _nan_estimate(n: int) -> Estimate:
    return Estimate(float("nan"), float("nan"), float("nan"), n)


def iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean along ``axis``: drop the lowest and highest ``floor(n / 4)`` values, average the rest."""
    x = np.sort(np.asarray(x, dtype=np.float64), axis=axis)
    n = x.shape[axis]
    k = n // 4
    return np.take(x, np.arange(k, n - k), axis=axis).mean(axis=axis)


def bootstrap_ci(values: Sequence[float] | np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0) -> Estimate:
    """Mean of ``values`` (NaNs dropped) with its percentile-bootstrap 95 % interval."""
    return stratified_bootstrap([values], lambda m: m[..., 0], n_boot=n_boot, seed=seed)


def stratified_bootstrap(
    groups: Sequence[Sequence[float] | np.ndarray],
    aggregate: Callable[[np.ndarray], np.ndarray],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> Estimate:
    """An aggregate over tasks with a stratified-bootstrap 95 % interval.

    Args:
        groups: one array of replicate values per task (NaNs dropped; a task left empty is ignored).
        aggregate: maps task means ``[..., n_tasks]`` to the aggregate ``[...]`` (e.g.
            ``lambda m: m.mean(-1)`` or :func:`iqm`).
        n_boot: bootstrap resamples; seed: the resampling generator's seed.
    """
    clean = [np.asarray(g, dtype=np.float64).reshape(-1) for g in groups]
    clean = [g[np.isfinite(g)] for g in clean]
    clean = [g for g in clean if g.size]
    n = int(sum(g.size for g in clean))
    if not clean:
        return _nan_estimate(0)
    rng = np.random.default_rng(seed)
    point = float(aggregate(np.array([g.mean() for g in clean])))
    boot = np.empty((n_boot, len(clean)))
    for j, g in enumerate(clean):
        idx = rng.integers(0, g.size, size=(n_boot, g.size))
        boot[:, j] = g[idx].mean(axis=1)
    agg = aggregate(boot)
    alpha = (1.0 - CONFIDENCE) / 2
    low, high = np.quantile(agg, [alpha, 1.0 - alpha])
    # the percentile interval of a degenerate sample is the point itself; guard round-off
    return Estimate(point, float(min(low, point)), float(max(high, point)), n)


def consistent(recorded: Estimate, fresh: Estimate, *, comparisons: int = 1, family_level: float = 0.05) -> bool:
    """Whether a fresh estimate agrees with a recorded one (two independent means of the same quantity).

    A fresh mean falls inside the recorded 95 % interval only about 83 % of the time even for a
    perfect reproduction (both estimates scatter), so this checks the difference instead: with
    standard errors read off the two intervals (half-width / 1.96), ``|fresh - recorded|`` must
    stay within ``z * sqrt(se_recorded^2 + se_fresh^2)``, where ``z`` is Bonferroni-corrected for
    ``comparisons`` checks at family-wise level ``family_level``. Zero-width intervals (a
    deterministic figure) must then agree to round-off.
    """
    from statistics import NormalDist

    if not (math.isfinite(recorded.mean) and math.isfinite(fresh.mean)):
        return math.isnan(recorded.mean) and math.isnan(fresh.mean)
    z = NormalDist().inv_cdf(1.0 - family_level / (2 * max(1, comparisons)))
    se = [(e.high - e.low) / (2 * 1.959964) for e in (recorded, fresh)]
    return abs(fresh.mean - recorded.mean) <= z * math.hypot(*se) + 1e-9
