"""The project stands alone: no shipped file cites a document that is not in the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: what a citation of an outside working document looks like (built from parts so this file does not match itself)
FORBIDDEN = [
    re.compile(r"paper" + r"\.md", re.I),
    re.compile(r"\bthe " + r"brief\b|\bbrief" + r"'s\b", re.I),
    re.compile(r"\bthe " + r"issue\b|\bissue" + r"'s\b|\bissue " + r"#?\d", re.I),
    re.compile(r"\bthe " + r"task (says|asks|requires)", re.I),
    re.compile(r"shared" + r"/spec|\.\./" + r"shared\b", re.I),
]
#: shipped text: the package, docs, README, benchmarks, examples, tests, the build files
SHIPPED = re.compile(r"^(social_dilemmas|docs|benchmarks|examples|tests|scripts)/.*\.(py|md|yml|yaml|toml|sh|txt)$"
                     r"|^(README\.md|mkdocs\.yml|pyproject\.toml|Makefile|CITATION\.cff)$")


def _shipped_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = [ROOT / f for f in out.splitlines() if SHIPPED.match(f)]
    return [f for f in files if f.exists() and f.resolve() != Path(__file__).resolve()]


def test_no_shipped_file_cites_an_outside_document():
    found = []
    for path in _shipped_files():
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if any(p.search(line) for p in FORBIDDEN):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not found, "cite the paper (section, equation, table) or our own docs instead:\n" + "\n".join(found)


@pytest.mark.parametrize("line", ["see paper" + ".md §2", "as the " + "brief says", "per the " + "issue",
                                  "targets of issue" + " 3", "from ../" + "shared/spec"])
def test_the_check_catches_each_kind_of_reference(line):
    assert any(p.search(line) for p in FORBIDDEN)
