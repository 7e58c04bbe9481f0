"""Reports a person reads: an aligned text table, Markdown, PNG bar charts with intervals, JSON files.

The table puts the scored policy next to every reference agent (their recorded results, see
:mod:`social_dilemmas.benchmark.references`), one row per scenario and figure, each cell
``mean [low, high]`` (95 % bootstrap interval over replicates, averaged over the scenario's
opponents). Matplotlib is imported only when a plot is drawn (the ``viz`` extra).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

from social_dilemmas.benchmark.metrics import METRIC_LABELS

if TYPE_CHECKING:
    from social_dilemmas.benchmark.results import BenchmarkResult

__all__ = ["markdown_report", "plot_bars", "save_report", "text_table"]


def _cell(e) -> str:
    if e is None or not math.isfinite(e.mean):
        return "-"
    return f"{e.mean:+.3f} [{e.low:+.3f}, {e.high:+.3f}]"


def _columns(result: BenchmarkResult, references: dict[str, BenchmarkResult] | None) -> list[BenchmarkResult]:
    refs = [r for k, r in (references or {}).items() if k != result.policy]
    return [result, *refs]


def _rows(result: BenchmarkResult, cols: list[BenchmarkResult]) -> list[tuple[str, str, list[str]]]:
    rows = []
    for sr in result.scenarios:
        for metric in sr.metrics():
            cells = []
            for c in cols:
                try:
                    other = c[sr.scenario.id]
                except KeyError:
                    cells.append("-")
                    continue
                cells.append(_cell(other.estimate(metric)) if metric in other.metrics() else "-")
            rows.append((sr.scenario.id, METRIC_LABELS.get(metric, metric), cells))
    rows.append(("aggregate", "score IQM (all tasks)", [_cell(c.aggregate()) for c in cols]))
    return rows


def _seeds_line(result: BenchmarkResult) -> str:
    counts = sorted({len(next(iter(v.values()))) for s in result.scenarios for v in s.values.values() if v})
    reps = "/".join(str(c) for c in counts) or "?"
    return (f"{reps} replicates per opponent; cells: mean [95% bootstrap CI]; score: 0 = mutual defection, "
            "1 = mutual cooperation")


def text_table(result: BenchmarkResult, references: dict[str, BenchmarkResult] | None = None) -> str:
    """An aligned plain-text table: the policy, then every reference agent."""
    cols = _columns(result, references)
    rows = _rows(result, cols)
    head = ["scenario", "figure", *[c.policy for c in cols]]
    table = [head] + [[a, b, *cells] for a, b, cells in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    lines = []
    prev = None
    for i, r in enumerate(table):
        shown = list(r)
        if i > 0 and r[0] == prev:
            shown[0] = ""
        prev = r[0] if i > 0 else None
        lines.append("  ".join(s.ljust(w) for s, w in zip(shown, widths)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return f"{result.policy} ({_seeds_line(result)})\n" + "\n".join(lines)


def markdown_report(result: BenchmarkResult, references: dict[str, BenchmarkResult] | None = None) -> str:
    """A Markdown page: the comparison table, then the policy's per-opponent figures."""
    cols = _columns(result, references)
    out = [f"# Benchmark: {result.policy}", "", _seeds_line(result) + ".", ""]
    out.append("| scenario | figure | " + " | ".join(c.policy for c in cols) + " |")
    out.append("|---|---|" + "---|" * len(cols))
    for a, b, cells in _rows(result, cols):
        out.append(f"| {a} | {b} | " + " | ".join(cells) + " |")
    for sr in result.scenarios:
        out += ["", f"## {sr.scenario.id}", "", sr.scenario.description + ".", ""]
        metrics = sr.metrics()
        out.append("| opponent | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics) + " |")
        out.append("|---|" + "---|" * len(metrics))
        for opp in sr.opponents:
            out.append(f"| {opp} | " + " | ".join(_cell(sr.estimate(m, opp)) for m in metrics) + " |")
    meta = result.meta
    if meta:
        out += ["", "Made with: " + ", ".join(f"{k} {v}" for k, v in meta.items()) + "."]
    return "\n".join(out) + "\n"


def plot_bars(result: BenchmarkResult, path: Path, references: dict[str, BenchmarkResult] | None = None,
              metric: str = "score") -> Path:
    """Bars of ``metric`` per scenario with 95 % intervals, one bar per policy; written to ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cols = _columns(result, references)
    ids = result.scenario_ids
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(ids) * max(1, len(cols)) / 2), 4.0))
    width = 0.8 / len(cols)
    for j, c in enumerate(cols):
        means, errs = [], [[], []]
        for sid in ids:
            try:
                e = c[sid].estimate(metric)
            except KeyError:
                e = None
            ok = e is not None and math.isfinite(e.mean)
            means.append(e.mean if ok else np.nan)
            errs[0].append(e.mean - e.low if ok else 0.0)
            errs[1].append(e.high - e.mean if ok else 0.0)
        x = np.arange(len(ids)) + (j - (len(cols) - 1) / 2) * width
        ax.bar(x, means, width, yerr=errs, capsize=3, label=c.policy)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(ids)))
    ax.set_xticklabels(ids, rotation=20, ha="right")
    ax.set_ylabel(METRIC_LABELS.get(metric, metric) + " (95% CI)")
    ax.set_title(f"{result.policy}: {METRIC_LABELS.get(metric, metric)} per scenario")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _write(path: Path, text: str, overwrite: bool) -> Path:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) or choose another --out")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def save_report(result: BenchmarkResult, out_dir: Path, references: dict[str, BenchmarkResult] | None = None,
                *, overwrite: bool = False, plots: bool = True) -> list[Path]:
    """Write ``result.json``, ``report.md`` and (with matplotlib) ``scores.png`` into ``out_dir``.

    Existing files are never replaced unless ``overwrite``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [_write(out_dir / "result.json", json.dumps(result.as_dict(), indent=2) + "\n", overwrite),
             _write(out_dir / "report.md", markdown_report(result, references), overwrite)]
    if plots:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return files
        png = out_dir / "scores.png"
        if png.exists() and not overwrite:
            raise FileExistsError(f"{png} exists; pass overwrite=True (--overwrite) or choose another --out")
        files.append(plot_bars(result, png, references))
    return files
