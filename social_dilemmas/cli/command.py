"""What a sub-command of ``social-dilemmas`` is (:class:`Command`)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Command:
    """One sub-command of ``social-dilemmas``.

    Attributes:
        help: the line shown by ``social-dilemmas --help``.
        run: ``run(args, rest) -> exit code``; ``rest`` holds the arguments argparse left over
            (always empty unless ``takes_rest``).
        configure: adds the command's arguments to its parser.
        takes_rest: the command parses its own options (``rest``), including ``--help``.
        description: longer text for ``social-dilemmas NAME --help`` (default: ``help``).
    """

    help: str
    run: Callable[[argparse.Namespace, list[str]], int]
    configure: Callable[[argparse.ArgumentParser], None] = field(default=lambda p: None)
    takes_rest: bool = False
    description: str | None = None
