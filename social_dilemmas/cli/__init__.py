"""The ``social-dilemmas`` command: one sub-command per module, dispatched from :data:`COMMANDS`.

A sub-command is a :class:`Command` (its one-line help, a function that adds its arguments to
an ``argparse`` parser, and the function that runs it). To add one, put a ``Command`` in a
module and name it in :data:`COMMANDS`; modules are imported only when the parser is built.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from social_dilemmas.cli.command import Command
from social_dilemmas.cli.report import did_you_mean

__all__ = ["COMMANDS", "Command", "build_parser", "load_command", "main"]


#: Sub-command name -> ``"module:attribute"`` of its :class:`Command`, in ``--help`` order.
COMMANDS: dict[str, str] = {
    "list": "social_dilemmas.cli.basic:LIST",
    "demo": "social_dilemmas.cli.basic:DEMO",
    "bench": "social_dilemmas.cli.basic:BENCH",
    "train": "social_dilemmas.cli.train:TRAIN",
    "eval": "social_dilemmas.cli.evaluate:EVAL",
    "reproduce": "social_dilemmas.cli.reproduce:REPRODUCE",
    "benchmark": "social_dilemmas.benchmark.cli:BENCHMARK",
}


def load_command(name: str) -> Command:
    """The :class:`Command` registered as ``name`` in :data:`COMMANDS`."""
    module, _, attr = COMMANDS[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def _version() -> str:
    from social_dilemmas import __version__

    return f"social-dilemmas {__version__}"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``social-dilemmas`` command."""
    p = argparse.ArgumentParser(
        prog="social-dilemmas",
        description="Batched social dilemmas: list the environments, benchmark them, train and evaluate learners, "
        "regenerate the paper's figures. `social-dilemmas COMMAND --help` documents each command.",
    )
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("--malloc", choices=("keep", "default"), default="keep",
                   help="keep (default): let this process reuse freed memory instead of returning it to the OS "
                        "(glibc only; about 8%% faster training on a CPU, see social_dilemmas.core.memory); "
                        "default: the C library's own settings")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        cmd = load_command(name)
        s = sub.add_parser(name, help=cmd.help, description=cmd.description or cmd.help, add_help=not cmd.takes_rest,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.configure(s)
        s.set_defaults(_command=cmd)
    return p


def _check_command_name(argv: Sequence[str]) -> None:
    """Exit with a "did you mean" for an unknown sub-command (argparse only lists the choices)."""
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok == "--malloc":
            i += 2
            continue
        if tok.startswith("-"):
            i += 1
            continue
        if tok not in COMMANDS:
            raise SystemExit(f"social-dilemmas: unknown command {tok!r}{did_you_mean(tok, COMMANDS)}; "
                             f"commands: {', '.join(COMMANDS)}")
        return


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``social-dilemmas`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _check_command_name(argv)
    args, rest = build_parser().parse_known_args(argv)
    if args.malloc == "keep":  # the command owns its process, so a process-wide allocator option is fine here
        from social_dilemmas.core.memory import keep_freed_memory

        keep_freed_memory()
    cmd: Command = args._command
    if rest and not cmd.takes_rest:
        raise SystemExit(f"social-dilemmas {args.command}: unrecognized arguments: {' '.join(rest)}")
    return int(cmd.run(args, rest) or 0)
