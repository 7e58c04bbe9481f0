"""The results pages (``docs/gen_results.py``), generated from ``benchmarks/results/*.json``."""

from __future__ import annotations

from pathlib import Path

from docgen.common import NavEntry


def generate(docs_dir: Path) -> NavEntry | None:
    """Write ``results/`` (its nav entry is static in ``mkdocs.yml``)."""
    import gen_results

    from social_dilemmas.reproduce import source_root

    root = source_root() or Path(__file__).resolve().parents[2]
    gen_results.write_pages(docs_dir / "results", root / "benchmarks" / "results")
    return None
