"""Co-players: fixed strategies, naive learners, frozen trained agents and opponent pools.

All follow one protocol (:mod:`social_dilemmas.coplayers.base`). Names are imported lazily so
that ``import social_dilemmas.coplayers.fixed`` does not pull in the policy networks.

* :mod:`~social_dilemmas.coplayers.fixed` — memory-1 strategies (TFT, ALLD, ZD, ...).
* :class:`NaiveLearner` — a meta-batch of A2C learners updated as one batched computation.
* :class:`AgentCoPlayer` — frozen trained policies with long-context memory.
* :class:`OpponentPool` — naive with probability ``p_naive``, else a copy of another agent.
"""

from __future__ import annotations

from social_dilemmas.core.lazy import lazy_getattr

_EXPORTS = {
    "CoPlayer": "base",
    "LearningCoPlayer": "base",
    "Memory1Strategy": "fixed",
    "UniformRandom": "fixed",
    "make_strategy": "fixed",
    "zd_strategy": "fixed",
    "NAMED_MEMORY1": "fixed",
    "NaiveLearner": "naive",
    "NaiveConfig": "naive",
    "NAIVE_PRESETS": "naive",
    "InnerEpisodeBatch": "naive",
    "BatchedOptimizer": "naive",
    "default_naive_config": "naive",
    "AgentCoPlayer": "agent",
    "population_like": "agent",
    "copy_members_": "agent",
    "OpponentPool": "pool",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
