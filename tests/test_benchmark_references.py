"""The shipped reference agents: load by name, records, recorded scores that a fresh re-score reproduces."""

from __future__ import annotations

import numpy as np
import pytest

from social_dilemmas.benchmark import evaluate, load_reference, reference_names, reference_results
from social_dilemmas.benchmark.references import REFERENCE_DIR, reference_records
from social_dilemmas.benchmark.scenarios import SUITES
from social_dilemmas.benchmark.stats import bootstrap_ci, consistent

NAMES = ["coala-ppo", "mfos", "batch-unaware", "naive-baseline"]
FIGURES = ("score", "reward", "coplayer_reward")
FRESH_SEED = 20_261_201  # any seed the record did not use (the record used 1000)

pytestmark = pytest.mark.skipif(not reference_names(), reason="no reference agents installed (make references)")


def test_every_reference_agent_loads_by_name_with_its_record():
    assert reference_names() == NAMES
    records = reference_records()
    for name in NAMES:
        rec = records[name]
        assert rec["preset"] == "ipd-shaping-quick" and rec["scale"] and rec["command"] and rec["made_by"]
        assert "commit" in rec and "not the paper's scale" in rec["note"]
        file = REFERENCE_DIR / rec["file"]
        assert file.exists() and file.stat().st_size < 100_000  # small package data
        policy = load_reference(name)
        assert policy.name == name and policy.num_actions == 2
    assert records["coala-ppo"]["scale"]["iterations"] >= 50
    with pytest.raises(ValueError, match="unknown reference agent 'lola'.*coala-ppo"):
        load_reference("lola")


def test_scores_are_recorded_on_every_ipd_scenario():
    recorded = reference_results("ipd")
    assert list(recorded) == NAMES
    for name, result in recorded.items():
        assert result.scenario_ids == list(SUITES["ipd"]), name
        assert np.isfinite(result.aggregate().mean)


def _check_rescore(scenarios: list[str]) -> None:
    recorded = reference_results("ipd")
    comparisons = len(NAMES) * len(scenarios) * len(FIGURES)
    failures = []
    for name in NAMES:
        old = recorded[name]
        seeds = len(next(iter(old[scenarios[0]].values.values()))["score"])
        fresh = evaluate(load_reference(name), scenarios, seeds=seeds, seed=FRESH_SEED)
        for sid in scenarios:
            for fig in FIGURES:
                a, b = old[sid].estimate(fig), fresh[sid].estimate(fig)
                if not consistent(a, b, comparisons=comparisons):
                    failures.append(f"{name} {sid} {fig}: recorded {a}, fresh {b}")
    assert not failures, "\n".join(failures)


def test_fresh_rescore_agrees_with_the_record_on_the_zoo_and_naive_learners():
    _check_rescore(["ipd/zoo-v0", "ipd/naive-v0"])


@pytest.mark.slow
def test_fresh_rescore_agrees_with_the_record_on_every_ipd_scenario():
    _check_rescore(list(SUITES["ipd"]))


def _surplus(result, sid: str):
    """Bootstrap estimate of the focal minus co-player reward per step (replicate by replicate)."""
    v = result[sid].values["naive-hawk"]
    return bootstrap_ci(v["reward"] - v["coplayer_reward"])


@pytest.mark.parametrize("source", ["recorded", "fresh"])
def test_coala_extorts_naive_learners_more_than_mfos(source):
    sid = "ipd/naive-v0"
    if source == "recorded":
        rec = reference_results("ipd")
        coala, mfos = rec["coala-ppo"], rec["mfos"]
    else:
        coala, mfos = (evaluate(load_reference(n), sid, seeds=16, seed=FRESH_SEED) for n in ("coala-ppo", "mfos"))
    # COALA earns more from the naive learners, beyond the mutual-cooperation payoff, and takes a larger surplus
    assert coala[sid].estimate("reward").low > mfos[sid].estimate("reward").high
    assert coala[sid].estimate("reward").mean > 1.0
    assert _surplus(coala, sid).low > _surplus(mfos, sid).high
    # while it shapes them toward cooperation (M-FOS, an always-defector at this scale, teaches them to defect)
    assert coala[sid].estimate("shaping").low > 0 > mfos[sid].estimate("shaping").high
