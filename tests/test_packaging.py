"""What a newcomer looks for first: the license, how to cite, the version."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import social_dilemmas

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_license_file_matches_pyproject():
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["license"]["text"] == "Apache-2.0"
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_citation_file_and_readme_bibtex():
    import yaml

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert cff["version"] == PYPROJECT["version"] == social_dilemmas.__version__
    assert cff["license"] == PYPROJECT["license"]["text"]
    assert "2410.18636" in cff["preferred-citation"]["url"]
    readme = (ROOT / "README.md").read_text()
    bib = re.search(r"```bibtex\n(.*?)```", readme, re.S)
    assert bib and "@inproceedings{" in bib.group(1) and f"version = {{{PYPROJECT['version']}}}" in bib.group(1)
