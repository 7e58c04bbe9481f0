"""What the safety checks cost: the naive learner's health check, the checkpoint digest, action checks.

* ``naive_update_ms`` / ``naive_health_check_ms``: one A2C update of 128 naive learners on
  ``B = 16`` IPD episodes of ``T = 10`` (the paper's IPD scale), and the finiteness check that
  follows every update (its fast path: one norm per parameter tensor);
* ``checkpoint_digest_ms``: the SHA-256 digest written with (and checked against) a
  checkpoint of 4 Hawk agents (hidden 32) with their Adam state and random states;
* ``ipd_step_us`` with and without ``validate``: one batched IPD step of 8192 games.

    python benchmarks/bench_validation.py --out benchmarks/results/validation_overhead.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import torch

from social_dilemmas.baselines import checkpoint as ckpt
from social_dilemmas.coplayers.naive import InnerEpisodeBatch, NaiveLearner
from social_dilemmas.models import make_model
from social_dilemmas.registration import make_batched


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2] * 1e3


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    naive = NaiveLearner(5, 2, 128)
    obs = torch.nn.functional.one_hot(torch.randint(0, 5, (128, 16, 10)), 5).float()
    episodes = InnerEpisodeBatch(obs, torch.randint(0, 2, (128, 16, 10)), torch.randn(128, 16, 10))
    naive.update(episodes)
    norms = torch.ones(128)

    model = make_model("hawk", 5, 2, population=4, hidden=32, seed=0)
    opt = torch.optim.Adam(model.parameters())
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": ckpt.rng_state()}

    env = make_batched("IPD-v0", 8192)
    env.reset(seed=0)
    acts = torch.randint(0, 2, (8192, 2))
    out = {
        "naive_update_ms": _median_ms(lambda: naive.update(episodes), a.repeats),
        "naive_health_check_ms": _median_ms(lambda: naive._check_health(norms, None), a.repeats * 10),
        "checkpoint_digest_ms": _median_ms(lambda: ckpt.digest(state), a.repeats),
        "ipd_step_us_validate": 1e3 * _median_ms(lambda: env.step(acts), a.repeats * 10),
        "ipd_step_us_no_validate": 1e3 * _median_ms(lambda: env.step(acts, validate=False), a.repeats * 10),
        "threads": a.threads,
        "torch": torch.__version__,
    }
    out["naive_health_check_fraction"] = out["naive_health_check_ms"] / out["naive_update_ms"]
    print(json.dumps(out, indent=2))
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
