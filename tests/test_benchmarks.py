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


def test_gpu_check_lists_every_step_in_a_dry_run_and_is_shellcheck_clean():
    import shutil
    import subprocess

    script = ROOT / "benchmarks" / "gpu_check.sh"
    out = subprocess.run(["bash", str(script), "--dry-run"], capture_output=True, text=True, check=True).stdout
    for what in ("-k cuda or gpu", "bench IPD-v0 --device cuda", "bench_gridworlds.py --device cuda",
                 "bench_models.py --device cuda", "bench_meta_env.py --device cuda", "bench_training.py --device cuda",
                 "--nproc-per-node 2"):
        assert what in out, what
    outputs = [w for w in out.split() if w.endswith("_gpu.json") or w.endswith("_gpu_2ranks.json")]
    assert len(outputs) == 6 and all(w.startswith("benchmarks/results/") for w in outputs)
    limits = [
        int(line.split("(limit ")[1].split(" s)")[0]) for line in out.splitlines() if "(limit " in line]
    assert sum(limits) < 8 * 60  # the per-step limits keep the whole check under 8 minutes
    assert subprocess.run(["bash", str(script), "--bogus"], capture_output=True).returncode == 2
    if shutil.which("shellcheck"):
        subprocess.run(["shellcheck", str(script), str(ROOT / "scripts" / "check_two_nodes.sh")], check=True)


def test_validation_benchmark_reports_every_figure(tmp_path):
    out = load("bench_validation").main(["--repeats", "1", "--out", str(tmp_path / "v.json")])
    assert (tmp_path / "v.json").exists()
    for key in ("naive_update_ms", "naive_health_check_ms", "checkpoint_digest_ms", "ipd_step_us_validate"):
        assert out[key] > 0, key


def test_scoring_benchmark_reports_wall_times(tmp_path):
    bench = load("bench_benchmark")
    out = bench.main(["--suite", "ipd/zoo-v0", "--seeds", "1", "--repeats", "1", "--policies", "tit_for_tat",
                      "--out", str(tmp_path / "r.json")])
    assert (tmp_path / "r.json").exists()
    (row,) = out["results"]
    assert row["median_s"] > 0 and set(row["per_scenario_s"]) == {"ipd/zoo-v0"}
