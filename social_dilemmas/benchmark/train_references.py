"""Train the reference agents from the presets, ship them as package data and record their scores.

ONE command makes everything in ``social_dilemmas/benchmark/reference_agents/``::

    python -m social_dilemmas.benchmark.train_references [--iterations 100] [--seeds 16] [--overwrite]

(``make references`` runs it with ``nice``). For each of COALA-PPO, M-FOS and batch-unaware it
runs ``social-dilemmas train ALGO --preset ipd-shaping-quick --iterations N --seed 0`` into a
temporary run directory, keeps the trained model and the run's Args (no optimiser state: a few
kB), and writes a record (preset, scale, command, package commit, wall time). The naive
baseline needs no training (it learns inside every meta-episode): its record holds the preset's
Table 8 naive settings (its initial parameter sets are rebuilt from the recorded seed). Finally
every agent is scored on every IPD scenario with ``--seeds`` replicates per opponent, into ``scores.json``.

Gridworld agents are not shipped: at the ``cleanup-shaping-quick`` scale no method learns more
than the scripted bots on this hardware in minutes (``docs/coala.md``, Fig. 6 at quick scale),
so the gridworld suites use scripted co-players and self-play only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: name -> training algorithm of ``social-dilemmas train``.
AGENTS = {"coala-ppo": "coala-ppo", "mfos": "mfos", "batch-unaware": "batch-unaware", "naive-baseline": "naive"}
PRESET = "ipd-shaping-quick"
SCALE_KEYS = ("iterations", "meta_batch", "batch_size", "num_inner_episodes", "population_size", "learning_rate")


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=10, check=True)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=10).stdout.splitlines()
        # the run's own output (records/scores of the agents made before this one) does not count
        dirty = [line for line in status if "benchmark/reference_agents/" not in line]
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def train_agent(name: str, iterations: int, out_dir: Path, work: Path, seed: int = 0) -> dict[str, Any]:
    """Train (or, for the naive baseline, build) one agent; write ``out_dir/<name>.pt``; return its record."""
    import torch

    from social_dilemmas.baselines import preset_args, run
    from social_dilemmas.baselines.checkpoint import load, save_atomic

    algo = AGENTS[name]
    t0 = time.perf_counter()
    file = f"{name}.pt"
    if algo == "naive":
        from social_dilemmas.baselines.naive_baseline import _naive_config
        from social_dilemmas.benchmark.naive_policy import NaiveLearnerPolicy

        args = preset_args(PRESET, "naive", seed=seed)
        policy = NaiveLearnerPolicy(_naive_config(args, seed * 7919 + 100_003), 5, 2, name=name)
        policy.save(out_dir / file, args=args.to_dict())
        command = f"(no training: the naive learner of preset {PRESET}, Table 8; it learns inside each meta-episode)"
        scale = {k: getattr(args, k) for k in ("naive_learning_rate", "naive_optimizer", "naive_reward_rescaling",
                                                "naive_gamma", "naive_population_size", "model", "hidden")}
    else:
        run_dir = work / name
        args = preset_args(PRESET, algo, seed=seed, iterations=iterations, run_dir=str(run_dir), progress=False,
                           tensorboard=False, torch_threads=1)
        result = run(args)
        state = load(result.checkpoint)
        saved_args = dict(state["args"])
        saved_args.update(run_dir=None, resume=False, progress=False, tensorboard=None)
        keep = {k: state[k] for k in ("format", "iteration", "model", "model_kind", "obs_dim", "num_actions")}
        save_atomic({**keep, "args": saved_args}, out_dir / file)
        command = (f"social-dilemmas train {algo} --preset {PRESET} --iterations {iterations} --seed {seed} "
                   "--torch-threads 1")
        scale = {k: getattr(args, k) for k in SCALE_KEYS}
        scale["final_reward_ego"] = round(float(result.final.get("reward/ego", float("nan"))), 4)
        scale["final_reward_coplayer"] = round(float(result.final.get("reward/coplayer", float("nan"))), 4)
    return {"file": file, "algo": algo, "preset": PRESET, "seed": seed, "scale": scale, "command": command,
            "commit": _commit(), "torch": torch.__version__, "wall_s": round(time.perf_counter() - t0, 1),
            "note": "scaled-down quick preset, not the paper's scale"}


def score_agents(out_dir: Path, seeds: int, suites: tuple[str, ...] = ("ipd",)) -> dict[str, Any]:
    """Score every agent in ``out_dir`` on ``suites``; returns ``{agent: result dict}``."""
    from social_dilemmas.benchmark.references import _load, load_reference, reference_directory, reference_names
    from social_dilemmas.benchmark.results import BenchmarkResult
    from social_dilemmas.benchmark.scoring import evaluate

    _load.cache_clear()
    scores: dict[str, Any] = {}
    for name in reference_names(out_dir):
        parts = []
        meta: dict[str, Any] = {}
        for i, suite in enumerate(suites):
            with reference_directory(out_dir):
                r = evaluate(load_reference(name), suite, seeds=seeds, seed=1_000 + i, name=name)
            parts += r.scenarios
            meta = r.meta
        scores[name] = BenchmarkResult(name, parts, {**meta, "suite": list(suites)}).as_dict()
        print(f"scored {name}: score IQM {BenchmarkResult(name, parts).aggregate()}", flush=True)
    return scores


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m social_dilemmas.benchmark.train_references", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=100, help="training iterations of each learned agent")
    p.add_argument("--seeds", type=int, default=16, help="replicates per opponent when scoring")
    p.add_argument("--out", default=None, help="directory (default: the package's reference_agents/)")
    p.add_argument("--agents", default=",".join(AGENTS), help="comma-separated subset of " + ", ".join(AGENTS))
    p.add_argument("--overwrite", action="store_true", help="replace agents already in --out")
    p.add_argument("--score-only", action="store_true", help="keep the agents, only re-record their scores")
    a = p.parse_args(argv)
    from social_dilemmas.benchmark.references import RECORDS, REFERENCE_DIR, SCORES

    out_dir = Path(a.out) if a.out else REFERENCE_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    names = [n for n in a.agents.split(",") if n]
    unknown = [n for n in names if n not in AGENTS]
    if unknown:
        raise SystemExit(f"--agents: unknown agent(s) {unknown}; known: {', '.join(AGENTS)}")
    if a.iterations < 1 or a.seeds < 1:
        raise SystemExit("--iterations and --seeds must be positive integers")
    records_path = out_dir / RECORDS
    records = json.loads(records_path.read_text()) if records_path.exists() else {}
    if not a.score_only:
        clash = [n for n in names if n in records or (out_dir / f"{n}.pt").exists()]
        if clash and not a.overwrite:
            raise SystemExit(f"{out_dir} already holds {clash}; pass --overwrite to replace them")
        command = "python -m social_dilemmas.benchmark.train_references " + " ".join(argv or sys.argv[1:])
        with tempfile.TemporaryDirectory(prefix="sd-references-") as work:
            for name in names:
                print(f"training {name} ...", flush=True)
                rec = train_agent(name, a.iterations, out_dir, Path(work))
                rec["made_by"] = command.strip()
                records[name] = rec
                tmp = records_path.with_name(RECORDS + ".tmp")
                tmp.write_text(json.dumps(records, indent=2) + "\n")
                shutil.move(tmp, records_path)
                print(f"  {name}: {rec['wall_s']} s, {rec['scale']}", flush=True)
    scores = score_agents(out_dir, a.seeds)
    tmp = out_dir / (SCORES + ".tmp")
    tmp.write_text(json.dumps(scores, indent=1) + "\n")
    shutil.move(tmp, out_dir / SCORES)
    print(f"wrote {out_dir / SCORES}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
