"""The figure functions are registered and write what they promise (tiny settings, seconds)."""

from __future__ import annotations

import importlib
import json

import pytest

from social_dilemmas.analytic import figures
from social_dilemmas.reproduce import FIGURES

pytest.importorskip("matplotlib")


@pytest.mark.parametrize("name", ["fig3a", "fig3b", "fig3c", "fig4"])
def test_figure_is_registered_and_writes_its_files(name, tmp_path, monkeypatch):
    module, func = FIGURES[name].target.split(":")
    fn = getattr(importlib.import_module(module), func)
    tiny = figures.Settings(seeds=2, steps=2, lr=0.03, naive_steps=2, naive_batch=2, log_every=1)
    monkeypatch.setitem(figures.SETTINGS, name, {True: tiny, False: tiny})
    files = fn(tmp_path, True)
    assert files and all(f.exists() and f.stat().st_size > 0 for f in files)
    pngs = [f for f in files if f.suffix == ".png"]
    assert pngs and all(f.stat().st_size < 300_000 for f in pngs)
    summary = json.loads(next(f for f in files if f.suffix == ".json").read_text())
    assert summary["quick"] is True and summary["settings"]["seeds"] == 2
