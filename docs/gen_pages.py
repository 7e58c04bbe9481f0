"""Generate the documentation's generated pages; also the MkDocs hook that runs it on every build.

``mkdocs build`` (``make docs``) calls :func:`on_config` (``hooks:`` in ``mkdocs.yml``), which runs
every generator of :data:`GENERATORS` into the docs folder and puts the pages they return in
the navigation: a nav entry whose title a generator returns is replaced by the generator's
entry. ``python docs/gen_pages.py [DOCS_DIR]`` runs the same generators by hand.

A generator is ``generate(docs_dir: Path) -> nav entry | None`` in a module of ``docs/docgen``;
to add one, append ``"docgen.module"`` to :data:`GENERATORS`. Generated files are listed in
``.gitignore``; files whose content did not change are not rewritten (``mkdocs serve`` does not loop).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

#: modules whose ``generate(docs_dir)`` runs at every build, in this order
GENERATORS: list[str] = [
    "docgen.env_pages",  # envs/: one page (picture, arguments, version history) per registered id
    "docgen.api_pages",  # api/: the API reference (mkdocstrings)
    "docgen.examples_page",  # examples.md
    "docgen.results_pages",  # results/: the results pages from the recorded JSONs (docs/gen_results.py)
    "docgen.result_figures",  # figures/generated/: plots of the recorded RL experiments
]


def generate_all(docs_dir: str | Path = HERE) -> dict[str, Any]:
    """Run every generator into ``docs_dir``; the nav entries they return, by title."""
    docs_dir = Path(docs_dir)
    if str(HERE) not in sys.path:  # docgen lives beside this file (MkDocs restores sys.path after loading hooks)
        sys.path.insert(0, str(HERE))
    entries: dict[str, Any] = {}
    for name in GENERATORS:
        entry = importlib.import_module(name).generate(docs_dir)
        if entry:
            entries.update(entry)
    return entries


def splice_nav(nav: list[Any], entries: dict[str, Any]) -> list[Any]:
    """``nav`` with each ``{title: ...}`` item whose title is in ``entries`` replaced by the generated one."""
    out = []
    for item in nav:
        if isinstance(item, dict) and len(item) == 1:
            (title, value), = item.items()
            if title in entries:
                item = {title: entries[title]}
            elif isinstance(value, list):
                item = {title: splice_nav(value, entries)}
        out.append(item)
    return out


def on_config(config: Any) -> Any:
    """MkDocs hook: generate the pages before MkDocs collects the files, and fill in the nav."""
    entries = generate_all(config["docs_dir"])
    if config.get("nav"):
        config["nav"] = splice_nav(config["nav"], entries)
    return config


def main(docs_dir: str = str(HERE)) -> int:
    import social_dilemmas

    entries = generate_all(docs_dir)
    print(f"generated {', '.join(entries) or 'pages'} in {docs_dir} (social_dilemmas {social_dilemmas.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
