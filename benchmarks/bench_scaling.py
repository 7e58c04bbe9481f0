"""One paper-scale IPD training iteration, side by side: an older commit vs now, threads vs ranks.

Runs ``benchmarks/bench_training.py`` (COALA-PPO, preset ``ipd-shaping``: 409,600 game steps,
128 naive learners, PPO 4 epochs x 2 minibatches) in several set-ups, *alternately* for
``--rounds`` rounds so that a shared, noisy machine affects them alike, and records the median
seconds per iteration of each, their ratios to the old commit, and the scaling efficiency of
data-parallel ranks (``t(1 rank) / (n * t(n ranks))``, 1.0 = perfect strong scaling).

Set-ups (``--setups``, comma-separated):

* ``old-1t`` / ``old-2t``: the older commit's ``bench_training.py`` with 1 / 2 torch threads
  (``--old DIR``: a worktree of that commit, e.g. ``git worktree add /tmp/sd-old 5dc795b``);
  ``old-2r`` / ``old-2r-c``: its 2 ranks, eager / compiled (for an older commit that has them,
  to measure one change side by side);
* ``new-1t`` / ``new-2t``: this checkout, one process, 1 / 2 threads;
* ``new-2r``: this checkout, 2 ranks x 1 thread (``torchrun --nproc-per-node 2``);
* ``new-1t-c`` / ``new-2r-c``: the same with the learner's loss through ``torch.compile``
  (``--compile``; the compile happens in the warm-up iterations, so give ``--warmup 2``).

    python benchmarks/bench_scaling.py --old /tmp/sd-old --rounds 2 \\
        --out benchmarks/results/training_scaling_cpu.json

Each measurement also records the load average before and after it (``/proc/loadavg``): other
processes on the machine slow every set-up, and threads more than ranks.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
SETUPS = ("old-1t", "old-2t", "old-2r", "old-2r-c", "new-1t", "new-2t", "new-2r", "new-1t-c", "new-2r-c")


def _commit(tree: Path) -> str | None:
    """The short commit a checkout is at (None outside git), so a record names the code it timed."""
    try:
        return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _load() -> list[float]:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else []


def command(setup: str, old: Path | None, iterations: int, warmup: int, out: Path, port: int) -> tuple[list[str], Path]:
    """The command line and working directory of one measurement."""
    kind, mix, *flags = setup.split("-")
    tree = ROOT if kind == "new" else old
    if tree is None:
        raise SystemExit(f"set-up {setup!r} needs --old DIR (a worktree of the older commit)")
    script = str(tree / "benchmarks" / "bench_training.py")
    common = ["--iterations", str(iterations), "--warmup", str(warmup), "--out", str(out)]
    if "c" in flags:
        common.append("--compile")
    if mix.endswith("r"):
        ranks = int(mix[:-1])
        return [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(ranks),
                "--rdzv-backend", "c10d", "--rdzv-endpoint", f"127.0.0.1:{port}", script, "--threads", "1",
                *common], tree
    return [sys.executable, script, "--threads", mix[:-1], *common], tree


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", type=Path, default=None, help="worktree of the older commit (for old-* set-ups)")
    ap.add_argument("--setups", default=",".join(SETUPS))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--port", type=int, default=29571, help="loopback port of the ranks' rendezvous")
    ap.add_argument("--out", default="benchmarks/results/training_scaling_cpu.json")
    a = ap.parse_args(argv)
    setups = [s.strip() for s in a.setups.split(",") if s.strip()]
    for s in setups:
        if s not in SETUPS:
            raise SystemExit(f"unknown set-up {s!r}; choose from {', '.join(SETUPS)}")
    runs: dict[str, list[dict]] = {s: [] for s in setups}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(a.rounds):
            for s in setups:
                out = Path(tmp) / f"{s}-{r}.json"
                cmd, cwd = command(s, a.old, a.iterations, a.warmup, out, a.port + r)
                mix = s.split("-")[1]
                env = {**os.environ, "PYTHONPATH": str(cwd), "OMP_NUM_THREADS": "1" if mix.endswith("r") else mix[:-1]}
                before = _load()
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
                if proc.returncode:
                    raise SystemExit(f"{s} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
                res = json.loads(out.read_text())
                med = res["median_seconds_after_warmup"]
                runs[s].append({"round": r, "median": med, "iterations": res["iterations"],
                                "world_size": res.get("world_size", 1), "wall_seconds": time.perf_counter() - t0,
                                "load_before": before, "load_after": _load()})
                print(f"round {r} {s}: {med['iteration']:.2f} s/iteration "
                      f"(rollout {med['rollout']:.2f}, co-player updates {med['coplayer_update']:.2f}, "
                      f"learner {med['learner_update']:.2f}); load {before[:1]} -> {_load()[:1]}", flush=True)
    summary = {s: {k: statistics.median(x["median"][k] for x in v) for k in v[0]["median"]} for s, v in runs.items()}
    out: dict = {
        "benchmark": "one COALA-PPO iteration at the paper's IPD scale, set-ups measured alternately",
        "scale": "preset ipd-shaping: meta_batch 128 x B 16 x M 20 x T 10 = 409,600 game steps; PPO 4 x 2",
        "setups": setups,
        "median_seconds": summary,
        "runs": runs,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
                    "python": platform.python_version()},
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": "python benchmarks/bench_scaling.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "commits": {"new": _commit(ROOT), **({"old": _commit(a.old)} if a.old is not None else {})},
    }
    it = {s: v["iteration"] for s, v in summary.items()}
    base = it.get("old-1t")
    if base:
        out["speedup_vs_old_1_thread"] = {s: base / v for s, v in it.items()}
    for n in (2,):
        if "new-1t" in it and f"new-{n}r" in it:
            out[f"scaling_efficiency_1_to_{n}_ranks"] = it["new-1t"] / (n * it[f"new-{n}r"])
        if "new-1t-c" in it and f"new-{n}r-c" in it:
            out[f"scaling_efficiency_1_to_{n}_ranks_compiled"] = it["new-1t-c"] / (n * it[f"new-{n}r-c"])
        if "new-1t" in it and f"new-{n}t" in it:
            out[f"scaling_efficiency_1_to_{n}_threads"] = it["new-1t"] / (n * it[f"new-{n}t"])
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps({k: v for k, v in out.items() if k.startswith(("speedup", "scaling"))}), f"-> {path}")
    return out


if __name__ == "__main__":
    main()
