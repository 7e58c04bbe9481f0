"""Policy-network throughput: Hawk's parallel-scan sequence mode against naive time loops.

For each shape ``(P, N, L)`` (population, sub-environments per member, sequence length) it times

* ``hawk_doubling`` — :class:`~social_dilemmas.models.hawk.HawkModel` sequence mode over the whole
  sequence at once, the RG-LRU run by the chunked parallel (doubling) scan;
* ``hawk_loop``     — the same with the recurrence as a fused loop over time;
* ``hawk_auto``     — the defaults (on the CPU: loop, in cache-sized time blocks; elsewhere:
  doubling over the whole sequence);
* ``hawk_steps``    — ``L`` calls of step mode: the naive loop of the whole network over time
  (how acting runs);
* ``gru_seq``       — the GRU's sequence mode, for comparison (its recurrence is a loop over time);

each forward-only (``no_grad``) and forward + backward, as medians over repeats, and prints one
JSON document (``--out`` also writes it). Defaults are the two shapes the trainers use most: naive
learners ``P=128, N=16, L=200`` and one meta agent ``P=1, N=2048, L=200``.

    python benchmarks/bench_models.py [--device cpu|cuda] [--shapes 128x16x200,1x2048x200] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

import torch

from social_dilemmas.models import make_model

OBS_DIM, NUM_ACTIONS = 5, 2


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timeit(fn: Callable[[], object], device: torch.device, repeats: int, warmup: int = 2) -> dict[str, float]:
    for _ in range(warmup):
        fn()
    _sync(device)
    times, cpu_times = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    # process (CPU) time is the steadier number on a shared CPU machine
    return {"median_s": statistics.median(times), "min_s": min(times), "median_cpu_s": statistics.median(cpu_times)}


def bench_shape(p: int, n: int, length: int, device: torch.device, repeats: int) -> dict:
    options = {
        "doubling": {"scan_method": "doubling", "time_block": None},
        "loop": {"scan_method": "loop", "time_block": None},
        "auto": {},
    }
    hawks = {
        name: make_model("hawk", OBS_DIM, NUM_ACTIONS, population=p, seed=0, device=device, **opts)
        for name, opts in options.items()
    }
    gru = make_model("gru", OBS_DIM, NUM_ACTIONS, population=p, seed=0, device=device)
    g = torch.Generator().manual_seed(0)
    obs = torch.nn.functional.one_hot(torch.randint(0, OBS_DIM, (p, n, length), generator=g), OBS_DIM).float()
    obs = obs.to(device)
    reset = torch.zeros(p, n, length, dtype=torch.bool, device=device)
    reset[:, :, ::10] = True  # naive learners: inner episodes of T = 10

    def fwd(model):
        def run():
            with torch.no_grad():
                model(obs, None, reset)

        return run

    def fwd_bwd(model):
        def run():
            logits, value, _ = model(obs, None, reset)
            (logits.sum() + value.sum()).backward()
            model.zero_grad(set_to_none=True)

        return run

    def steps(model):
        def run():
            with torch.no_grad():
                carry = model.initial_carry(n, device)
                for t in range(length):
                    carry = model.reset_carry(carry, reset[:, :, t])
                    model.step(obs[:, :, t], carry)

        return run

    rows = {}
    for method, hawk in hawks.items():
        rows[f"hawk_{method}"] = {
            "forward": timeit(fwd(hawk), device, repeats),
            "fwd_bwd": timeit(fwd_bwd(hawk), device, repeats),
        }
    rows["hawk_steps"] = {"forward": timeit(steps(hawks["auto"]), device, max(1, repeats // 2), warmup=1)}
    rows["gru_seq"] = {"forward": timeit(fwd(gru), device, repeats), "fwd_bwd": timeit(fwd_bwd(gru), device, repeats)}
    agent_steps = p * n * length
    for row in rows.values():
        for mode in row.values():
            mode["agent_steps_per_s"] = agent_steps / mode["median_s"]
    base = rows["hawk_steps"]["forward"]["median_s"]
    speedup = {k: base / rows[k]["forward"]["median_s"] for k in rows if k.startswith("hawk_") and k != "hawk_steps"}
    doubling_vs_loop = {
        mode: rows["hawk_loop"][mode]["median_s"] / rows["hawk_doubling"][mode]["median_s"]
        for mode in ("forward", "fwd_bwd")
    }
    return {
        "P": p,
        "N": n,
        "L": length,
        "agent_steps": agent_steps,
        "results": rows,
        "forward_speedup_vs_step_loop": speedup,
        "doubling_speedup_vs_loop": doubling_vs_loop,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--shapes", default="128x16x200,1x2048x200", help="comma-separated PxNxL")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    doc = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "repeats": args.repeats,
        "shapes": [bench_shape(p, n, length, device, args.repeats) for p, n, length in shapes],
    }
    text = json.dumps(doc, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
