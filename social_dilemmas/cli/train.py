"""``social-dilemmas train ALGO --preset NAME [OPTIONS]``: options generated from the Args dataclass.

Every field of :class:`~social_dilemmas.baselines.args.Args` (``LolaArgs`` for ``lola-dice``)
is an option, with its type, its one-line doc and, as default, the chosen preset's value
(tyro builds the parser from the dataclass). The run starts with a header (what runs where,
how to watch it) and ends with an aligned summary; ``--json`` prints one JSON line instead.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time
from typing import Any

from social_dilemmas.cli.command import Command
from social_dilemmas.cli.report import did_you_mean, key_values, number

#: Metrics of the end-of-run summary, in this order (those the algorithm logs).
SUMMARY_KEYS = ("reward/ego", "reward/coplayer", "reward/vs_naive", "reward/vs_agents", "ipd/ego_defect_rate",
                "ipd/coplayer_defect_rate_last_episode", "game/cleaning_discrepancy", "perf/steps_per_second")

USAGE = "social-dilemmas train ALGO --preset NAME [OPTIONS]"


def _take(rest: list[str], flag: str, has_value: bool) -> tuple[str | bool | None, list[str]]:
    """Remove ``flag`` (``--flag v`` / ``--flag=v``, or a bare switch) from ``rest``."""
    out, value = [], None
    i = 0
    while i < len(rest):
        tok = rest[i]
        if has_value and tok.startswith(flag + "="):
            value = tok.split("=", 1)[1]
        elif tok == flag:
            if not has_value:
                value = True
            elif i + 1 < len(rest):
                value = rest[i + 1]
                i += 1
            else:
                raise SystemExit(f"{flag} needs a value")
        else:
            out.append(tok)
        i += 1
    return value, out


def describe_presets() -> str:
    """One line per algorithm group and one per preset: what ``train --help`` shows above the options."""
    from social_dilemmas.baselines.presets import ALGORITHMS, PRESETS, preset_names

    width = max(len(n) for n in PRESETS)
    lines = ["Train a learner from a preset. Every option below overrides one field of the preset; the defaults "
             "shown are the preset's values (pass --preset NAME with --help to see another preset's). --json "
             "prints one JSON line at the end instead of the report.", "",
             "algorithms: " + ", ".join(ALGORITHMS), "", "presets:"]
    lines += [f"  {n:<{width}}  {PRESETS[n]['description']}" for n in preset_names()]
    return "\n".join(lines)


def _resolve(rest: list[str]) -> tuple[str, str | None, list[str]]:
    from social_dilemmas.baselines.presets import ALGORITHMS, PRESETS

    algo = rest[0] if rest and not rest[0].startswith("-") else None
    rest = rest[1:] if algo is not None else list(rest)
    preset, rest = _take(rest, "--preset", True)
    wants_help = any(t in ("-h", "--help") for t in rest)
    if algo is None and not wants_help:
        raise SystemExit(f"usage: {USAGE}\nmissing ALGO: one of {', '.join(ALGORITHMS)}")
    if algo is not None and algo not in ALGORITHMS:
        raise SystemExit(f"unknown algorithm {algo!r}{did_you_mean(algo, ALGORITHMS)}; "
                         f"algorithms: {', '.join(ALGORITHMS)}")
    if preset is not None and preset not in PRESETS:
        raise SystemExit(f"unknown preset {preset!r}{did_you_mean(str(preset), PRESETS)}; "
                         f"presets: {', '.join(sorted(PRESETS))}")
    if preset is None and not wants_help:
        raise SystemExit(f"usage: {USAGE}\nmissing --preset NAME: one of {', '.join(sorted(PRESETS))} "
                         "(`social-dilemmas train --help` describes them)")
    return algo or "coala", preset, rest  # type: ignore[return-value]


def parse_train_args(rest: list[str]) -> tuple[Any, bool]:
    """``[ALGO, --preset, NAME, options...]`` -> (the run's Args, whether ``--json`` was given)."""
    import tyro

    from social_dilemmas.baselines.args import Args, LolaArgs
    from social_dilemmas.baselines.presets import preset_args

    as_json, rest = _take(list(rest), "--json", False)
    algo, preset, rest = _resolve(rest)
    if preset is not None:
        default = preset_args(preset, algo)
        prog = f"social-dilemmas train {algo} --preset {preset}"
    else:  # --help without a preset: the dataclass defaults
        default = LolaArgs() if algo == "lola-dice" else Args(algo=algo)
        prog = f"social-dilemmas train {algo} --preset NAME"
    try:
        args = tyro.cli(type(default), args=rest, default=default, prog=prog, description=describe_presets())
    except (TypeError, ValueError) as e:  # Args' own checks that tyro does not report itself
        raise SystemExit(str(e)) from None
    return args, bool(as_json)


def _threads(args: Any) -> str:
    import torch

    n = args.torch_threads
    if n is None:
        n = 1 if torch.device(args.device).type == "cpu" else 0
    return f"{n} torch thread{'s' if n != 1 else ''}" if n > 0 else f"torch's default ({torch.get_num_threads()})"


def _ranks() -> str:
    size = os.environ.get("WORLD_SIZE", "1")
    return f", {size} data-parallel ranks (torchrun)" if size not in ("", "1") else ""


def header(args: Any) -> str:
    """What runs where, and how to watch it."""
    from social_dilemmas import __version__
    from social_dilemmas.baselines.presets import PRESETS

    algo = args.algo if args.algo in ("lola-dice", "naive") else f"{args.algo} ({args.estimator} estimator, " \
                                                                   f"{args.algorithm.upper()} update)"
    pairs: list[tuple[str, object]] = [
        ("algorithm", algo),
        ("preset", f"{args.preset}: {PRESETS[args.preset]['description']}" if args.preset in PRESETS else "-"),
        ("game", f"{args.game}, {args.population_size} agent(s) x {args.meta_batch} co-players x "
                 f"{args.batch_size} games x {args.num_inner_episodes} inner episodes, p_naive {args.p_naive}"),
        ("iterations", f"{args.iterations}, seed {args.seed}"),
        ("device", f"{args.device}, {_threads(args)}{_ranks()}"),
    ]
    if args.run_dir:
        pairs.append(("run directory", f"{args.run_dir}{' (resuming)' if args.resume else ''}"))
        tb = args.tensorboard if args.tensorboard is not None else importlib.util.find_spec("tensorboard") is not None
        if tb:
            pairs.append(("TensorBoard", f"tensorboard --logdir {args.run_dir}/tb"))
    else:
        pairs.append(("run directory", "none (nothing is saved; pass --run-dir DIR)"))
    return f"social-dilemmas {__version__} train\n" + "\n".join("  " + ln for ln in key_values(pairs).splitlines())


def summary(result: Any, seconds: float) -> str:
    """The end-of-run report: how far it got, where it is saved, the headline metrics."""
    final = result.final
    pairs: list[tuple[str, object]] = [
        ("iterations done", f"{result.iterations_done}{' (interrupted)' if result.interrupted else ''}"),
        ("wall time", f"{seconds:.1f} s"),
        ("checkpoint", str(result.checkpoint) if result.checkpoint else "none"),
    ]
    pairs += [(k, number(final[k])) for k in SUMMARY_KEYS if k in final]
    text = "final iteration:\n" + "\n".join("  " + ln for ln in key_values(pairs).splitlines())
    if result.checkpoint:
        run_dir = result.args.run_dir or result.checkpoint
        text += f"\nnext: social-dilemmas eval {run_dir} --against naive"
    return text


def _run(ns: argparse.Namespace, rest: list[str]) -> int:
    from social_dilemmas.baselines import run
    from social_dilemmas.baselines.distributed import PeerFailure, exit_after_peer_failure

    args, as_json = parse_train_args(rest)
    main_rank = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 reports
    if not as_json and main_rank:
        print(header(args), flush=True)
    t0 = time.perf_counter()
    try:
        result = run(args)
    except PeerFailure as e:  # a data-parallel job lost a rank: one line, no traceback, no teardown
        exit_after_peer_failure(str(e))
    except (ValueError, TypeError, FileExistsError, FileNotFoundError, NotADirectoryError) as e:
        raise SystemExit(str(e)) from None
    if not main_rank:
        return 130 if result.interrupted else 0
    if as_json:
        print(json.dumps({"iterations_done": result.iterations_done,
                          "checkpoint": str(result.checkpoint) if result.checkpoint else None,
                          "interrupted": result.interrupted, "final": result.final}))
    else:
        print(summary(result, time.perf_counter() - t0))
    return 130 if result.interrupted else 0


TRAIN = Command(
    "train a learner from a preset (COALA-PPO, M-FOS, batch-unaware, LOLA-DiCE, naive); --help lists every option",
    _run,
    takes_rest=True,
)
