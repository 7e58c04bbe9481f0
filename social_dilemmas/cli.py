"""The ``social-dilemmas`` command: list, demo, bench, reproduce, train, eval."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch


def _cmd_list(args: argparse.Namespace) -> int:
    from social_dilemmas.registration import NAMESPACE, REGISTRY

    width = max(len(NAMESPACE) + 1 + len(k) for k in REGISTRY)
    for entry in REGISTRY.values():
        print(f"{entry.full_id:<{width}}  {entry.description}")
    for extra_id, text in _extra_ids():
        print(f"{extra_id:<{width}}  {text}")
    return 0


def _extra_ids() -> list[tuple[str, str]]:
    """Ids registered outside the game registry (e.g. meta-environments), with a line each."""
    import gymnasium as gym

    from social_dilemmas.registration import NAMESPACE, REGISTRY

    games = {e.full_id for e in REGISTRY.values()}
    out = []
    for env_id, spec in sorted(gym.registry.items()):
        if env_id.startswith(NAMESPACE + "/") and env_id not in games:
            doc = getattr(spec, "kwargs", {}).get("description") or "meta-environment (see its documentation page)"
            out.append((env_id, doc))
    return out


def _parse_batches(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"--batch must be a comma-separated list of positive integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise SystemExit(f"--batch must be a comma-separated list of positive integers, got {text!r}")
    return values


def _check_device(device: str) -> str:
    if device not in ("cpu", "cuda") and not device.startswith("cuda:"):
        raise SystemExit(f"--device must be cpu or cuda[:N], got {device!r}")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda was asked for but torch sees no CUDA device")
    return device


def _cmd_bench(args: argparse.Namespace) -> int:
    from social_dilemmas.bench import bench_env
    from social_dilemmas.registration import get_entry

    try:
        get_entry(args.env_id)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    device = _check_device(args.device)
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit(f"--threads must be a positive integer, got {args.threads}")
        torch.set_num_threads(args.threads)
    results = []
    for b in _parse_batches(args.batch):
        r = bench_env(args.env_id, b, device=device, steps=args.steps, repeats=args.repeats, validate=args.validate)
        results.append(r.as_dict())
        print(json.dumps(r.as_dict()), flush=True)
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from social_dilemmas.bench import bench_env
    from social_dilemmas.coplayers.fixed import make_strategy
    from social_dilemmas.core.rng import sample_categorical
    from social_dilemmas.registration import make_batched

    env = make_batched("IPD-v0", batch_size=1)
    players = [make_strategy(args.player0), make_strategy(args.player1)]
    obs = env.reset(seed=args.seed)
    totals = [0.0, 0.0]
    names = env.game.table.action_meanings  # type: ignore[attr-defined]
    print(f"IPD-v0, {env.game.max_steps} rounds: {args.player0} (player_0) vs {args.player1} (player_1)")
    for t in range(env.game.max_steps):
        u = env.state.rng.uniform(200, 2)  # type: ignore[union-attr]
        acts = torch.stack(
            [sample_categorical(p.action_probs(obs[:, i], None)[0], u[:, i]) for i, p in enumerate(players)], 1
        )
        out = env.step(acts)
        obs = out.obs
        r = out.reward[0].tolist()
        totals = [totals[0] + r[0], totals[1] + r[1]]
        a0, a1 = names[int(acts[0, 0])], names[int(acts[0, 1])]
        print(f"  round {t + 1:2d}: {a0:>9} / {a1:<9} rewards {r[0]:+g} {r[1]:+g}")
    print(f"  total: player_0 {totals[0]:+g}, player_1 {totals[1]:+g}")
    r = bench_env("IPD-v0", 8192, steps=200, repeats=3)
    print(
        f"batched IPD-v0 on cpu, batch 8192: {r.env_steps_per_s:.3g} env-steps/s "
        f"({r.agent_steps_per_s:.3g} agent-steps/s)"
    )
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from social_dilemmas.reproduce import FIGURES

    if args.figure not in FIGURES:
        raise SystemExit(f"unknown figure {args.figure!r}; available: {', '.join(sorted(FIGURES)) or '(none)'}")
    mod, _, fn = FIGURES[args.figure].partition(":")
    files = getattr(importlib.import_module(mod), fn)(Path(args.out), args.quick)
    for f in files:
        print(f)
    return 0


def _parse_overrides(rest: Sequence[str]) -> dict[str, str]:
    """``["--learning-rate", "1e-3", "--seed=2", "--no-tensorboard"]`` -> a dict of strings."""
    out: dict[str, str] = {}
    i = 0
    while i < len(rest):
        tok = rest[i]
        if not tok.startswith("--") or tok == "--":
            raise SystemExit(f"overrides must look like --key value or --key=value, got {tok!r}")
        key = tok[2:]
        if "=" in key:
            key, value = key.split("=", 1)
        elif i + 1 < len(rest) and not rest[i + 1].startswith("--"):
            i += 1
            value = rest[i]
        elif key.startswith("no-"):
            key, value = key[3:], "false"
        else:
            value = "true"
        out[key] = value
        i += 1
    return out


#: Metrics worth a line of their own at the end of a run (when the algorithm logs them).
_SUMMARY_KEYS = ("reward/ego", "reward/coplayer", "ipd/ego_defect_rate", "ipd/coplayer_defect_rate_last_episode")


def _cmd_train(args: argparse.Namespace, rest: Sequence[str]) -> int:
    from social_dilemmas.baselines import coerce_overrides, preset_args, run

    try:
        overrides = coerce_overrides(args.algo, _parse_overrides(rest))
        if args.resume:
            overrides["resume"] = True
        train_args = preset_args(args.preset, args.algo, **overrides)
    except (ValueError, TypeError) as e:
        raise SystemExit(str(e)) from None
    result = run(train_args)
    shown = [k for k in _SUMMARY_KEYS if k in result.final]
    if shown:
        print("final iteration: " + ", ".join(f"{k} {result.final[k]:.3f}" for k in shown))
    print(json.dumps({"iterations_done": result.iterations_done, "checkpoint": str(result.checkpoint),
                      "interrupted": result.interrupted, "final": result.final}))
    return 130 if result.interrupted else 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from social_dilemmas.baselines import evaluate

    try:
        metrics = evaluate(args.checkpoint, args.against, seed=args.seed, episodes=args.episodes,
                           device=args.device, greedy=args.greedy)
    except (ValueError, TypeError, FileNotFoundError) as e:
        raise SystemExit(str(e)) from None
    print(json.dumps(metrics))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``social-dilemmas`` command."""
    p = argparse.ArgumentParser(prog="social-dilemmas", description=__doc__)
    p.add_argument("--malloc", choices=("keep", "default"), default="keep",
                   help="keep (default): let this process reuse freed memory instead of returning it to the OS "
                        "(glibc only; about 8%% faster training on a CPU, see social_dilemmas.core.memory); "
                        "default: the C library's own settings")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="print every registered id with a one-line description")
    s.set_defaults(fn=_cmd_list)

    s = sub.add_parser("demo", help="play an IPD match between two strategies and print a throughput figure")
    s.add_argument("--player0", default="tit_for_tat")
    s.add_argument("--player1", default="win_stay_lose_shift")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=_cmd_demo)

    s = sub.add_parser("bench", help="env-steps/s of a batched core, one JSON line per batch size")
    s.add_argument("env_id")
    s.add_argument("--batch", default="1,64,1024,8192,65536", help="comma-separated batch sizes")
    s.add_argument("--device", default="cpu", help="cpu or cuda[:N]")
    s.add_argument("--steps", type=int, default=200, help="timed steps per repeat")
    s.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported")
    s.add_argument("--validate", action="store_true", help="include action validation in the timed loop")
    s.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    s.add_argument("--out", help="also write the results as a JSON list to this file")
    s.set_defaults(fn=_cmd_bench)

    s = sub.add_parser("reproduce", help="regenerate a figure of the paper (see docs/)")
    s.add_argument("figure")
    s.add_argument("--out", default="docs/figures", help="output directory")
    s.add_argument("--quick", action="store_true", help="scaled-down run (minutes on a laptop CPU)")
    s.set_defaults(fn=_cmd_reproduce)

    s = sub.add_parser(
        "train",
        help="train a learner: social-dilemmas train ALGO --preset NAME [--key value ...]",
        description="Any further --key value pair overrides a field of the preset's Args "
        "(e.g. --iterations 50 --seed 2 --run-dir runs/x --device cuda).",
    )
    s.add_argument("algo", help="coala, coala-ppo, coala-a2c, batch-unaware, mfos, lola-dice, naive")
    s.add_argument("--preset", required=True, help="ipd-shaping, ipd-mixed, cleanup-shaping, cleanup-mixed, *-quick")
    s.add_argument("--resume", action="store_true", help="continue from the run directory's last checkpoint")
    s.set_defaults(fn=_cmd_train, takes_rest=True)

    s = sub.add_parser("eval", help="evaluate a checkpoint against a co-player pool")
    s.add_argument("checkpoint", help="a checkpoint file or a run directory")
    s.add_argument("--against", default="naive", help="naive, pool, agents, or a fixed strategy name")
    s.add_argument("--seed", type=int, default=12345)
    s.add_argument("--episodes", type=int, default=1, help="meta-episodes to average over")
    s.add_argument("--device", default="cpu")
    s.add_argument("--greedy", action="store_true", help="act greedily instead of sampling")
    s.set_defaults(fn=_cmd_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``social-dilemmas`` command."""
    args, rest = build_parser().parse_known_args(argv)
    if args.malloc == "keep":  # the command owns its process, so a process-wide allocator option is fine here
        from social_dilemmas.core.memory import keep_freed_memory

        keep_freed_memory()
    if getattr(args, "takes_rest", False):
        return int(args.fn(args, rest) or 0)
    if rest:
        raise SystemExit(f"unrecognized arguments: {' '.join(rest)}")
    return int(args.fn(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
