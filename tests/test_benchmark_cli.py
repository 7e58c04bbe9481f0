"""``social-dilemmas benchmark``: table, JSON, files, refusal to overwrite, clear errors."""

from __future__ import annotations

import json

import pytest

from social_dilemmas.cli import main


def test_benchmark_json_and_files(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["benchmark", "tit_for_tat", "--suite", "ipd/zoo-v0", "--seeds", "2", "--out", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["policy"] == "tit_for_tat" and doc["scenarios"][0]["scenario"] == "ipd/zoo-v0"
    allc = doc["scenarios"][0]["opponents"]["always_cooperate"]["cooperation"]
    assert allc["mean"] == 1.0 and allc["replicates"] == [1.0, 1.0]
    assert {p.name for p in out.iterdir()} >= {"result.json", "report.md"}
    assert "| ipd/zoo-v0 |" in (out / "report.md").read_text()
    with pytest.raises(SystemExit, match="already holds"):
        main(["benchmark", "tit_for_tat", "--suite", "ipd/zoo-v0", "--seeds", "2", "--out", str(out)])
    assert main(["benchmark", "tit_for_tat", "--suite", "ipd/zoo-v0", "--seeds", "2", "--out", str(out),
                 "--overwrite"]) == 0


def test_benchmark_prints_an_aligned_table(capsys):
    assert main(["benchmark", "always_defect", "--suite", "ipd/zoo-v0", "--seeds", "2", "--no-references"]) == 0
    text = capsys.readouterr().out
    lines = [ln for ln in text.splitlines() if ln.startswith(("scenario", "ipd/zoo-v0", "aggregate"))]
    assert len(lines) == 3
    col = lines[0].index("always_defect")
    assert all(ln[col] in "+-" for ln in lines[1:]), text  # values line up under the policy's column
    assert "95% bootstrap CI" in text


def test_benchmark_errors_are_one_line(capsys):
    with pytest.raises(SystemExit, match="unknown suite 'nope'"):
        main(["benchmark", "tit_for_tat", "--suite", "nope"])
    with pytest.raises(SystemExit, match="neither a reference agent"):
        main(["benchmark", "what_is_this", "--suite", "ipd/zoo-v0"])
    with pytest.raises(SystemExit, match="--seeds must be a positive integer"):
        main(["benchmark", "tit_for_tat", "--seeds", "0"])
    with pytest.raises(SystemExit, match="give a POLICY"):
        main(["benchmark"])


def test_benchmark_list(capsys):
    assert main(["benchmark", "--list"]) == 0
    text = capsys.readouterr().out
    assert "ipd/zoo-v0" in text and "suite ipd:" in text
