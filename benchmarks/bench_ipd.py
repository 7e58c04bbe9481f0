"""IPD core throughput next to a bare torch IPD step (the project's yardstick).

The bare step does only what any IPD needs (joint index, payoff gather, next one-hot) with
no state object, validation, time limit or autoreset. The core must stay within a factor 2.

    python benchmarks/bench_ipd.py [--batch 8192] [--out benchmarks/results/ipd_vs_plain_torch.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from social_dilemmas.bench import bench_env


def bare_torch_rate(batch: int, steps: int = 500, repeats: int = 5) -> float:
    """env-steps/s of a minimal batched IPD step in plain torch."""
    payoff = torch.tensor([[1.0, 1.0], [-1.0, 2.0], [2.0, -1.0], [0.0, 0.0]])
    eye = torch.eye(5)
    pool = [torch.randint(0, 2, (batch, 2)) for _ in range(8)]
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(steps):
            a = pool[i & 7]
            joint = a[:, 0] * 2 + a[:, 1]
            reward = payoff[joint]  # noqa: F841 - the work being measured
            obs = eye[joint + 1]  # noqa: F841
        rates.append(batch * steps / (time.perf_counter() - t0))
    return statistics.median(rates)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--batch", type=int, default=8192)
    p.add_argument("--out", default=None)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    core = bench_env("IPD-v0", args.batch, steps=500).as_dict()
    core_validated = bench_env("IPD-v0", args.batch, steps=500, validate=True).as_dict()
    bare = bare_torch_rate(args.batch)
    result = {
        "batch_size": args.batch,
        "bare_torch_env_steps_per_s": bare,
        "core_env_steps_per_s": core["env_steps_per_s"],
        "core_validated_env_steps_per_s": core_validated["env_steps_per_s"],
        "bare_over_core": bare / core["env_steps_per_s"],
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    print(json.dumps(result))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
