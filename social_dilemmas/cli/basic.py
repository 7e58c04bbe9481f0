"""The light sub-commands: ``list``, ``demo`` and ``bench``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from social_dilemmas.cli.command import Command
from social_dilemmas.cli.report import did_you_mean, table


def _cmd_list(args: argparse.Namespace, rest: list[str]) -> int:
    from social_dilemmas.registration import NAMESPACE, REGISTRY

    width = max(len(NAMESPACE) + 1 + len(k) for k in REGISTRY)
    for entry in REGISTRY.values():
        print(f"{entry.full_id:<{width}}  {entry.description}")
    return 0


def _parse_batches(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"--batch must be a comma-separated list of positive integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise SystemExit(f"--batch must be a comma-separated list of positive integers, got {text!r}")
    return values


def _check_device(device: str) -> str:
    from social_dilemmas.core.devices import check_device

    try:
        check_device(device, "--device")
    except (TypeError, ValueError) as e:
        raise SystemExit(str(e)) from None
    return device


def _cmd_bench(args: argparse.Namespace, rest: list[str]) -> int:
    from social_dilemmas.bench import bench_env
    from social_dilemmas.registration import get_entry

    try:
        get_entry(args.env_id)
    except ValueError as e:
        from social_dilemmas.registration import REGISTRY

        raise SystemExit(f"{e}{did_you_mean(args.env_id, REGISTRY)}") from None
    device = _check_device(args.device)
    if args.threads is not None:
        if args.threads < 1:
            raise SystemExit(f"--threads must be a positive integer, got {args.threads}")
        torch.set_num_threads(args.threads)
    results = []
    if not args.json:
        print(f"{args.env_id} on {device}, {args.steps} steps x {args.repeats} repeats (median), "
              f"{torch.get_num_threads()} torch threads")
        print(table(["batch", "env-steps/s", "agent-steps/s", "warm-up s"], []).splitlines()[0], flush=True)
    for b in _parse_batches(args.batch):
        r = bench_env(args.env_id, b, device=device, steps=args.steps, repeats=args.repeats, validate=args.validate)
        results.append(r.as_dict())
        if args.json:
            print(json.dumps(r.as_dict()), flush=True)
    if not args.json:
        rows = [[r["batch_size"], f"{r['env_steps_per_s']:.3g}", f"{r['agent_steps_per_s']:.3g}",
                 f"{r['warmup_s']:.2f}"] for r in results]
        print("\n".join(table(["batch", "env-steps/s", "agent-steps/s", "warm-up s"], rows).splitlines()[1:]))
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def _cmd_demo(args: argparse.Namespace, rest: list[str]) -> int:
    from social_dilemmas.bench import bench_env
    from social_dilemmas.coplayers.fixed import make_strategy
    from social_dilemmas.core.rng import sample_categorical
    from social_dilemmas.registration import make_batched

    env = make_batched("IPD-v0", batch_size=1)
    try:
        players = [make_strategy(args.player0, name="--player0"), make_strategy(args.player1, name="--player1")]
    except (TypeError, ValueError) as e:
        raise SystemExit(str(e)) from None
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


def _configure_demo(s: argparse.ArgumentParser) -> None:
    s.add_argument("--player0", default="tit_for_tat", help="fixed strategy of player_0 (default: %(default)s)")
    s.add_argument("--player1", default="win_stay_lose_shift", help="fixed strategy of player_1 (default: %(default)s)")
    s.add_argument("--seed", type=int, default=0, help="seed of the match (default: %(default)s)")


def _configure_bench(s: argparse.ArgumentParser) -> None:
    s.add_argument("env_id", help="a registered id, e.g. IPD-v0 (see `social-dilemmas list`)")
    s.add_argument("--batch", default="1,64,1024,8192,65536", help="comma-separated batch sizes (default: %(default)s)")
    s.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: %(default)s)")
    s.add_argument("--steps", type=int, default=200, help="timed steps per repeat (default: %(default)s)")
    s.add_argument("--repeats", type=int, default=5, help="repeats; the median is reported (default: %(default)s)")
    s.add_argument("--validate", action="store_true", help="include action validation in the timed loop")
    s.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    s.add_argument("--out", help="also write the results as a JSON list to this file")
    s.add_argument("--json", action="store_true", help="print one JSON line per batch size instead of a table")


LIST = Command("print every registered id with a one-line description", _cmd_list)
DEMO = Command("play an IPD match between two strategies and print a throughput figure", _cmd_demo,
               _configure_demo)
BENCH = Command("env-steps/s of a batched core per batch size (a table; --json for machines)", _cmd_bench,
                _configure_bench)
