"""The tutorial docs/benchmark.md runs as written: reduced in the default suite, at full size with ``-m slow``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmark.md"
FULL = {"TIMESTEPS": "20_000", "META_EPISODES": "20", "SEEDS": "8"}
REDUCED = {"TIMESTEPS": "256", "META_EPISODES": "1", "SEEDS": "2"}


def _code(sizes: dict[str, str]) -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    code = "\n".join(blocks)
    for name, full in FULL.items():
        line = f"{name} = {full}"
        assert line in code, f"the tutorial no longer sets {line}"
        code = code.replace(line, f"{name} = {sizes[name]}")
    return code


def _run(sizes: dict[str, str], tmp_path, monkeypatch) -> dict:
    pytest.importorskip("sb3_contrib")
    from social_dilemmas.benchmark import reference_names

    if not reference_names():
        pytest.skip("no reference agents installed (make references)")
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    exec(compile(_code(sizes), str(DOC), "exec"), ns)
    return ns


def test_tutorial_runs_reduced(tmp_path, monkeypatch, capsys):
    ns = _run(REDUCED, tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert "ppo-single-agent" in out and "recurrent-ppo-shaping" in out and "coala-ppo" in out
    assert (tmp_path / "bench-ppo" / "result.json").exists() and (tmp_path / "bench-ppo" / "league.png").exists()
    assert ns["league"].mass.sum() == pytest.approx(1.0)
    mine = ns["MyPolicy"]()
    from social_dilemmas.benchmark import evaluate

    r = evaluate(mine, "ipd/zoo-v0", seeds=2)["ipd/zoo-v0"]  # the hand-written TFT of the tutorial
    assert r.estimate("cooperation", "always_cooperate").mean == 1.0


@pytest.mark.slow
def test_tutorial_runs_at_full_size(tmp_path, monkeypatch):
    ns = _run(FULL, tmp_path, monkeypatch)
    # PPO trained against tit-for-tat learns to cooperate with it
    zoo = ns["ppo_result"]["ipd/zoo-v0"]
    assert zoo.estimate("reward", "tit_for_tat").mean > 0.8
