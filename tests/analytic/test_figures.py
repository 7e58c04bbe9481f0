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


def test_regime_map_runs_resumes_and_refuses_other_settings(tmp_path, monkeypatch):
    from social_dilemmas.analytic import regime

    tiny = figures.Settings(seeds=2, steps=2, lr=0.03, naive_steps=2, naive_batch=2, log_every=1)
    monkeypatch.setattr(regime, "SETTINGS", {True: tiny, False: tiny})
    monkeypatch.setattr(regime, "P_NAIVE", (0.25, 0.75))
    monkeypatch.setattr(regime, "WEIGHTS", (1.0, 3.0))
    monkeypatch.setattr(regime, "TOTAL_SCALE_WEIGHTS", (1.0,))
    module, func = FIGURES["regime"].target.split(":")
    files = getattr(importlib.import_module(module), func)(tmp_path, True)
    data = json.loads((tmp_path / "analytic_regime.json").read_text())
    assert len(data["cells"]) == 2 * 2 + 2 and any(f.suffix == ".png" for f in files)
    cell = data["cells"]["per_round/p=0.75/w=3"]
    assert cell["effective_naive_weight"] == pytest.approx(2.25 / 2.5, abs=1e-4)
    assert 0 <= cell["fraction_both"] <= min(cell["fraction_cooperating"], 1)
    assert len(cell["per_seed"]["mutual_return"]) == 2
    # resume: finished cells are kept as they are, not rerun
    data["cells"]["per_round/p=0.25/w=1"]["seconds"] = -1.0
    (tmp_path / "analytic_regime.json").write_text(json.dumps(data))
    regime.regime(tmp_path, True)
    assert json.loads((tmp_path / "analytic_regime.json").read_text())["cells"]["per_round/p=0.25/w=1"]["seconds"] == -1
    monkeypatch.setattr(regime, "WEIGHTS", (1.0, 8.0))
    with pytest.raises(SystemExit, match="other settings"):
        regime.regime(tmp_path, True)


def test_effective_weight_is_what_adam_sees():
    """Equal effective naive weights give the same training run (Adam ignores the overall scale)."""
    import torch

    from social_dilemmas.analytic.regime import effective_naive_weight
    from social_dilemmas.analytic.training import train_mixed

    assert effective_naive_weight(0.1, 0.3) == pytest.approx(effective_naive_weight(0.25, 0.1))
    init = torch.randn(2, 2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    a = train_mixed(init, 0.1, 20, naive_steps=3, naive_batch=2, shaping_weight=0.3, lr=0.03)
    b = train_mixed(init, 0.25, 20, naive_steps=3, naive_batch=2, shaping_weight=0.1, lr=0.03)
    torch.testing.assert_close(a.final, b.final, rtol=0, atol=1e-6)


def test_fig4_total_writes_the_second_reading(tmp_path, monkeypatch):
    tiny = figures.Settings(seeds=2, steps=2, lr=0.03, log_every=1)
    monkeypatch.setitem(figures.SETTINGS, "fig4", {True: tiny, False: tiny})
    module, func = FIGURES["fig4-total"].target.split(":")
    (path,) = getattr(importlib.import_module(module), func)(tmp_path, True)
    data = json.loads(path.read_text())
    assert data["return_scale"] == "total" and set(data["lola_partial_final_mutual_return"]) == {"1", "2", "3", "10",
                                                                                                 "20"}
