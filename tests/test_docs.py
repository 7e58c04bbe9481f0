"""The documentation site builds without warnings, with one page per registered env."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from social_dilemmas.registration import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


def test_env_pages_are_generated_from_docstrings(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "docs" / "gen_pages.py"), str(tmp_path)], check=True, cwd=ROOT)
    for entry in REGISTRY.values():
        page = tmp_path / f"{entry.module.rsplit('.', 1)[1]}.md"
        assert page.exists(), page
        assert "Version history" in page.read_text(), f"{page.name} lacks a version history"
    index = (tmp_path / "index.md").read_text()
    assert all(e.full_id in index for e in REGISTRY.values())


@pytest.mark.parametrize("module", sorted({e.module for e in REGISTRY.values()}))
def test_env_page_examples_run(module):
    """Every ```python block of an env's doc page (its module docstring) runs as written."""
    doc = importlib.import_module(module).__doc__ or ""
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert blocks, f"{module} has no example"
    for block in blocks:
        exec(compile(block, f"<{module} docstring>", "exec"), {})


def test_site_builds_strict(tmp_path):
    pytest.importorskip("mkdocs")
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", work / "docs", ignore=shutil.ignore_patterns("envs"))
    shutil.copy(ROOT / "mkdocs.yml", work / "mkdocs.yml")
    subprocess.run([sys.executable, str(work / "docs" / "gen_pages.py"), str(work / "docs" / "envs")], check=True,
                   cwd=ROOT)
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                       cwd=work, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
