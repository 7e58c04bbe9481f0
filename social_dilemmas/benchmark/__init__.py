"""The benchmark: score any policy on standard scenarios against the reference agents, with honest statistics.

::

    from social_dilemmas.benchmark import evaluate
    result = evaluate(my_policy, "ipd", seeds=8)       # a BenchmarkResult
    print(result.table(references=reference_results("ipd")))
    result.save("bench-out")                           # result.json, report.md, scores.png

or ``social-dilemmas benchmark POLICY --suite ipd --seeds 8 --out bench-out``. The pieces, one
module each: :mod:`.scenarios` (versioned scenario ids and suites, as data), :mod:`.zoo` (fixed
and scripted co-players), :mod:`.policy` (the policy protocol and adapters; SB3 in
:mod:`.sb3_policy`), :mod:`.runner` (the one play loop), :mod:`.scoring` (``evaluate``), :mod:`.metrics`, :mod:`.stats`
(bootstrap intervals, IQM), :mod:`.results` and :mod:`.report` (tables, Markdown, plots),
:mod:`.league` (round-robin cross-play and alpha-Rank), :mod:`.references` (the shipped
reference agents and their recorded scores). Docs: ``docs/benchmark.md``.
"""

from __future__ import annotations

from social_dilemmas.core.lazy import lazy_getattr

_EXPORTS = {
    "evaluate": "scoring",
    "score_scenario": "scoring",
    "BenchmarkResult": "results",
    "ScenarioResult": "results",
    "Scenario": "scenarios",
    "OpponentSpec": "scenarios",
    "SCENARIOS": "scenarios",
    "SUITES": "scenarios",
    "get_scenario": "scenarios",
    "list_scenarios": "scenarios",
    "Policy": "policy",
    "PolicyError": "policy",
    "as_policy": "resolve",
    "CallablePolicy": "policy",
    "CheckpointPolicy": "policy",
    "CoPlayerPolicy": "policy",
    "SB3Policy": "sb3_policy",
    "load_reference": "references",
    "reference_names": "references",
    "reference_results": "references",
    "play_league": "league",
    "alpha_rank": "league",
    "Estimate": "stats",
    "bootstrap_ci": "stats",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
