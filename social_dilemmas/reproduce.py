"""Figures and tables that ``social-dilemmas reproduce NAME`` regenerates.

Each entry maps a name to ``"module:function"``; the function takes ``out_dir`` (a
``pathlib.Path``) and ``quick`` (bool: a scaled-down run for CI and laptops) and returns the
list of files it wrote. Modules are imported only when their figure is asked for, so
matplotlib stays an optional dependency.
"""

from __future__ import annotations

FIGURES: dict[str, str] = {
    # Exact (analytic) IPD, docs/analytic.md.
    "fig3a": "social_dilemmas.analytic.figures:fig3a",
    "fig3b": "social_dilemmas.analytic.figures:fig3b",
    "fig3c": "social_dilemmas.analytic.figures:fig3c",
    "fig4": "social_dilemmas.analytic.figures:fig4",
    # RL with the paper's network (COALA-PPO and baselines), docs/coala.md.
    "fig5a": "social_dilemmas.baselines.figures:fig5a",
    "fig5c": "social_dilemmas.baselines.figures:fig5c",
    "fig6": "social_dilemmas.baselines.figures:fig6",
}
