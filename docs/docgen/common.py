"""Helpers shared by the page generators: Sphinx roles to Markdown, writes that keep unchanged files."""

from __future__ import annotations

import re
from pathlib import Path

ROLE = re.compile(r":(?:mod|class|func|meth|data|attr):`~?([^`]+)`")

#: a nav entry as mkdocs.yml writes it: ``{"title": "page.md"}`` or ``{"title": [entries...]}``
NavEntry = dict


def to_markdown(doc: str) -> str:
    """Turn Sphinx roles into code spans; the rest of the docstrings is Markdown already."""
    return ROLE.sub(lambda m: f"`{m.group(1)}`", doc)


def write_if_changed(path: Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` unless it already holds exactly that (so ``mkdocs serve`` does not loop)."""
    raw = data.encode() if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_bytes() != raw:
        path.write_bytes(raw)
    return path
