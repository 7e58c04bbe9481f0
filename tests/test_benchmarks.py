"""The benchmark scripts run at a tiny scale and report a consistent split (their figures are not asserted)."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("ego", ["random", "hawk"])
def test_meta_env_benchmark_reports_every_phase(ego, tmp_path):
    bench = load("bench_meta_env")
    out = bench.main(["--meta-batch", "3", "--batch-size", "2", "--inner-episodes", "3", "--repeats", "1",
                      "--threads", "1", "--ego", ego, "--update-blocks", "none,1", "--out", str(tmp_path / "r.json")])
    assert (tmp_path / "r.json").exists() and out["config"]["ego"] == ego
    assert [r["update_block"] for r in out["results"]] == [None, 1]
    for r in out["results"]:
        assert set(r["split_fraction"]) == set(bench.PHASES)
        assert 0.8 < sum(r["split_fraction"].values()) <= 1.0 + 1e-9  # the phases cover the wall time
        assert r["game_steps_per_s"] > 0 and r["split_seconds"]["coplayer_update"] > 0
        if ego == "hawk":
            assert r["split_seconds"]["ego"] > 0
