"""``evaluate(policy, suite)``: score any policy on a suite of scenarios, with 95 % intervals.

Example:
    >>> from social_dilemmas.benchmark import evaluate
    >>> result = evaluate("tit_for_tat", "ipd/zoo-v0", seeds=4)
    >>> round(result["ipd/zoo-v0"].estimate("cooperation", "always_cooperate").mean, 3)
    1.0
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from social_dilemmas.benchmark.metrics import compute_metrics
from social_dilemmas.benchmark.resolve import as_policy
from social_dilemmas.benchmark.results import BenchmarkResult, ScenarioResult
from social_dilemmas.benchmark.runner import play_scenario, seeded
from social_dilemmas.benchmark.scenarios import GAME_BOUNDS, Scenario, resolve_suite

__all__ = ["evaluate", "score_scenario"]


def score_scenario(policy: Any, scenario: Scenario, *, seeds: int | None = None, seed: int = 0,
                   device: str = "cpu") -> ScenarioResult:
    """One scenario: play, then turn the raw records into per-replicate figures."""
    raw = play_scenario(policy, scenario, seeds=seeds, seed=seed, device=device)
    bounds = GAME_BOUNDS.get(scenario.game)
    if bounds is None:
        raise ValueError(f"no normalisation bounds for {scenario.game}; add them to GAME_BOUNDS")
    values = {opp: compute_metrics(r, scenario.game, bounds, scenario.metrics) for opp, r in raw.items()}
    return ScenarioResult(scenario, getattr(policy, "name", type(policy).__name__), values)


def evaluate(
    policy: Any,
    suite: str | Scenario | list[Any] = "ipd",
    *,
    seeds: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    name: str | None = None,
    threads: int | None = 1,
    progress: Callable[[str, float], None] | None = None,
) -> BenchmarkResult:
    """Score ``policy`` on every scenario of ``suite``.

    Args:
        policy: anything :func:`~social_dilemmas.benchmark.policy.as_policy` accepts (a policy,
            an SB3 model, a torch module, a checkpoint path, a reference agent or strategy name).
        suite: a suite name (``"ipd"``, ``"coingame"``, ``"cleanup"``), a scenario id or a list.
        seeds: replicates per opponent (default: each scenario's own).
        seed: base seed; a different one gives fresh, independent replicates.
        device: torch device of the games.
        name: label of the policy in reports (default: the policy's ``name``).
        threads: torch threads while scoring (``None``: leave as is).
        progress: optional ``fn(scenario_id, seconds)`` called after every scenario.

    Returns:
        a :class:`~social_dilemmas.benchmark.results.BenchmarkResult`.
    """
    scenarios = resolve_suite(suite)
    pol = as_policy(policy)
    label = name or getattr(pol, "name", type(pol).__name__)
    results = []
    t_all = time.perf_counter()
    with seeded(seed, threads):
        for i, sc in enumerate(scenarios):
            t0 = time.perf_counter()
            results.append(score_scenario(pol, sc, seeds=seeds, seed=seed * 1009 + i, device=device))
            results[-1].policy = label
            if progress is not None:
                progress(sc.id, time.perf_counter() - t0)
    from social_dilemmas import __version__

    meta = {"suite": suite if isinstance(suite, str) else [s.id for s in scenarios], "seeds": seeds, "seed": seed,
            "device": device, "wall_s": round(time.perf_counter() - t_all, 3),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "version": __version__, "python": platform.python_version()}
    return BenchmarkResult(label, results, meta)


#: How :data:`~social_dilemmas.benchmark.scenarios.GAME_BOUNDS` of the gridworlds are measured:
#: ``(low pair, high pair)``, each ``(focal bot, co-player bot)``; a score-1 pair of different bots
#: counts half their welfare (the cleaner-harvester division of labour).
BOUND_PAIRS = {
    "CoinGame-v0": (("coin_taker", "coin_taker"), ("coin_own_only", "coin_own_only")),
    "CleanUpLite-v0": (("harvester", "harvester"), ("cleaner", "harvester")),
}


def measure_bounds(game: str, *, seeds: int = 64, seed: int = 0) -> tuple[float, float]:
    """Play the scripted pairs of :data:`BOUND_PAIRS` and return (mutual defection, mutual cooperation) per step."""
    from social_dilemmas.benchmark.policy import CoPlayerPolicy
    from social_dilemmas.benchmark.scenarios import OpponentSpec
    from social_dilemmas.benchmark.zoo import zoo_member
    from social_dilemmas.registration import make_game

    if game not in BOUND_PAIRS:
        raise ValueError(f"no scripted bound pairs for {game!r}; known: {', '.join(BOUND_PAIRS)}")
    g = make_game(game)
    out = []
    with seeded(seed):
        for focal, co in BOUND_PAIRS[game]:
            sc = Scenario(f"bounds/{game}", game, "bounds", (OpponentSpec(co, "zoo", {"strategy": co}),), batch_size=16)
            raw = play_scenario(CoPlayerPolicy(zoo_member(focal, g)), sc, seeds=seeds, seed=seed)[co]
            mine, theirs = float(raw["reward"].mean()), float(raw["coplayer_reward"].mean())
            out.append(mine if focal == co else 0.5 * (mine + theirs))
    return out[0], out[1]
