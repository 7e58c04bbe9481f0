"""The opponent pool: per meta-episode, each meta-batch slot faces a naive learner or another agent.

Paper App. B.2.1: for every meta-episode and every meta-batch slot, the
opponent is *naive* with probability ``p_naive`` — a fresh naive learner whose initial
parameters are drawn uniformly from the naive population (static seeded inits, or dynamic
copies of current agents) — and otherwise a frozen copy of one of the **other** current
agents, drawn uniformly with replacement, never the ego itself.

:class:`OpponentPool` is one composite co-player acting over the whole meta-batch: a
:class:`~social_dilemmas.coplayers.naive.NaiveLearner` and an
:class:`~social_dilemmas.coplayers.agent.AgentCoPlayer` side by side, each with ``P =
meta_batch`` members, selected per slot by the :attr:`OpponentPool.is_naive` mask. Naive slots
reset their memory at inner boundaries and learn; agent slots keep their long-context memory
and never learn. The trainer reads ``is_naive`` to centre advantages per opponent kind and to
use the batch-unaware estimator against agents.

All draws come from the meta-environment's per-slot counter-based RNG (streams 300-302), so a
slot's opponent depends only on that slot's seed and the meta-episode count.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from social_dilemmas.coplayers.agent import AgentCoPlayer
from social_dilemmas.coplayers.naive import InnerEpisodeBatch, NaiveLearner
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.validation import MAX_BATCH, check_int, check_positive_int, check_probability
from social_dilemmas.models.base import PolicyValueModel

__all__ = ["KIND_STREAM", "AGENT_STREAM", "OpponentPool"]

#: Per-slot random streams: naive-or-agent coin, and which agent.
KIND_STREAM = 301
AGENT_STREAM = 302


class OpponentPool:
    """Naive learners with probability ``p_naive``, else frozen copies of other agents.

    Args:
        meta_batch: number of meta-batch slots.
        p_naive: probability that a slot's opponent is a naive learner, in ``[0, 1]``.
        naive: the naive learners (required when ``p_naive > 0``; its ``meta_batch`` must match).
        agents: a population model of the current trained agents (required when
            ``p_naive < 1``).
        ego_index: the member of ``agents`` that is the ego (never drawn as its opponent);
            ``None`` when the ego is not one of ``agents``.
    """

    resets_at_inner_boundary = True  # naive slots do; see inner_reset_mask()
    kind = "pool"

    def __init__(
        self,
        meta_batch: int,
        p_naive: float,
        naive: NaiveLearner | None = None,
        agents: PolicyValueModel | None = None,
        ego_index: int | None = None,
    ) -> None:
        self.meta_batch = check_positive_int("meta_batch", meta_batch, MAX_BATCH)
        self.p_naive = check_probability("p_naive", p_naive)
        if self.p_naive > 0 and naive is None:
            raise ValueError(f"p_naive={self.p_naive} > 0 needs naive learners (naive=NaiveLearner(...))")
        if naive is not None and naive.meta_batch != self.meta_batch:
            raise ValueError(f"naive.meta_batch={naive.meta_batch} does not match meta_batch={self.meta_batch}")
        self.naive = naive
        self.agent: AgentCoPlayer | None = None
        self.agents: PolicyValueModel | None = None
        self.ego_index: int | None = None
        if self.p_naive < 1 and agents is None:
            raise ValueError(f"p_naive={self.p_naive} < 1 needs a population of agents to draw opponents from")
        if agents is not None:
            self.set_agents(agents, ego_index)
        ref = naive if naive is not None else self.agent
        assert ref is not None
        self.num_actions = ref.num_actions
        self.obs_dim = ref.obs_dim
        self.is_naive = torch.full((self.meta_batch,), self.p_naive >= 1.0)
        self.agent_choice = torch.full((self.meta_batch,), -1, dtype=torch.int64)
        self._n_naive = int(self.is_naive.sum())
        self._row_mask_cache: dict[Any, Tensor] = {}

    def set_agents(self, agents: PolicyValueModel, ego_index: int | None = None) -> None:
        """Replace the population of current agents (e.g. after a training iteration).

        Takes effect at the next meta-episode start.
        """
        if not isinstance(agents, PolicyValueModel):
            raise TypeError(f"agents must be a PolicyValueModel, got {type(agents).__name__}")
        if ego_index is not None:
            ego_index = check_int("ego_index", ego_index)
            if not 0 <= ego_index < agents.population:
                raise ValueError(f"ego_index must lie in [0, {agents.population}), got {ego_index}")
        others = agents.population - (ego_index is not None)
        if self.p_naive < 1 and others < 1:
            raise ValueError(
                f"p_naive={self.p_naive} < 1 but there is no agent other than the ego (ego_index={ego_index}) "
                f"in a population of {agents.population}: add agents or use p_naive=1"
            )
        if self.naive is not None and agents.num_actions != self.naive.num_actions:
            raise ValueError(f"agents play {agents.num_actions} actions, the naive learners {self.naive.num_actions}")
        self.agents = agents
        self.ego_index = ego_index
        if self.agent is None:
            self.agent = AgentCoPlayer(agents, self.meta_batch, 0 if ego_index != 0 or others < 1 else 1)

    @property
    def device(self) -> torch.device:
        return (self.naive or self.agent).device  # type: ignore[union-attr]

    # -- meta-episode start ----------------------------------------------------------------

    def begin_meta_episode(self, slot_rng: RNG | None = None) -> None:
        """Draw every slot's opponent for the new meta-episode."""
        if slot_rng is None:
            raise ValueError("OpponentPool needs the meta-environment's per-slot RNG to sample opponents")
        is_naive = (slot_rng.uniform(KIND_STREAM) < self.p_naive).cpu()
        if self.p_naive >= 1.0:
            is_naive[:] = True
        elif self.p_naive <= 0.0:
            is_naive[:] = False
        self.is_naive = is_naive
        self._n_naive = int(is_naive.sum())
        self._row_mask_cache = {}
        if self.naive is not None:
            self.naive.begin_meta_episode(slot_rng)
        if self.agent is not None and self.agents is not None:
            n = self.agents.population
            others = n - (self.ego_index is not None)
            u = slot_rng.uniform(AGENT_STREAM).cpu()
            k = (u * others).long().clamp_(max=others - 1)
            if self.ego_index is not None:
                k = k + (k >= self.ego_index).long()
            self.agent.assign(self.agents, k)
            self.agent_choice = torch.where(is_naive, torch.full_like(k, -1), k)

    # -- CoPlayer protocol -----------------------------------------------------------------

    def initial_memory(self, batch_size: int, device: torch.device | None = None) -> Any:
        nm = self.naive.initial_memory(batch_size, device) if self.naive is not None else None
        am = self.agent.initial_memory(batch_size, device) if self.agent is not None else None
        return (nm, am)

    def action_probs(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        nm, am = memory
        if self._n_naive == self.meta_batch:
            probs, nm = self.naive.action_probs(obs, nm)  # type: ignore[union-attr]
            return probs, (nm, am)
        if self._n_naive == 0:
            probs, am = self.agent.action_probs(obs, am)  # type: ignore[union-attr]
            return probs, (nm, am)
        pn, nm = self.naive.action_probs(obs, nm)  # type: ignore[union-attr]
        pa, am = self.agent.action_probs(obs, am)  # type: ignore[union-attr]
        sel = self._row_mask_cache.get((obs.shape[0], obs.device))
        if sel is None:
            sel = self._row_mask(obs.shape[0]).to(obs.device).unsqueeze(-1)
            self._row_mask_cache[(obs.shape[0], obs.device)] = sel
        return torch.where(sel, pn, pa), (nm, am)

    def reset_memory(self, memory: Any, mask: Tensor) -> Any:
        nm, am = memory
        if nm is not None:
            nm = self.naive.reset_memory(nm, mask)  # type: ignore[union-attr]
        if am is not None:
            am = self.agent.reset_memory(am, mask)  # type: ignore[union-attr]
        return (nm, am)

    def inner_reset_mask(self, batch_size: int) -> Tensor:
        """``[meta_batch * B]`` bool: the sub-environments whose co-player memory resets at inner boundaries."""
        return self._row_mask(batch_size)

    def update(self, episodes: InnerEpisodeBatch) -> dict[str, Tensor]:
        """Update the naive slots on their finished episodes; agent slots do not learn (their diagnostics are NaN)."""
        if self.naive is None or self._n_naive == 0:
            return {}
        if self._n_naive == self.meta_batch:
            return self.naive.update(episodes)
        active = self.is_naive.to(self.device)
        diag = self.naive.update(episodes, active=active)
        return {k: torch.where(active, v, torch.full_like(v, float("nan"))) if v.shape == active.shape else v
                for k, v in diag.items()}

    def parameter_vector(self) -> Tensor:
        vecs = []
        if self.naive is not None:
            vecs.append(self.naive.parameter_vector())
        if self.agent is not None:
            vecs.append(self.agent.parameter_vector())
        if len(vecs) == 1:
            return vecs[0]
        if vecs[0].shape[1] != vecs[1].shape[1]:
            raise ValueError("privileged parameters need naive learners and agents of the same architecture")
        return torch.where(self.is_naive.to(vecs[0].device).unsqueeze(-1), vecs[0], vecs[1])

    def _row_mask(self, n: int) -> Tensor:
        if n % self.meta_batch:
            raise ValueError(f"batch of {n} sub-environments is not a multiple of meta_batch={self.meta_batch}")
        return self.is_naive.repeat_interleave(n // self.meta_batch)

    def __repr__(self) -> str:
        return (f"OpponentPool(meta_batch={self.meta_batch}, p_naive={self.p_naive:g}, naive={self.naive!r}, "
                f"agents={None if self.agents is None else self.agents.population}, ego_index={self.ego_index})")
