"""``social-dilemmas eval CHECKPOINT``: the key metrics over several meta-episodes, as a table."""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from social_dilemmas.cli.command import Command
from social_dilemmas.cli.report import table

#: Metric groups of the headline table; the rest (e.g. the co-players' optimiser internals) needs --all.
HEADLINE_PREFIXES = ("reward/", "ipd/", "game/", "pool/")


def spread(episodes: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """metric -> {mean, std, min, max} over the episodes where it is finite (others dropped)."""
    out = {}
    for k in sorted(set().union(*episodes)):
        vals = np.array([e[k] for e in episodes if k in e and math.isfinite(e[k])], dtype=float)
        if vals.size:
            out[k] = {"mean": float(vals.mean()), "std": float(vals.std()), "min": float(vals.min()),
                      "max": float(vals.max())}
    return out


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    from social_dilemmas.baselines import evaluate_episodes

    if args.episodes < 1:
        raise SystemExit(f"--episodes must be a positive integer, got {args.episodes}")
    try:
        episodes = evaluate_episodes(args.checkpoint, args.against, seed=args.seed, episodes=args.episodes,
                                     device=args.device, greedy=args.greedy)
    except (ValueError, TypeError, FileNotFoundError) as e:
        raise SystemExit(str(e)) from None
    stats = spread(episodes)
    if args.json:
        print(json.dumps({"checkpoint": args.checkpoint, "against": args.against, "episodes": args.episodes,
                          "seed": args.seed, "mean": {k: v["mean"] for k, v in stats.items()},
                          "std": {k: v["std"] for k, v in stats.items()}}))
        return 0
    shown = {k: v for k, v in stats.items() if args.all or k.startswith(HEADLINE_PREFIXES)}
    rank = {p: i for i, p in enumerate(HEADLINE_PREFIXES)}
    order = sorted(shown, key=lambda k: (rank.get(k.split("/")[0] + "/", len(rank)), k))
    print(f"{args.checkpoint} against {args.against}: {args.episodes} meta-episode{'s' * (args.episodes != 1)}, "
          f"seed {args.seed}{', greedy' if args.greedy else ''}")
    rows = [[k, *(f"{shown[k][c]:.3f}" for c in ("mean", "std", "min", "max"))] for k in order]
    print(table(["metric", "mean", "std", "min", "max"], rows))
    hidden = len(stats) - len(shown)
    if hidden:
        print(f"({hidden} more metrics, e.g. the co-players' optimiser internals: --all; machines: --json)")
    return 0


def _configure(s: argparse.ArgumentParser) -> None:
    s.add_argument("checkpoint", help="a checkpoint file or a run directory")
    s.add_argument("--against", default="naive",
                   help="naive, pool, agents, or a fixed strategy name such as always_defect (default: %(default)s)")
    s.add_argument("--episodes", type=int, default=5,
                   help="evaluation meta-episodes; the table gives mean and spread over them (default: %(default)s)")
    s.add_argument("--seed", type=int, default=12345, help="seed of the evaluation (default: %(default)s)")
    s.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: %(default)s)")
    s.add_argument("--greedy", action="store_true", help="act greedily instead of sampling")
    s.add_argument("--all", action="store_true", help="also list the co-players' internals")
    s.add_argument("--json", action="store_true", help="print one JSON object (means and stds) instead of a table")


EVAL = Command("evaluate a checkpoint against a co-player pool: mean and spread of the key metrics", _run, _configure)
