"""Run logs: a CSV of every iteration's metrics, TensorBoard when installed, a lazy tqdm bar.

Metric names are stable strings (``reward/ego``, ``loss/policy``, ``perf/steps_per_second`` ...,
listed in ``docs/coala.md``). A metric that first appears after the first row widens the CSV
(earlier rows get empty cells, read back as NaN).

TensorBoard gets the same scalars against **environment steps** (``perf/env_steps``; the
iteration is the scalar ``progress/iteration``), the run's hyperparameters (the HParams tab and
a text table) and tag groups that sort the headline first: :func:`tensorboard_tag` prefixes
the reward and behaviour groups with ``1_`` and ``2_`` (``reward/ego`` -> ``1_reward/ego``).
"""

from __future__ import annotations

import csv
import math
import sys
from pathlib import Path
from typing import Any

#: TensorBoard orders tag groups alphabetically; these prefixes put the headline groups first.
TB_GROUP_PREFIX = {"reward": "1_", "ipd": "2_", "game": "2_"}


def tensorboard_tag(name: str) -> str:
    """The TensorBoard tag of metric ``name`` (``reward/ego`` -> ``1_reward/ego``; others unchanged)."""
    group = name.split("/", 1)[0]
    return TB_GROUP_PREFIX.get(group, "") + name


def _hparam_value(v: Any) -> Any:
    return v if isinstance(v, (bool, int, float, str)) else str(v)


def _tb_step(metrics: dict[str, Any], iteration: int) -> int:
    """TensorBoard's step of an iteration: its ``perf/env_steps`` when logged, else the iteration."""
    env_steps = metrics.get("perf/env_steps")
    try:
        value = float(env_steps)  # a float, or its text in a CSV row
    except (TypeError, ValueError):
        return iteration
    return int(value) if math.isfinite(value) else iteration


class RunLogger:
    """Writes ``metrics.csv`` (and TensorBoard events) under ``run_dir``.

    Args:
        run_dir: the run's folder (created).
        tensorboard: ``True`` to require TensorBoard, ``False`` to skip it, ``None`` to use it
            when ``torch.utils.tensorboard`` imports.
        resume_from: on resume, keep only CSV rows with ``iteration <= resume_from`` so the log
            matches the checkpoint the run continues from.
        hparams: the run's settings (e.g. ``Args.to_dict()``), written once to TensorBoard's
            HParams tab and as a text table (``args``).
    """

    def __init__(self, run_dir: str | Path, *, tensorboard: bool | None = None, resume_from: int | None = None,
                 hparams: dict[str, Any] | None = None):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.run_dir / "metrics.csv"
        self._fields: list[str] | None = None
        # on resume, TensorBoard drops the events after the checkpoint (those iterations run again):
        # from the step after the last kept row (TensorBoard's steps are env steps when logged)
        purge = None if resume_from is None else resume_from + 1
        if resume_from is not None and self.csv_path.exists():
            with open(self.csv_path, newline="") as f:
                rows = list(csv.DictReader(f))
            if rows:
                self._fields = list(rows[0].keys())
                keep = [r for r in rows if int(float(r["iteration"])) <= resume_from]
                purge = _tb_step(keep[-1], resume_from) + 1 if keep else 0
                with open(self.csv_path, "w", newline="") as f:
                    w = csv.DictWriter(f, fieldnames=self._fields)
                    w.writeheader()
                    w.writerows(keep)
        elif self.csv_path.exists():
            self.csv_path.unlink()
        self._tb = None
        if tensorboard is not False:
            try:
                from torch.utils.tensorboard import SummaryWriter  # noqa: PLC0415

                self._tb = SummaryWriter(log_dir=str(self.run_dir / "tb"), purge_step=purge)
            except Exception as e:  # pragma: no cover - depends on the environment
                if tensorboard:
                    raise ImportError(f"TensorBoard logging was requested but is unavailable: {e}") from e
        if self._tb is not None and hparams:
            self._log_hparams(hparams)

    def _log_hparams(self, hparams: dict[str, Any]) -> None:
        from torch.utils.tensorboard.summary import hparams as hparams_summary  # noqa: PLC0415

        flat = {k: _hparam_value(v) for k, v in sorted(hparams.items())}
        # the HParams tab links these settings to the headline metrics (written by log())
        metrics = {tensorboard_tag(k): 0.0 for k in ("reward/ego", "reward/coplayer")}
        for summary in hparams_summary(flat, metrics):
            self._tb.file_writer.add_summary(summary)
        rows = "\n".join(f"| {k} | {v} |" for k, v in flat.items())
        self._tb.add_text("args", "| setting | value |\n|---|---|\n" + rows, 0)

    def log(self, iteration: int, metrics: dict[str, float]) -> None:
        row = {"iteration": iteration, **metrics}
        if self._fields is None:
            self._fields = list(row.keys())
            with open(self.csv_path, "w", newline="") as f:
                csv.DictWriter(f, fieldnames=self._fields).writeheader()
        new = [k for k in row if k not in self._fields]
        if new:  # a metric that first appears now: widen the file (earlier rows get empty cells)
            with open(self.csv_path, newline="") as f:
                rows = list(csv.DictReader(f))
            self._fields = self._fields + new
            with open(self.csv_path, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=self._fields)
                w.writeheader()
                w.writerows(rows)
        with open(self.csv_path, "a", newline="") as f:
            csv.DictWriter(f, fieldnames=self._fields, extrasaction="ignore").writerow(row)
        if self._tb is not None:
            step = _tb_step(metrics, iteration)
            self._tb.add_scalar("progress/iteration", float(iteration), step)
            for k, v in metrics.items():
                if isinstance(v, (int, float)) and math.isfinite(float(v)):
                    self._tb.add_scalar(tensorboard_tag(k), float(v), step)

    def close(self) -> None:
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
            self._tb = None


def read_csv(path: str | Path) -> list[dict[str, float]]:
    """The rows of a ``metrics.csv`` as floats (empty cells become NaN)."""
    with open(path, newline="") as f:
        return [{k: (float(v) if v not in ("", None) else math.nan) for k, v in r.items()} for r in csv.DictReader(f)]


class Progress:
    """A tqdm bar with live reward and steps/s when tqdm is installed and enabled; else silent."""

    def __init__(self, total: int, initial: int = 0, enabled: bool = True, desc: str = "train") -> None:
        self._bar: Any = None
        if enabled:
            try:
                from tqdm.auto import tqdm  # noqa: PLC0415

                self._bar = tqdm(total=total, initial=initial, desc=desc, dynamic_ncols=True, file=sys.stderr)
            except ImportError:  # pragma: no cover
                self._bar = None

    def update(self, metrics: dict[str, Any]) -> None:
        if self._bar is None:
            return
        post = {}
        for key, short in (("reward/ego", "reward"), ("reward/vs_agents", "vs_agents"),
                           ("perf/steps_per_second", "steps/s")):
            if key in metrics and math.isfinite(float(metrics[key])):
                post[short] = f"{float(metrics[key]):.3g}"
        self._bar.set_postfix(post, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
