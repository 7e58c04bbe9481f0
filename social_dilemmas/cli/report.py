"""Plain-text reports of the command line: aligned tables, numbers, "did you mean" hints."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices`` (``""`` when none is close)."""
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    if not close:
        return ""
    return "; did you mean " + ", ".join(repr(c) for c in close) + "?"


def number(x: float, digits: int = 4) -> str:
    """A float in at most ``digits`` significant digits (ints stay ints, NaN as "-")."""
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int):
        return str(x)
    if x is None or not math.isfinite(float(x)):
        return "-"
    return f"{float(x):.{digits}g}"


def table(header: Sequence[str], rows: Sequence[Sequence[object]], *, right: Sequence[bool] | None = None) -> str:
    """An aligned text table: a header, a rule, one line per row (numbers right-aligned by default)."""
    cells = [[str(c) for c in header]] + [[c if isinstance(c, str) else number(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    if right is None:
        right = [i > 0 for i in range(len(header))]
    lines = []
    for k, r in enumerate(cells):
        parts = [c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(parts).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def key_values(pairs: Sequence[tuple[str, object]]) -> str:
    """``key  value`` lines with the keys padded to one width."""
    width = max((len(k) for k, _ in pairs), default=0)
    return "\n".join(f"{k:<{width}}  {v if isinstance(v, str) else number(v)}" for k, v in pairs)
