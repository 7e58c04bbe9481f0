"""``social-dilemmas benchmark POLICY --suite ipd [--seeds N] [--out DIR] [--json] [--league]``."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import Any

from social_dilemmas.cli.command import Command

__all__ = ["BENCHMARK", "configure", "run_benchmark"]

HELP = "score a policy on a scenario suite against the shipped reference agents (95% bootstrap CIs)"
DESCRIPTION = """Score POLICY on the scenarios of a suite and print it next to every shipped reference agent.

POLICY is a shipped reference agent (coala-ppo, mfos, batch-unaware, naive-baseline), a checkpoint
or run directory of `social-dilemmas train`, a saved Stable-Baselines3 model (.zip), or a fixed
strategy name (tit_for_tat, always_defect, zd_extort_3, ...). Suites: ipd, coingame, cleanup,
axelrod (needs the axelrod extra), a scenario id (ipd/zoo-v0) or a comma-separated list."""


def configure(s: argparse.ArgumentParser) -> None:
    """Add the ``benchmark`` command's arguments to its parser."""
    s.add_argument("policy", nargs="?", help="what to score (see above); omit with --list")
    s.add_argument("--suite", default="ipd", help="suite name, scenario id or comma-separated list (default: ipd)")
    s.add_argument("--seeds", type=int, default=None, help="replicates per opponent (default: each scenario's)")
    s.add_argument("--seed", type=int, default=0, help="base seed (another one gives fresh replicates)")
    s.add_argument("--out", default=None, help="write result.json, report.md and scores.png here")
    s.add_argument("--overwrite", action="store_true", help="replace files already in --out")
    s.add_argument("--json", action="store_true", help="print the result as JSON instead of the table")
    s.add_argument("--league", action="store_true",
                   help="also play a round-robin league with the reference agents and the IPD zoo (alpha-Rank)")
    s.add_argument("--no-references", action="store_true", help="do not show the reference agents' columns")
    s.add_argument("--resets-at-inner-boundary", action="store_true",
                   help="the policy's memory covers one inner episode (e.g. trained on the single-agent view)")
    s.add_argument("--device", default="cpu")
    s.add_argument("--list", action="store_true", help="list the scenarios and suites, then exit")


def _list() -> int:
    from social_dilemmas.benchmark.scenarios import SCENARIOS, SUITES

    width = max(len(k) for k in SCENARIOS)
    for sid, sc in sorted(SCENARIOS.items()):
        print(f"{sid:<{width}}  {sc.description}")
    print()
    for name, ids in SUITES.items():
        print(f"suite {name}: {', '.join(ids)}")
    return 0


def _resolve(args: argparse.Namespace) -> Any:
    from social_dilemmas.benchmark.resolve import as_policy

    kwargs = {}
    if args.resets_at_inner_boundary:
        if not str(args.policy).endswith(".zip"):
            raise SystemExit("--resets-at-inner-boundary applies to Stable-Baselines3 models (.zip)")
        kwargs["resets_at_inner_boundary"] = True
    return as_policy(args.policy, **kwargs)


def run_benchmark(args: argparse.Namespace, rest: list[str] | None = None) -> int:
    """The ``benchmark`` command (errors become a one-line message and exit status 2)."""
    from social_dilemmas.benchmark.policy import PolicyError
    from social_dilemmas.benchmark.references import reference_results
    from social_dilemmas.benchmark.scoring import evaluate

    if args.list:
        return _list()
    if not args.policy:
        raise SystemExit("social-dilemmas benchmark: give a POLICY to score (or --list)")
    if args.seeds is not None and args.seeds < 1:
        raise SystemExit(f"--seeds must be a positive integer, got {args.seeds}")
    out = Path(args.out) if args.out else None
    if out is not None and not args.overwrite:
        clash = [p for p in ("result.json", "report.md", "scores.png", "league.json", "league.png")
                 if (out / p).exists()]
        if clash:
            raise SystemExit(f"--out {out} already holds {', '.join(clash)}; pass --overwrite or choose another --out")
    try:
        policy = _resolve(args)
        progress = None if args.json else (lambda sid, s: print(f"  {sid}: {s:.1f} s", file=sys.stderr, flush=True))
        result = evaluate(policy, args.suite, seeds=args.seeds, seed=args.seed, device=args.device,
                          progress=progress)
        refs = {} if args.no_references else reference_results(args.suite)
        league = _league(policy, args) if args.league else None
    except (ValueError, TypeError, FileNotFoundError, ImportError, PolicyError) as e:
        raise SystemExit(f"social-dilemmas benchmark: {e}") from None
    if args.json:
        doc = result.as_dict()
        if league is not None:
            doc["league"] = league.as_dict()
        print(json.dumps(doc))
    else:
        print(result.table(refs))
        if league is not None:
            print("\nleague (round robin, ranked by alpha-Rank):")
            print(league.table())
    if out is not None:
        files = result.save(out, refs, overwrite=args.overwrite)
        if league is not None:
            (out / "league.json").write_text(json.dumps(league.as_dict(), indent=2) + "\n")
            files += [out / "league.json"]
            with contextlib.suppress(ImportError):
                files.append(league.plot(out / "league.png"))
        if not args.json:
            print("wrote " + ", ".join(str(f) for f in files))
    return 0


def _league(policy: Any, args: argparse.Namespace) -> Any:
    from social_dilemmas.benchmark.league import play_league
    from social_dilemmas.benchmark.references import load_reference, reference_names
    from social_dilemmas.benchmark.scenarios import resolve_suite
    from social_dilemmas.benchmark.zoo import ipd_zoo

    if any(s.game != "IPD-v0" for s in resolve_suite(args.suite)):
        raise ValueError("--league is available for IPD suites (the reference agents and the zoo play the IPD)")
    members: dict[str, Any] = {getattr(policy, "name", "policy"): policy}
    for name in reference_names():
        members.setdefault(name, load_reference(name))
    from social_dilemmas.benchmark.policy import CoPlayerPolicy

    for name, cp in ipd_zoo().items():
        members.setdefault(name, CoPlayerPolicy(cp, name=name))
    return play_league(members, seeds=args.seeds or 8, seed=args.seed, device=args.device)


#: The ``benchmark`` sub-command (registered in :data:`social_dilemmas.cli.COMMANDS`).
BENCHMARK = Command(help=HELP, run=run_benchmark, configure=configure, description=DESCRIPTION)
