"""The documentation site builds without warnings, with one page per registered env."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from social_dilemmas.registration import REGISTRY

ROOT = Path(__file__).resolve().parents[1]


GAMES = [e for e in REGISTRY.values() if getattr(e, "kind", "game") == "game"]


def _page_name(entry) -> str:
    return entry.module.rsplit(".", 1)[1]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated pages, written by ``docs/gen_pages.py DIR`` (what the build's hook runs)."""
    out = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, str(ROOT / "docs" / "gen_pages.py"), str(out)], check=True, cwd=ROOT)
    return out


def test_env_pages_are_generated_from_docstrings(generated):
    tmp_path = generated
    for entry in GAMES:
        page = (tmp_path / "envs" / f"{_page_name(entry)}.md").read_text()
        assert "## Version history\n\n| version | change |" in page, f"{entry.id} lacks a version-history table"
        assert "| `v0` |" in page
        args = page.split("## Arguments", 1)[1].split("## Version history", 1)[0]
        # every registry default appears in the arguments table with its value
        for key, value in entry.kwargs.items():
            if key != "name":
                assert f"| `{key}` | `{value!r}` |" in args, (entry.id, key)
        images = re.findall(r"!\[[^\]]*\]\((img/[^)]+)\)", page)
        assert images and all((tmp_path / "envs" / i).stat().st_size > 0 for i in images), entry.id
    index = (tmp_path / "envs" / "index.md").read_text()
    assert all(e.full_id in index for e in GAMES)
    assert (tmp_path / "api" / "index.md").exists() and (tmp_path / "examples.md").exists()


def test_gridworld_pages_show_an_animation_with_a_legend(generated):
    from PIL import Image

    tmp_path = generated

    for name in ("cleanup_lite_v0", "coin_game_v0"):
        gif = Image.open(tmp_path / "envs" / "img" / f"{name}.gif")
        assert gif.n_frames > 5
        assert "player_0" in (tmp_path / "envs" / f"{name}.md").read_text().split("## Arguments")[0]


@pytest.mark.parametrize("module", sorted({e.module for e in REGISTRY.values()}))
def test_env_page_examples_run(module):
    """Every ```python block of an env's doc page (its module docstring) runs as written."""
    doc = importlib.import_module(module).__doc__ or ""
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert blocks, f"{module} has no example"
    for block in blocks:
        exec(compile(block, f"<{module} docstring>", "exec"), {})


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built once, strict, from a copy of docs/ and mkdocs.yml (generated pages made by the build)."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    pytest.importorskip("mkdocstrings")
    tmp = tmp_path_factory.mktemp("docs")
    work = tmp / "repo"
    shutil.copytree(ROOT / "docs", work / "docs",
                    ignore=shutil.ignore_patterns("envs", "api", "examples.md", "generated", "__pycache__"))
    shutil.copy(ROOT / "mkdocs.yml", work / "mkdocs.yml")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp / "site")],
                       cwd=work, capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    warnings = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.startswith("WARNING")]
    assert not warnings, warnings
    return tmp / "site"


def test_site_builds_strict(site):
    assert (site / "index.html").exists()


@pytest.mark.parametrize("entry", GAMES, ids=lambda e: e.id)
def test_each_env_page_shows_an_image_the_build_produced(site, entry):
    page = site / "envs" / _page_name(entry) / "index.html"
    html = page.read_text()
    sources = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert sources, f"{entry.id}: no picture"
    for src in sources:
        assert (page.parent / src).resolve().is_file(), f"{entry.id}: {src} was not produced"


def test_navigation_lists_every_env_page_the_meta_env_and_the_api(site):
    html = (site / "index.html").read_text()
    for entry in GAMES:
        assert f'href="envs/{_page_name(entry)}/"' in html, entry.id
    assert 'href="envs/shaping_v0/"' in html and 'href="api/social_dilemmas_wrappers/"' in html


def test_api_reference_documents_the_public_modules(site):
    html = (site / "api" / "social_dilemmas_wrappers" / "index.html").read_text()
    assert "ShapingMetaEnv" in html and "doc-class" in html
    assert "preset_args" in (site / "api" / "social_dilemmas_baselines" / "index.html").read_text()


def test_site_needs_no_network(site):
    """No page loads a script, stylesheet or font from another host (highlighting is done at build time)."""
    for page in site.rglob("*.html"):
        external = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(https?://[^"]+)"', page.read_text())
        assert not external, (page, external)
    assert "highlight" in (site / "quickstart" / "index.html").read_text()
