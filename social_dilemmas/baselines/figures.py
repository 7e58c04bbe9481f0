"""The paper's RL experiments (Fig. 5 IPD, Fig. 6 CleanUp-lite): run them, save curves, plot them.

Each experiment trains several algorithms for several seeds from one preset and writes

* ``<out_dir>/<name>.json``: every run's per-iteration curves of the experiment's metrics, the
  per-algorithm mean and standard deviation over seeds of the last 10 iterations, the exact
  command-line equivalent of every run and the scale (``quick`` = the ``*-quick`` presets);
* ``<out_dir>/<name>.png`` (when matplotlib is installed): mean +- std over seeds per algorithm.

``social-dilemmas reproduce fig5a [--quick]`` calls :func:`fig5a` and so on (the registry is
:data:`social_dilemmas.reproduce.FIGURES`); from Python, :func:`run_experiment` takes the
number of seeds, iterations and parallel worker processes.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from social_dilemmas.baselines.runlog import Progress

#: What mixed IPD pools record: rewards against both kinds of co-player, the naive learners' own
#: reward and their defection at the start and the end of the meta-episode.
MIXED_IPD_METRICS = ["reward/vs_agents", "reward/vs_naive", "reward/naive_coplayer", "reward/ego",
                     "ipd/ego_defect_rate", "ipd/naive_defect_rate_first_episode",
                     "ipd/naive_defect_rate_last_episode"]

#: name -> preset, runs ``(label, algo, overrides)``, metrics to record, seeds.
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "fig5a": {
        "title": "IPD, pure shaping: reward per step against naive learners (paper Fig. 5A)",
        "preset": "ipd-shaping",
        "runs": [("COALA-PPO", "coala", {}), ("M-FOS", "mfos", {}), ("batch-unaware", "batch-unaware", {}),
                 ("LOLA-DiCE", "lola-dice", {})],
        "metrics": ["reward/ego", "reward/coplayer", "ipd/ego_defect_rate", "ipd/ego_defect_rate_first_episode",
                    "ipd/ego_defect_rate_last_episode", "ipd/coplayer_defect_rate_first_episode",
                    "ipd/coplayer_defect_rate_last_episode"],
        "plot": ["reward/ego", "ipd/coplayer_defect_rate_last_episode"],
        "seeds": 5,
        "quick_seeds": 3,
    },
    "fig5c": {
        "title": "IPD, mixed pool: reward per step against the other learning agents (paper Fig. 5C)",
        "preset": "ipd-mixed",
        "runs": [("COALA-PPO", "coala", {}), ("M-FOS", "mfos", {}), ("batch-unaware", "batch-unaware", {}),
                 ("COALA-PPO, no naive agents", "coala", {"p_naive": 0.0})],
        "metrics": MIXED_IPD_METRICS,
        "plot": ["reward/vs_agents", "reward/vs_naive"],
        "seeds": 5,
        "quick_seeds": 2,
    },
    # Fig. 5C with one budget for every row (same seeds and iterations) and the LOLA-DiCE row
    "fig5c_equal": {
        "title": "IPD, mixed pool, equal budgets: reward per step against the other agents (paper Fig. 5C)",
        "preset": "ipd-mixed",
        "runs": [("COALA-PPO", "coala", {}), ("M-FOS", "mfos", {}), ("batch-unaware", "batch-unaware", {}),
                 ("COALA-PPO, no naive agents", "coala", {"p_naive": 0.0}), ("LOLA-DiCE", "lola-dice", {})],
        "metrics": MIXED_IPD_METRICS,
        "plot": ["reward/vs_agents", "reward/vs_naive", "reward/naive_coplayer"],
        "seeds": 5,
        "quick_seeds": 2,
    },
    # The exact model's regime map translated to RL: the naive-opponent weight set by p_naive and
    # batch_scaling (sum: w = B, mean: w = 1); see docs/analytic.md.
    "regime_confirm": {
        "title": "IPD, mixed pool: COALA-PPO across naive-opponent weights (exact-model regime map, in RL)",
        "preset": "ipd-mixed",
        "runs": [("COALA-PPO, p_naive 0.9, mean", "coala", {"p_naive": 0.9, "batch_scaling": "mean"}),
                 ("COALA-PPO, p_naive 0.25, sum", "coala", {"p_naive": 0.25, "batch_scaling": "sum"})],
        "metrics": MIXED_IPD_METRICS,
        "plot": ["reward/vs_agents", "reward/vs_naive"],
        "seeds": 3,
        "quick_seeds": 3,
    },
    # App. H.3: a COALA-PPO agent and an M-FOS agent trained together (each one's only meta opponent is the
    # other), both also meeting naive learners; the paper's pool has more agents per method
    "h3": {
        "title": "IPD, mixed pool: COALA-PPO and M-FOS trained against each other (paper App. H.3)",
        "preset": "ipd-mixed",
        "runs": [("COALA-PPO + M-FOS", "coala", {"population_size": 2, "agent_estimators": ("coala", "mfos")})],
        "metrics": MIXED_IPD_METRICS + ["agent0/reward_vs_agents", "agent1/reward_vs_agents"],
        "plot": ["agent0/reward_vs_agents", "agent1/reward_vs_agents", "reward/vs_naive"],
        "seeds": 5,
        "quick_seeds": 2,
    },
    "fig6": {
        "title": "CleanUp-lite, pure shaping (paper Fig. 6)",
        "preset": "cleanup-shaping",
        "runs": [("COALA-PPO", "coala", {}), ("M-FOS", "mfos", {}), ("batch-unaware", "batch-unaware", {})],
        "metrics": ["reward/ego", "reward/coplayer", "game/cleaning_discrepancy", "game/cleaned/ego",
                    "game/cleaned/coplayer", "game/zaps_received/ego", "game/zaps_given/ego", "game/pollution",
                    "game/apples"],
        "plot": ["reward/ego", "game/cleaning_discrepancy", "game/zaps_received/ego", "game/pollution",
                 "game/apples"],
        "seeds": 5,
        "quick_seeds": 2,
    },
    "fig7": {
        "title": "CleanUp-lite, mixed pool with dynamic naive agents (paper Fig. 7)",
        "preset": "cleanup-mixed",
        "runs": [(label, algo, {"game": "CleanUpLite-v1"}) for label, algo in
                 (("COALA-A2C", "coala"), ("M-FOS", "mfos"), ("batch-unaware", "batch-unaware"))],
        "metrics": ["reward/ego", "reward/vs_agents", "reward/vs_naive", "reward/naive_coplayer",
                    "game/cleaning_discrepancy", "game/cleaned/ego", "game/cleaned/coplayer",
                    "game/zaps_received/ego", "game/zaps_given/ego", "game/pollution", "game/apples",
                    "loss/entropy"],
        "plot": ["reward/vs_agents", "game/cleaning_discrepancy", "game/zaps_given/ego", "game/pollution",
                 "game/apples", "loss/entropy"],
        "seeds": 5,
        "quick_seeds": 2,
    },
}


def _one_run(job: dict[str, Any]) -> dict[str, Any]:
    from social_dilemmas.baselines.dispatch import run  # noqa: PLC0415
    from social_dilemmas.baselines.presets import preset_args  # noqa: PLC0415

    args = preset_args(job["preset"], job["algo"], **job["overrides"])
    t0 = time.perf_counter()
    res = run(args)
    history = res.history
    if args.run_dir and (Path(args.run_dir) / "metrics.csv").exists():
        from social_dilemmas.baselines.runlog import read_csv  # noqa: PLC0415

        history = read_csv(Path(args.run_dir) / "metrics.csv")  # every iteration, also of a resumed run
    curves = {m: [h.get(m, math.nan) for h in history] for m in job["metrics"]}
    # the training time of all the run's iterations (also those before a resume), else wall time
    seconds = time.perf_counter() - t0
    per_iteration = [h.get("time/iteration", math.nan) for h in history]
    if per_iteration and all(math.isfinite(x) for x in per_iteration):
        seconds = float(sum(per_iteration))
    return {**job, "curves": curves, "seconds": seconds, "iterations_done": res.iterations_done}


_RUN_KEYS = ("label", "algo", "seed", "command", "seconds", "iterations_done", "curves")


def _command(preset: str, algo: str, overrides: dict[str, Any]) -> str:
    skip = ("progress", "run_dir", "resume", "tensorboard")
    def opt(k: str, v: Any) -> str:
        flag = k.replace("_", "-")
        if isinstance(v, bool):  # boolean fields are switches: --flag / --no-flag
            return f"--{flag}" if v else f"--no-{flag}"
        if isinstance(v, (tuple, list)):  # sequence fields take their items as separate words
            return f"--{flag} " + " ".join(map(str, v))
        return f"--{flag} {v}"

    opts = " ".join(opt(k, v) for k, v in overrides.items() if k not in skip)
    return f"social-dilemmas train {algo} --preset {preset} {opts}".strip()


def run_experiment(
    name: str,
    out_dir: str | Path,
    quick: bool = True,
    *,
    seeds: int | None = None,
    iterations: int | None = None,
    jobs: int = 1,
    torch_threads: int | None = 1,
    plot: bool = True,
    labels: list[str] | None = None,
    merge: bool = False,
    run_root: str | Path | None = None,
    progress: bool = True,
) -> list[Path]:
    """Run experiment ``name`` (a key of :data:`EXPERIMENTS`) and write its JSON (and PNG).

    ``labels`` restricts the run to some algorithms; with ``merge=True`` their runs replace
    those of the same label in an existing JSON (the other labels are kept). With ``run_root``
    every run keeps its ``metrics.csv``, ``args.json`` and checkpoint in
    ``<run_root>/<label>/seed<k>`` (watch progress there; a killed experiment's runs resume).
    ``progress`` shows a bar of finished runs on stderr (tqdm, when installed).
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    exp = EXPERIMENTS[name]
    known = [label for label, _, _ in exp["runs"]]
    if labels is not None and (not labels or set(labels) - set(known)):
        raise ValueError(f"labels must be a non-empty subset of {known}; got {labels}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    preset = exp["preset"] + ("-quick" if quick else "")
    n_seeds = seeds if seeds is not None else (exp["quick_seeds"] if quick else exp["seeds"])
    jobs_list = []
    for label, algo, extra in exp["runs"]:
        if labels is not None and label not in labels:
            continue
        for seed in range(n_seeds):
            overrides = {"seed": seed, "progress": False, "tensorboard": False, **extra}
            if iterations is not None:
                overrides["iterations"] = iterations
            if torch_threads is not None:
                overrides["torch_threads"] = torch_threads
            if run_root is not None:
                run_dir = Path(run_root) / _slug(label) / f"seed{seed}"
                overrides["run_dir"] = str(run_dir)
                overrides["resume"] = (run_dir / "checkpoint.pt").exists()
                if not overrides["resume"] and run_dir.is_dir() and any(run_dir.iterdir()):
                    overrides["overwrite"] = True  # killed before its first checkpoint: start it again
            jobs_list.append({"label": label, "algo": algo, "preset": preset, "overrides": overrides,
                              "metrics": exp["metrics"], "seed": seed,
                              "command": _command(preset, algo, overrides)})
    t0 = time.perf_counter()
    bar = Progress(len(jobs_list), enabled=progress, desc=f"{name}: runs done")
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as ex:
            futures = [ex.submit(_one_run, j) for j in jobs_list]
            for _ in as_completed(futures):
                bar.update({})
            results = [f.result() for f in futures]
    else:
        results = []
        for j in jobs_list:
            results.append(_one_run(j))
            bar.update({})
    bar.close()
    json_path = out_dir / f"{name}{'_quick' if quick else ''}.json"
    previous_seconds = 0.0
    if merge and json_path.exists():
        old = json.loads(json_path.read_text())
        done = {r["label"] for r in results}
        results = [r for r in old["runs"] if r["label"] not in done] + results
        previous_seconds = float(old.get("wall_seconds", 0.0))
    summary: dict[str, Any] = {}
    for label, _, _ in exp["runs"]:
        runs = [r for r in results if r["label"] == label]
        summary[label] = {}
        for m in exp["metrics"]:
            finals = [_finite_mean(r["curves"][m][-10:]) for r in runs if r["curves"][m]]
            finals = [f for f in finals if math.isfinite(f)]
            if finals:
                summary[label][m] = {"mean": float(np.mean(finals)), "std": float(np.std(finals)), "per_seed": finals}
    payload = {
        "experiment": name,
        "title": exp["title"],
        "preset": preset,
        "scale": "quick (scaled down, see social_dilemmas/baselines/presets.py)" if quick else "paper",
        "seeds": n_seeds,
        "iterations": iterations,
        "summary_last_10_iterations": summary,
        # each run records its command; runs merged from a JSON written before that keep the
        # old file's list
        "commands": sorted({r["command"] for r in results if "command" in r}
                           | set(old_commands(json_path) if merge and any("command" not in r for r in results)
                                 else [])),
        "wall_seconds": previous_seconds + time.perf_counter() - t0,
        "run_seconds_total": float(sum(r.get("seconds", 0.0) for r in results)),
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu_count": os.cpu_count(),
        "runs": [{k: r[k] for k in _RUN_KEYS if k in r} for r in results],
    }
    json_path.write_text(json.dumps(payload, indent=1))
    files = [json_path]
    if plot:
        png = plot_experiment(json_path, out_dir / f"{name}{'_quick' if quick else ''}.png")
        if png is not None:
            files.append(png)
    return files


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")


def _finite_mean(xs: list[float]) -> float:
    vals = [float(x) for x in xs if x is not None and math.isfinite(float(x))]
    return float(np.mean(vals)) if vals else math.nan


def old_commands(json_path: Path) -> list[str]:
    """The commands recorded in an existing experiment JSON (empty if none)."""
    if not json_path.exists():
        return []
    return list(json.loads(json_path.read_text()).get("commands", []))


#: metric -> (panel title, y-axis label) of the experiment plots.
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "reward/ego": ("Agent's reward", "reward per step"),
    "reward/coplayer": ("Co-player's reward", "reward per step"),
    "reward/vs_agents": ("Reward against the other agents", "reward per step"),
    "reward/vs_naive": ("Reward against naive learners", "reward per step"),
    "ipd/ego_defect_rate": ("Agent's defection", "P(defect)"),
    "ipd/coplayer_defect_rate_last_episode": ("Naive learners' defection, last inner episode", "P(defect)"),
    "game/cleaning_discrepancy": ("Cleaning discrepancy (co-player - agent)", "cleaning actions per step"),
    "game/zaps_received/ego": ("Zaps the agent receives", "zaps per step"),
    "game/pollution": ("Pollution", "dirty cells"),
    "game/apples": ("Apples on the field", "apples"),
}

#: line styles and markers that keep overlapping curves apart (cycled per algorithm).
_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]


def plot_experiment(json_path: str | Path, png_path: str | Path, *, columns: int = 3) -> Path | None:
    """Mean +- std over seeds of each plotted metric, one panel per metric (None without matplotlib).

    Panels wrap into rows of ``columns``; each algorithm keeps one colour, line style and marker
    in every panel; a quick-scale run says so in the title.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return None
    data = json.loads(Path(json_path).read_text())
    exp = EXPERIMENTS[data["experiment"]]
    metrics = exp["plot"]
    ncols = min(columns, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.4 * ncols, 3.3 * nrows), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    flat = list(axes.flat)
    for ax, m in zip(flat, metrics):
        for k, (label, _, _) in enumerate(exp["runs"]):
            curves = [r["curves"][m] for r in data["runs"] if r["label"] == label and r["curves"].get(m)]
            if not curves:
                continue
            n = min(len(c) for c in curves)
            arr = np.array([c[:n] for c in curves], dtype=float)
            if not np.isfinite(arr).any():
                continue  # e.g. reward/vs_naive of a pool without naive learners
            arr = np.where(np.isfinite(arr), arr, np.nan)
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, std = np.nanmean(arr, 0), np.nanstd(arr, 0)
            x = np.arange(1, n + 1)
            style, marker = _STYLES[k % len(_STYLES)]
            colour = colours[k % len(colours)]
            ax.plot(x, mean, linestyle=style, marker=marker, markevery=max(1, n // 8), markersize=4, color=colour,
                    label=f"{label} ({len(curves)} seed{'s' if len(curves) > 1 else ''})")
            ax.fill_between(x, mean - std, mean + std, alpha=0.15, color=colour)
        title, ylabel = METRIC_LABELS.get(m, (m, m))
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("training iteration")
    for ax in flat[len(metrics):]:
        ax.axis("off")
    handles, labels = flat[0].get_legend_handles_labels()
    ncol = min(4, len(labels)) or 1
    legend_rows = math.ceil(len(labels) / ncol) if labels else 1
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=9, frameon=False)
    quick = str(data.get("scale", "")).startswith("quick")
    scale = "QUICK scale (scaled-down preset, not the paper's)" if quick else "paper scale"
    fig.suptitle(f"{data['title']}\n{scale}: preset {data['preset']}, mean ± std over seeds", fontsize=10,
                 color="firebrick" if quick else "black")
    # room at the bottom for the legend's rows (a fraction of the figure's height)
    fig.tight_layout(rect=(0, (0.07 if nrows == 1 else 0.04) * legend_rows, 1, 1))
    fig.savefig(png_path, dpi=100)
    plt.close(fig)
    return Path(png_path)


def fig5a(out_dir: Path, quick: bool) -> list[Path]:
    """Paper Fig. 5A: COALA-PPO vs M-FOS vs batch-unaware against naive learners in the IPD."""
    return run_experiment("fig5a", out_dir, quick, jobs=2 if quick else 1)


def fig5c(out_dir: Path, quick: bool) -> list[Path]:
    """Paper Fig. 5C: mixed pool; the agents' reward against each other, and without naive agents."""
    return run_experiment("fig5c", out_dir, quick, jobs=2 if quick else 1)


def fig6(out_dir: Path, quick: bool) -> list[Path]:
    """Paper Fig. 6: CleanUp-lite shaping (return, cleaning discrepancy, zapping, pollution, apples)."""
    return run_experiment("fig6", out_dir, quick, jobs=2 if quick else 1)


# python -m social_dilemmas.baselines.figures NAME OUT_DIR [seeds] [its|-] [jobs] [LABEL ...]
if __name__ == "__main__":
    import sys

    name, out = sys.argv[1], sys.argv[2]
    s = int(sys.argv[3]) if len(sys.argv) > 3 else None
    its = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    j = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    only = [a for a in sys.argv[6:] if a != "-"] or None  # one label per argument (labels may hold commas)
    print(run_experiment(name, out, True, seeds=s, iterations=its, jobs=j, labels=only, merge=only is not None,
                         run_root=Path(out) / "runs"))
