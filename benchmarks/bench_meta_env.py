"""Throughput of the co-player shaping meta-environment at the paper's IPD scale.

Measures whole meta-episodes (``meta_batch`` co-players x ``B`` games x ``M`` inner episodes x
``T`` steps) with a random ego (``--ego random``: the environment alone) or a Hawk policy acting
for the ego (``--ego hawk``: what the paper's learner adds while it plays) and reports, as
medians over ``--repeats`` meta-episodes after one warm-up meta-episode:

* ``game_steps_per_s``: individual game steps (``meta_batch * B * M * T`` per meta-episode) per
  second — the "env-steps/s" of the other benchmarks;
* ``meta_steps_per_s``: batched meta-environment steps (``M * T`` per meta-episode) per second;
* the split of the wall time between ``game_step`` (the batched game core), ``coplayer_act``
  (co-player forward + sampling), ``coplayer_update`` (the naive learners' A2C updates at the
  ``M - 1`` inner boundaries), ``other`` (bookkeeping, observation assembly) and ``ego``
  (choosing the ego actions, outside the env).

Paper scale (default): meta_batch 128, B 16, M 20, T 10, Hawk naive learners (Table 8).

    python benchmarks/bench_meta_env.py --out benchmarks/results/meta_env_cpu.json
    python benchmarks/bench_meta_env.py --device cuda --out benchmarks/results/meta_env_gpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch

PHASES = ("game_step", "coplayer_act", "coplayer_update", "other", "ego")

NOTES = (
    "coplayer_update = the M-1 batched A2C steps per meta-episode: one sequence-mode forward plus one backward "
    "of the naive networks over the same B*T tokens per slot that acting already ran forward, plus one flat "
    "Adam step; no Python loop over learners or time. That is the least work an A2C step needs (about 2.3x a "
    "no-grad sequence forward), so an update costs about 1.7x the acting of its inner episode. With a random "
    "ego (the environment alone) the updates are therefore the largest share; with the paper's Hawk learner "
    "acting for the ego (--ego hawk) they are under half, and inside a training iteration (PPO epochs on top) "
    "about a sixth. Numbers move with the machine's load: see machine.load_average_*. "
    "config.keep_freed_memory: social_dilemmas.core.memory.keep_freed_memory() was applied (--malloc keep, the "
    "default), so freed activations are reused instead of page-faulted in again at every update."
)


def run(args: argparse.Namespace, model: str, update_block: int | None) -> dict:
    from social_dilemmas.models import make_model
    from social_dilemmas.models.functional import sample_actions
    from social_dilemmas.wrappers import ShapingMetaEnv

    env = ShapingMetaEnv(args.game, "naive", meta_batch=args.meta_batch, batch_size=args.batch_size,
                         num_inner_episodes=args.inner_episodes, device=args.device,
                         coplayer_kwargs={"model": model, "update_block": update_block}, validate=False, profile=True)
    mb, b = env.meta_batch, env.batch_size
    gen = torch.Generator(device=env.device).manual_seed(0)
    length = env.meta_episode_length
    obs_dim = int(env.observation_space.shape[-1])
    ego_net = None
    if args.ego == "hawk":  # the paper's learner: one Hawk network acting on all games, memory kept all meta-episode
        ego_net = make_model("hawk", obs_dim, env.num_actions, population=1, hidden=32, seed=0, device=env.device)
        ego_net.requires_grad_(False)

    obs = env.reset(seed=0)

    def meta_episode() -> dict[str, float]:  # the env autoresets at the meta-episode end
        nonlocal obs
        before = env.timings
        t_ego = 0.0
        t0 = time.perf_counter()
        carry = ego_net.initial_carry(mb * b) if ego_net is not None else None
        for _ in range(length):
            te = time.perf_counter()
            if ego_net is None:
                a = torch.randint(0, env.num_actions, (mb, b), generator=gen, device=env.device)
            else:
                with torch.no_grad():
                    logits, _, carry = ego_net.step(obs.reshape(1, mb * b, -1).float(), carry)
                a = sample_actions(logits[0], gen).reshape(mb, b)
            t_ego += time.perf_counter() - te
            obs = env.step(a).obs
        if env.device.type == "cuda":
            torch.cuda.synchronize()
        total = time.perf_counter() - t0
        after = env.timings
        split = {k: after[k] - before[k] for k in after}
        split["ego"] = t_ego
        split["total"] = total
        return split

    warm = meta_episode()
    runs = [meta_episode() for _ in range(args.repeats)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    steps = mb * b * length
    return {
        "ego": args.ego,
        "coplayer_model": model,
        "update_block": update_block,
        "meta_episode_seconds": med["total"],
        "meta_episode_seconds_all": [r["total"] for r in runs],
        "warmup_meta_episode_seconds": warm["total"],
        "game_steps_per_s": steps / med["total"],
        "meta_steps_per_s": length / med["total"],
        "split_seconds": {k: med[k] for k in PHASES},
        "split_fraction": {k: med[k] / med["total"] for k in PHASES},
        "per_update_ms": 1e3 * med["coplayer_update"] / max(args.inner_episodes - 1, 1),
        "per_step_act_ms": 1e3 * med["coplayer_act"] / length,
        "per_step_game_ms": 1e3 * med["game_step"] / length,
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--game", default="IPD-v0")
    p.add_argument("--meta-batch", type=int, default=128)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--inner-episodes", type=int, default=20)
    p.add_argument("--models", default="hawk", help="comma-separated naive-learner kinds, e.g. hawk,gru,mlp,tabular")
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", default=None,
                   help="comma-separated torch.set_num_threads values to run with (default: torch's choice)")
    p.add_argument("--ego", choices=("random", "hawk"), default="random",
                   help="random: uniform ego actions (the environment alone); hawk: a Hawk policy (the paper's "
                        "learner's network) acts for the ego with memory over the whole meta-episode")
    p.add_argument("--update-blocks", default="none",
                   help="comma-separated NaiveConfig.update_block values to compare: none or an int")
    p.add_argument("--out", default=None, help="write the results JSON here")
    p.add_argument("--malloc", choices=("keep", "default"), default="keep",
                   help="keep: keep_freed_memory() (glibc reuses freed heap, no page faults per update); "
                        "default: the C library's own settings")
    args = p.parse_args(argv)
    from social_dilemmas.core.memory import keep_freed_memory

    malloc_kept = keep_freed_memory() if args.malloc == "keep" else False
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    threads = [int(t) for t in args.threads.split(",")] if args.threads else [torch.get_num_threads()]
    blocks = [None if b == "none" else int(b) for b in args.update_blocks.split(",")]
    results = []
    for n in threads:
        torch.set_num_threads(n)
        for m in (m.strip() for m in args.models.split(",")):
            for blk in blocks if m else ():
                results.append({"torch_threads": n, **run(args, m, blk)})
                print(f"{m:8s} threads={n} update_block={blk}: {results[-1]['game_steps_per_s']:,.0f} game steps/s, "
                      f"split {', '.join(f'{k} {v:.0%}' for k, v in results[-1]['split_fraction'].items())}",
                      file=sys.stderr)
    out = {
        "benchmark": "meta_env",
        "command": "python benchmarks/bench_meta_env.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "config": {"ego": args.ego, "game": args.game, "meta_batch": args.meta_batch, "batch_size": args.batch_size,
                   "inner_episodes": args.inner_episodes, "device": args.device, "repeats": args.repeats,
                   "keep_freed_memory": malloc_kept},
        "machine": {
            "platform": platform.platform(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__,
            "cuda_device": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
        "notes": NOTES,
        "results": results,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.out:
        os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
        with open(args.out, "w") as f:
            f.write(text + "\n")
    return out


if __name__ == "__main__":
    main()
