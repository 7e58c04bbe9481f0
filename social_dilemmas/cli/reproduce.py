"""``social-dilemmas reproduce NAME``: regenerate a figure of the paper into a directory of your choice."""

from __future__ import annotations

import argparse
import importlib
import shutil
import time
from pathlib import Path

from social_dilemmas.cli.command import Command
from social_dilemmas.cli.report import did_you_mean, table


def figure_table() -> str:
    """The figures with what they show and their expected run times (for ``--help``)."""
    from social_dilemmas.reproduce import FIGURES

    rows = [[name, f.quick_time, f.full_time, f.about] for name, f in FIGURES.items()]
    return table(["figure", "--quick", "full", "what"], rows, right=[False] * 4)


def _docs_copy(analytic: bool, files: list[Path], root: Path) -> list[Path]:
    """Put a figure's files where the docs read them: exact-IPD PNGs that docs/figures holds go back there,
    everything else to benchmarks/results (RL files get the ``training_`` prefix the docs use)."""
    out = []
    for f in files:
        if analytic and f.suffix == ".png" and (root / "docs" / "figures" / f.name).exists():
            dest = root / "docs" / "figures" / f.name
        else:
            dest = root / "benchmarks" / "results" / (f.name if analytic else f"training_{f.name}")
        shutil.copyfile(f, dest)
        out.append(dest)
    return out


def _run(args: argparse.Namespace, rest: list[str]) -> int:
    from social_dilemmas.reproduce import FIGURES, check_out_dir, source_root

    if args.figure is None:
        print(figure_table())
        return 0
    if args.figure not in FIGURES:
        raise SystemExit(f"unknown figure {args.figure!r}{did_you_mean(args.figure, FIGURES)}; "
                         f"figures: {', '.join(FIGURES)}")
    fig = FIGURES[args.figure]
    root = source_root()
    if args.docs:
        if root is None:
            raise SystemExit("--docs rewrites the documented figures of a source checkout; this install has none")
        if args.quick and fig.target.startswith("social_dilemmas.analytic"):
            raise SystemExit("--docs --quick: the documented exact-IPD figures are full-setting runs; drop --quick")
        if args.out is not None:
            raise SystemExit("--docs writes where the docs read the figures; it takes no --out")
        out = root / "build" / "reproduce" / args.figure
    else:
        default = Path("reproduced") / f"{args.figure}{'-quick' if args.quick else ''}"
        try:
            out = check_out_dir(args.out if args.out is not None else default)
        except (ValueError, NotADirectoryError) as e:
            raise SystemExit(str(e)) from None
    scale = "quick (scaled down)" if args.quick else "the paper's settings"
    print(f"{args.figure}: {fig.about}; {scale}, expected {fig.quick_time if args.quick else fig.full_time} "
          f"on a 2-core CPU; writing to {out}", flush=True)
    mod, _, fn = fig.target.partition(":")
    t0 = time.perf_counter()
    files = getattr(importlib.import_module(mod), fn)(out, args.quick)
    if args.docs:
        files = _docs_copy(fig.target.startswith("social_dilemmas.analytic"), files, root)  # type: ignore[arg-type]
    for f in files:
        print(f)
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


def _configure(s: argparse.ArgumentParser) -> None:
    s.add_argument("figure", nargs="?", help="a figure name (see the table above); none: print the table")
    s.add_argument("--out", default=None, help="output directory (default: ./reproduced/FIGURE[-quick])")
    s.add_argument("--quick", action="store_true", help="scaled-down run; its plots say 'quick' in their titles")
    s.add_argument("--docs", action="store_true",
                   help="maintainers: rewrite the figures the documentation shows (source checkout only)")


def _description() -> str:
    return ("Regenerate a figure of the paper. Expected run times on a 2-core CPU:\n\n" + figure_table()
            + "\n\nOutputs go to --out (default ./reproduced/FIGURE); the documented figures change only with --docs.")




REPRODUCE = Command("regenerate a figure of the paper (--help lists them with their run times)", _run, _configure,
                    description=_description())
