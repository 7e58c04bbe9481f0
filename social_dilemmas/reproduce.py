"""Figures that ``social-dilemmas reproduce NAME`` regenerates, and where they may be written.

Each :class:`Figure` names ``"module:function"``; the function takes ``out_dir`` (a
``pathlib.Path``) and ``quick`` (bool: a scaled-down run for CI and laptops) and returns the
list of files it wrote. Modules are imported only when their figure is asked for, so
matplotlib stays an optional dependency.

Outputs go to a directory the user picks (default ``./reproduced/NAME``). The figures that
the documentation shows are rewritten only on request (``--docs``): :func:`check_out_dir`
refuses any other path inside the source tree's ``docs/`` or the package itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One reproducible figure: what computes it and how long that takes on a 2-core CPU."""

    target: str
    """``"module:function"`` that writes the figure"""
    about: str
    """one line: what the figure shows and which docs page discusses it"""
    quick_time: str
    """expected run time with ``--quick``"""
    full_time: str
    """expected run time at the paper's settings"""


FIGURES: dict[str, Figure] = {
    # Exact (analytic) IPD, docs/analytic.md.
    "fig3a": Figure("social_dilemmas.analytic.figures:fig3a", "exact IPD: shaping naive learners, also Fig. 8 and 9",
                    "~1 min", "~10 min"),
    "fig3b": Figure("social_dilemmas.analytic.figures:fig3b", "exact IPD: two extortion policies shaping each other",
                    "~1 min", "~3 min"),
    "fig3c": Figure("social_dilemmas.analytic.figures:fig3c", "exact IPD: meta agents playing each other vs p_naive",
                    "~1 min", "~30 min"),
    "fig4": Figure("social_dilemmas.analytic.figures:fig4", "exact IPD: LOLA pairs and LOLA against naive learners",
                   "~1 min", "~6 min"),
    "fig4-total": Figure("social_dilemmas.analytic.readings:fig4_total",
                         "exact IPD: Fig. 4 with the naive steps on J (the second scale reading)", "~1 min", "~6 min"),
    "regime": Figure("social_dilemmas.analytic.regime:regime",
                     "exact IPD: mixed groups over p_naive x naive-term weight (regime map; resumable)",
                     "~2 min", "~25 min"),
    # RL with the paper's network (COALA-PPO and baselines), docs/coala.md.
    "fig5a": Figure("social_dilemmas.baselines.figures:fig5a", "IPD RL, pure shaping: 4 learners x 3 seeds",
                    "~16 min", "days (GPU advised)"),
    "fig5c": Figure("social_dilemmas.baselines.figures:fig5c", "IPD RL, mixed pool: 4 learners x 2 seeds",
                    "~1 h", "days (GPU advised)"),
    "fig6": Figure("social_dilemmas.baselines.figures:fig6", "CleanUp-lite RL, pure shaping: 3 learners x 2 seeds",
                   "~4 min", "days (GPU advised)"),
}


def source_root() -> Path | None:
    """The checkout the package runs from (a folder with ``docs/`` beside the package), else None."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "docs").is_dir() and (root / "pyproject.toml").is_file() else None


def check_out_dir(out_dir: str | Path) -> Path:
    """``out_dir`` resolved; ``ValueError`` if it lies in the package or in the source tree's docs/,
    ``NotADirectoryError`` if it is a file."""
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise NotADirectoryError(f"--out {out_dir} is a file; give a directory (it is created when missing)")
    out = Path(out_dir).resolve()
    guarded = [Path(__file__).resolve().parent]
    root = source_root()
    if root is not None:
        guarded.append(root / "docs")
    for g in guarded:
        if out == g or g in out.parents:
            raise ValueError(f"--out {out_dir} lies inside {g}: the figures there are the documented ones; "
                             "pick another directory, or rewrite the documented figures with --docs")
    return out
