"""The results pages are generated from the recorded JSONs, and quote nothing else."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "docs"))
import gen_results  # noqa: E402


def _walk(data: dict, path: tuple):
    node = data
    for key in path:
        node = node[key]
    return node


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def _check_ledger(page: gen_results.Page, results: Path) -> None:
    files = {"criteria": "verdict_criteria.json", "paper": "paper_reported.json"}
    for src, path, shown in page.ledger:
        name = files.get(src, src if src.startswith("training_") else f"analytic_{src}")
        data = json.loads((results / (name if name.endswith(".json") else f"{name}.json")).read_text())
        if path[0] == "runs" and path[-1] == "label":
            assert any(r["label"] == shown for r in data["runs"]), (src, path)
            continue
        if path[0] == "runs" and path[-1] in ("count", "iterations_done"):  # counted from the list of runs
            runs = [r for r in data["runs"] if r["label"] == path[1]]
            want = str(len(runs)) if path[-1] == "count" else "/".join(map(str, sorted({r["iterations_done"]
                                                                                       for r in runs})))
            assert shown == want, (src, path)
            continue
        *parent, last = path
        container = _walk(data, tuple(parent))
        if isinstance(container, dict) and last in container and not isinstance(container[last], (int, float)):
            assert shown == str(last), (src, path)  # a key naming a run
            continue
        value = container[last]
        assert math.isclose(float(shown), float(value), abs_tol=0.5 * 10 ** -_decimals(shown) + 1e-12), (src, path)


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    return gen_results.build(RESULTS, out), out


def test_every_number_on_a_page_comes_from_its_json(pages):
    built, out = pages
    for page in built:
        allowed = {tok for _, _, shown in page.ledger for tok in gen_results.numbers_in(shown)}
        text = (out / f"{page.name}.md").read_text()
        stray = [tok for tok in gen_results.numbers_in(text) if tok not in allowed]
        assert not stray, f"{page.name}.md quotes numbers no JSON field gave it: {stray[:10]}"
        _check_ledger(page, RESULTS)
        assert len(page.ledger) > 20


def test_verdicts_use_the_three_words(pages):
    built, out = pages
    index = (out / "index.md").read_text()
    for page in built:
        for fig, verdict in page.verdicts.items():
            assert verdict.startswith(("reproduced", "partly reproduced (", "not reproduced at this scale",
                                       "not run yet", "answered", "confirmed", "not confirmed",
                                       "partly confirmed (")), (fig, verdict)
            assert fig in index and verdict in index
    assert "Fig. 5C" in index and "Fig. 3C" in index


def test_a_changed_record_changes_the_page_and_its_verdict(tmp_path):
    res = tmp_path / "results"
    shutil.copytree(RESULTS, res, ignore=shutil.ignore_patterns("*.png"))
    path = res / "training_fig5c_quick.json"
    data = json.loads(path.read_text())
    before = gen_results.rl_page(res, tmp_path)
    data["summary_last_10_iterations"]["COALA-PPO"]["reward/vs_naive"]["mean"] = 1.4321
    path.write_text(json.dumps(data))
    after = gen_results.rl_page(res, tmp_path)
    assert "1.43 ±" in after.text() and "1.43 ±" not in before.text()
    assert "reward against naive learners stays below" in before.verdicts["Fig. 5C"]
    assert "reward against naive learners stays below" not in after.verdicts["Fig. 5C"]


def test_missing_records_read_not_run_yet(tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    for name in ("verdict_criteria.json", "analytic_fig3c.json"):
        shutil.copy(RESULTS / name, res / name)
    page = gen_results.rl_page(res, tmp_path)
    assert set(page.verdicts.values()) == {"not run yet"} and "Fig. 7: CleanUp-lite mixed pool" in page.verdicts
    assert "Fig. 3C" in gen_results.analytic_page(res).verdicts


def test_numbers_in_skips_references_and_code():
    text = "Fig. 5C, Eq. 17, App. H.3, Table 7, Fig. 3, 4, 8, 9 and `--seed 3`: 0.72 ± 0.18, 3 seeds"
    assert gen_results.numbers_in(text) == ["0.72", "0.18", "3"]


def test_gen_pages_writes_the_results_pages(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "docs" / "gen_pages.py"), str(tmp_path)], check=True,
                   cwd=ROOT)
    assert (tmp_path / "results" / "index.md").exists() and (tmp_path / "results" / "rl.md").exists()


def test_h3_record_gets_its_own_section(tmp_path):
    res = tmp_path / "results"
    shutil.copytree(RESULTS, res, ignore=shutil.ignore_patterns("*.png"))
    row = {m: {"mean": v, "std": 0.01, "per_seed": [v - 0.01, v + 0.01]} for m, v in
           (("agent0/reward_vs_agents", 0.8123), ("agent1/reward_vs_agents", 0.6345), ("reward/vs_naive", 0.5))}
    record = {"preset": "ipd-mixed-quick", "summary_last_10_iterations": {"COALA-PPO + M-FOS": row},
              "runs": [{"label": "COALA-PPO + M-FOS", "seed": s, "iterations_done": 200} for s in (0, 1)]}
    (res / "training_h3_quick.json").write_text(json.dumps(record))
    page = gen_results.rl_page(res, tmp_path)
    assert page.verdicts["App. H.3"] == "not reproduced at this scale"  # M-FOS below the threshold
    assert "0.81 ± 0.01" in page.text() and "0.850 ± 0.037" in page.text()
    _check_ledger(page, res)


def test_rl_regime_check_is_set_against_the_nearest_exact_cell(tmp_path):
    res = tmp_path / "results"
    shutil.copytree(RESULTS, res, ignore=shutil.ignore_patterns("*.png"))
    label = "COALA-PPO, p_naive 0.25, sum"
    row = {"reward/vs_agents": {"mean": 0.95, "std": 0.0, "per_seed": [0.95]},
           "reward/vs_naive": {"mean": 0.5, "std": 0.0, "per_seed": [0.5]}}
    cmd = "social-dilemmas train coala --preset ipd-mixed-quick --seed 0 --p-naive 0.25 --batch-scaling sum"
    record = {"preset": "ipd-mixed-quick", "summary_last_10_iterations": {label: row},
              "runs": [{"label": label, "seed": 0, "iterations_done": 200, "command": cmd}]}
    (res / "training_regime_confirm_quick.json").write_text(json.dumps(record))
    page = gen_results.rl_page(res, tmp_path)
    # effective weight 2 / 2.75 with B = 8: the map's nearest cell defects, the (made-up) RL run cooperates
    verdict = page.verdicts["RL check of the regime map"]
    assert verdict.startswith("partly confirmed (") or verdict == "not confirmed"
    assert "the RL agents cooperate at `--p-naive 0.25 --batch-scaling sum`, the exact model does not" in verdict
    assert "`per_round/p=0.9/w=0.3`" in page.text()
    _check_ledger(page, res)
    allowed = {tok for _, _, shown in page.ledger for tok in gen_results.numbers_in(shown)}
    assert not [t for t in gen_results.numbers_in(page.text()) if t not in allowed]


def test_the_paper_scale_pair_gets_its_own_section_and_no_verdict_without_m_fos(tmp_path):
    res = tmp_path / "results"
    shutil.copytree(RESULTS, res, ignore=shutil.ignore_patterns("*.png", "training_fig5a_paper.json"))
    assert "Fig. 5A/B at the paper's scale" in gen_results.rl_page(res, tmp_path).verdicts  # not run yet
    data = json.loads((res / "training_fig5a_quick.json").read_text())
    data["preset"] = "ipd-shaping"
    data["runs"] = [r for r in data["runs"] if r["label"] == "COALA-PPO" and r["seed"] == 0]
    data["summary_last_10_iterations"] = {"COALA-PPO": data["summary_last_10_iterations"]["COALA-PPO"]}
    data["launched_with"] = ["torchrun --nproc-per-node 2 -m social_dilemmas.cli train coala --preset ipd-shaping"]
    (res / "training_fig5a_paper.json").write_text(json.dumps(data))
    page = gen_results.rl_page(res, tmp_path)
    alone = page.verdicts["Fig. 5A/B (paper scale)"]
    assert alone.startswith("not run yet (M-FOS") and "Fig. 5A/B at the paper's scale" not in page.verdicts
    assert "preset `ipd-shaping`" in page.text() and "not recorded yet, so nothing is compared" in page.text()
    assert "- `torchrun --nproc-per-node 2 -m social_dilemmas.cli train coala" in page.text()
    _check_ledger(page, res)
    data["summary_last_10_iterations"]["M-FOS"] = dict(data["summary_last_10_iterations"]["COALA-PPO"])
    data["summary_last_10_iterations"]["M-FOS"]["reward/ego"] = {"mean": 9.0, "std": 0.0, "per_seed": [9.0]}
    data["runs"].append({**data["runs"][0], "label": "M-FOS"})
    (res / "training_fig5a_paper.json").write_text(json.dumps(data))
    assert gen_results.rl_page(res, tmp_path).verdicts["Fig. 5A/B (paper scale)"] == "not reproduced at this scale"


def test_a_single_seed_row_shows_its_mean_without_a_spread(tmp_path):
    res = tmp_path / "results"
    shutil.copytree(RESULTS, res, ignore=shutil.ignore_patterns("*.png"))
    path = res / "training_fig5a_paper.json"
    data = json.loads(path.read_text())
    data["summary_last_10_iterations"]["M-FOS"]["reward/ego"] = {"mean": 0.4321, "std": 0.0, "per_seed": [0.4321]}
    path.write_text(json.dumps(data))
    text = gen_results.rl_page(res, tmp_path).text()
    row = next(line for line in text.splitlines() if line.startswith("| M-FOS (1, "))
    assert row.split(" | ")[1] == "0.43"  # a std over one seed would read as a measured zero spread
    data["summary_last_10_iterations"]["M-FOS"]["reward/ego"]["per_seed"] = [0.4, 0.4642]
    path.write_text(json.dumps(data))
    text = gen_results.rl_page(res, tmp_path).text()
    assert "| M-FOS (1, " in text and "0.43 ± 0.00" in text
