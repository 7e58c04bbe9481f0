"""Generate one documentation page per registered environment from its module docstring.

Run before ``mkdocs build`` (``make docs`` does both). The module docstring *is* the
environment's page, so the docs cannot drift from the code.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gen_results import write_pages  # noqa: E402

ROLE = re.compile(r":(?:mod|class|func|meth|data|attr):`~?([^`]+)`")


def to_markdown(doc: str) -> str:
    """Turn Sphinx roles into code spans; the rest of the docstrings is Markdown already."""
    return ROLE.sub(lambda m: f"`{m.group(1)}`", doc)


def main(out_dir: str = "docs/envs") -> int:
    import social_dilemmas
    from social_dilemmas.registration import REGISTRY

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = ["# Environments", "", "Every id below is registered when `import social_dilemmas` runs.", ""]
    index += ["| id | description |", "|---|---|"]
    for entry in REGISTRY.values():
        origin = importlib.util.find_spec(entry.module).origin  # read, don't import: no side effects
        doc = (ast.get_docstring(ast.parse(Path(origin).read_text())) or "").strip()
        if not doc:
            raise SystemExit(f"{entry.module} has no docstring: its documentation page would be empty")
        title, _, body = doc.partition("\n")
        name = entry.module.rsplit(".", 1)[1]
        page = f"# {to_markdown(title.strip())}\n{to_markdown(body)}\n"
        (out / f"{name}.md").write_text(page)
        index.append(f"| [`{entry.full_id}`]({name}.md) | {entry.description} |")
    (out / "index.md").write_text("\n".join(index) + "\n")
    print(f"wrote {len(REGISTRY) + 1} pages to {out} (social_dilemmas {social_dilemmas.__version__})")
    return write_pages(out.parent / "results")  # the results pages, from benchmarks/results/*.json


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
