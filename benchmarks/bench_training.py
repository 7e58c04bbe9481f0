"""Time one COALA-PPO training iteration at the paper's IPD scale, split into its phases.

Paper scale (Tables 2, 4): 128 naive learners (meta_batch) x 16 games (B) x 20 inner episodes
(M) x 10 steps (T) = 409,600 game steps per iteration, i.e. 2048 sequences of 200 steps; Hawk
networks for the learner and the naive learners; PPO with 2 minibatches x 4 epochs.

Phases reported (seconds per iteration, from the trainer's own timers):

* ``rollout``: ego acting (Hawk step mode), co-player acting, game steps (``time/rollout``);
* ``coplayer_update``: the 128 naive learners' A2C updates at the 19 inner boundaries that
  matter (``time/coplayer_update``);
* ``learner_update``: advantages + PPO epochs on the learner (``time/learner_update``);
* ``iteration_cpu``: CPU seconds the process used in the iteration (all threads), which is less
  sensitive than wall-clock time to other processes competing for a shared machine.

Usage::

    python benchmarks/bench_training.py --iterations 3         # CPU, 1 torch thread (the trainer's default)
    python benchmarks/bench_training.py --iterations 3 --threads 2 \
        --out benchmarks/results/training_ipd_cpu_2threads.json
    python benchmarks/bench_training.py --device cuda --out benchmarks/results/training_ipd_gpu.json
    torchrun --nproc-per-node 2 benchmarks/bench_training.py --threads 1   # 2 data-parallel ranks

Under torchrun the ranks split the meta-batch (``social_dilemmas.baselines.distributed``); the
phases are rank 0's and rank 0 writes the JSON. ``benchmarks/bench_scaling.py`` runs this script
side by side with an older commit's and with several rank/thread mixes.

The first iteration includes one-time costs (allocations, kernel selection); the JSON records
every measured iteration and the median of those after ``--warmup``. The projected time of a
full 3000-iteration run is ``3000 x`` that median.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from social_dilemmas.baselines.presets import preset_args


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="ipd-shaping")
    ap.add_argument("--algo", default="coala-ppo")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None,
                    help="torch CPU threads (default: the trainer's auto rule, 1 on CPU; 0 = torch's default)")
    ap.add_argument("--iterations", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=1, help="iterations excluded from the median")
    ap.add_argument("--meta-batch", type=int, default=None, help="override (default: the preset's, 128)")
    ap.add_argument("--out", default=None, help="JSON path (default: benchmarks/results/training_ipd_<device>.json)")
    ap.add_argument("--malloc", choices=("keep", "default"), default="keep",
                    help="keep (as the social-dilemmas command does): keep_freed_memory() first; default: glibc's own")
    ap.add_argument("--compile", action="store_true", help="torch.compile the learner's loss (Args.torch_compile)")
    a = ap.parse_args(argv)
    from social_dilemmas.core.memory import keep_freed_memory  # noqa: PLC0415

    malloc_kept = keep_freed_memory() if a.malloc == "keep" else False

    overrides = {"iterations": a.iterations, "progress": False, "tensorboard": False, "device": a.device,
                 "torch_threads": a.threads}
    if a.compile:
        overrides["torch_compile"] = True
    if a.meta_batch:
        overrides["meta_batch"] = a.meta_batch
    args = preset_args(a.preset, a.algo, **overrides)
    from social_dilemmas.baselines.dispatch import run  # noqa: PLC0415

    t0 = time.perf_counter()
    res = run(args)
    wall = time.perf_counter() - t0
    keys = ("time/rollout", "time/coplayer_update", "time/learner_update", "time/iteration", "time/iteration_cpu")
    per_iter = [{k.split("/")[1]: h[k] for k in keys} for h in res.history]
    measured = per_iter[a.warmup:] or per_iter
    med = {k: statistics.median(x[k] for x in measured) for k in measured[0]}
    steps = args.population_size * args.meta_batch * args.batch_size * args.num_inner_episodes * 10
    out = {
        "benchmark": "one COALA-PPO training iteration",
        "preset": a.preset,
        "algo": a.algo,
        "scale": {"meta_batch": args.meta_batch, "batch_size": args.batch_size,
                  "num_inner_episodes": args.num_inner_episodes, "inner_episode_length": 10,
                  "game_steps_per_iteration": steps, "sequences": args.meta_batch * args.batch_size,
                  "sequence_length": args.num_inner_episodes * 10, "model": args.model,
                  "ppo_minibatches": args.ppo_nminibatches, "ppo_epochs": args.ppo_nepochs},
        "device": a.device if a.device == "cpu" else torch.cuda.get_device_name(0),
        "torch_threads": a.threads if a.threads is not None else (1 if a.device == "cpu" else torch.get_num_threads()),
        "cpu_count": os.cpu_count(),
        "keep_freed_memory": malloc_kept,
        "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "iterations": per_iter,
        "median_seconds_after_warmup": med,
        "game_steps_per_second": steps / med["iteration"],
        "projected_3000_iterations_hours": 3000 * med["iteration"] / 3600,
        "wall_seconds_incl_setup": wall,
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "command": "python benchmarks/bench_training.py " + " ".join(argv if argv is not None else []),
    }
    out["world_size"] = int(os.environ.get("WORLD_SIZE", "1"))
    out["torch_compile"] = bool(a.compile)
    if os.environ.get("RANK", "0") != "0":
        return out
    path = Path(a.out or f"benchmarks/results/training_ipd_{'cpu' if a.device == 'cpu' else 'gpu'}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(out["median_seconds_after_warmup"]), f"-> {path}")
    return out


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
