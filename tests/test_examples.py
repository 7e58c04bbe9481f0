"""Every script in examples/ runs as documented, at a reduced size (seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: script -> the arguments that shrink it (these scripts print one JSON line at the end)
REDUCED = {
    "sb3_ppo_ipd.py": ["--timesteps", "256"],
    "supersuit_sb3_ipd.py": ["--timesteps", "256", "--num-vec-envs", "1"],
}
#: scripts another test already runs at a reduced size
ELSEWHERE = {"sb3_recurrent_ppo_vs_naive.py": "tests/test_meta_faces.py"}


def test_every_example_has_a_reduced_run():
    assert sorted(p.name for p in (ROOT / "examples").glob("*.py")) == sorted({**REDUCED, **ELSEWHERE})
    for script, test in ELSEWHERE.items():
        assert script in (ROOT / test).read_text()


@pytest.mark.parametrize("script", sorted(REDUCED))
def test_example_runs(script):
    pytest.importorskip("stable_baselines3")
    if script.startswith("supersuit"):
        pytest.importorskip("supersuit")
    r = subprocess.run([sys.executable, str(ROOT / "examples" / script), *REDUCED[script]], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    json.loads(r.stdout.strip().splitlines()[-1])
