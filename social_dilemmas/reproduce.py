"""Figures and tables that ``social-dilemmas reproduce NAME`` regenerates.

Each entry maps a name to ``"module:function"``; the function takes ``out_dir`` (a
``pathlib.Path``) and ``quick`` (bool: a scaled-down run for CI and laptops) and returns the
list of files it wrote. Modules are imported only when their figure is asked for, so
matplotlib stays an optional dependency.
"""

from __future__ import annotations

FIGURES: dict[str, str] = {}
