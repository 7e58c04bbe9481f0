"""Plots of the recorded RL experiments (``benchmarks/results/training_*.json``) for the results pages.

Drawn from the JSONs by :func:`social_dilemmas.baselines.figures.plot_experiment` at every
build (titles, axis labels, one line style and marker per algorithm); a copy replaces the
recorded PNG of the same name on the generated results pages (``results/``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from docgen.common import NavEntry


def generate(docs_dir: Path) -> NavEntry | None:
    """Write ``figures/generated/<json stem>.png`` for every recorded experiment; no nav entry."""
    from social_dilemmas.baselines.figures import EXPERIMENTS, plot_experiment
    from social_dilemmas.reproduce import source_root

    root = source_root() or Path(__file__).resolve().parents[2]
    out = docs_dir / "figures" / "generated"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((root / "benchmarks" / "results").glob("training_*.json")):
        data = json.loads(path.read_text())
        if isinstance(data, dict) and data.get("experiment") in EXPERIMENTS and data.get("runs"):
            target = out / f"{path.stem}.png"
            if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
                plot_experiment(path, target)
            shown = docs_dir / "results" / target.name
            if shown.exists() and shown.read_bytes() != target.read_bytes():
                shutil.copyfile(target, shown)
    return None
