"""The examples page: every script under ``examples/`` with its docstring and its code."""

from __future__ import annotations

import ast
from pathlib import Path

from docgen.common import NavEntry, to_markdown, write_if_changed


def generate(docs_dir: Path) -> NavEntry:
    """Write ``examples.md`` from ``<repo>/examples/*.py``; return the nav entry."""
    from social_dilemmas.reproduce import source_root

    root = source_root() or Path(__file__).resolve().parents[2]
    scripts = sorted((root / "examples").glob("*.py"))
    lines = ["# Examples", "", "Runnable scripts in the repository's `examples/` folder (each one runs in the test "
             "suite at a reduced size). Run them from a clone, e.g. `python examples/sb3_ppo_ipd.py`.", ""]
    for path in scripts:
        source = path.read_text()
        doc = ast.get_docstring(ast.parse(source)) or ""
        title, _, body = doc.partition("\n")
        lines += [f"## `{path.name}`", "", f"**{to_markdown(title.strip())}**", "", to_markdown(body.strip()), "",
                  '??? example "The whole script"', "", "    ```python"]
        lines += [("    " + ln).rstrip() for ln in source.rstrip().splitlines()]
        lines += ["    ```", ""]
    write_if_changed(docs_dir / "examples.md", "\n".join(lines) + "\n")
    return {"Examples": "examples.md"}
