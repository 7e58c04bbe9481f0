"""Wall time of scoring one policy on a benchmark suite (``social_dilemmas.benchmark.evaluate``).

The target: one policy on the IPD suite with 5 seeds (replicates per opponent) in under a
minute on a 2-core CPU. Reports, per policy, the median over ``--repeats`` runs of the whole
``evaluate`` call and the seconds per scenario of the last run.

    python benchmarks/bench_benchmark.py --out benchmarks/results/benchmark_ipd_suite_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def _policies(names: list[str]) -> dict:
    out = {}
    for name in names:
        if name == "sb3-ppo":
            import gymnasium as gym
            from stable_baselines3 import PPO

            import social_dilemmas  # noqa: F401

            out[name] = PPO("MlpPolicy", gym.make("social_dilemmas/IPD-v0"), seed=0, device="cpu")
        else:
            out[name] = name
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--suite", default="ipd")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--policies", default="tit_for_tat,coala-ppo,sb3-ppo",
                   help="comma-separated: strategy names, reference agents, or sb3-ppo (an untrained SB3 PPO MLP)")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)

    import torch

    from social_dilemmas.benchmark import evaluate

    def timed_run(policy, seed: int) -> tuple[float, dict[str, float]]:
        per_scenario: dict[str, float] = {}

        def note(sid: str, seconds: float) -> None:
            per_scenario[sid] = round(seconds, 3)

        t0 = time.perf_counter()
        evaluate(policy, a.suite, seeds=a.seeds, seed=seed, progress=note)
        return time.perf_counter() - t0, per_scenario

    results = []
    for name, policy in _policies([x for x in a.policies.split(",") if x]).items():
        runs = [timed_run(policy, r) for r in range(a.repeats)]
        walls = [w for w, _ in runs]
        row = {"policy": name, "suite": a.suite, "seeds": a.seeds, "median_s": round(statistics.median(walls), 3),
               "runs_s": [round(w, 3) for w in walls], "per_scenario_s": runs[-1][1]}
        results.append(row)
        print(json.dumps(row), flush=True)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    doc = {"benchmark": "score one policy on a suite", "target": "IPD suite, 5 seeds, < 60 s on a 2-core CPU",
           "results": results,
           "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
                       "torch": torch.__version__, "load_average_1_5_15": load},
           "notes": "evaluate() runs with 1 torch thread; the machine was shared with other jobs (see load average)"}
    if a.out:
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    return doc


if __name__ == "__main__":
    main()
