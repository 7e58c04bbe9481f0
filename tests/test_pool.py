"""Opponent pools: naive with probability p_naive, else a copy of another agent (never the ego)."""

from __future__ import annotations

import pytest
import torch

from social_dilemmas.coplayers.agent import AgentCoPlayer, population_like
from social_dilemmas.coplayers.naive import NaiveLearner
from social_dilemmas.coplayers.pool import OpponentPool
from social_dilemmas.core.rng import RNG
from social_dilemmas.models import make_model


def agents(n: int = 3):
    m = make_model("mlp", 5, 2, population=n, seed=11)
    with torch.no_grad():  # make the agents recognisable: agent i's logits are (i, 0)
        m.policy_b.copy_(torch.stack([torch.tensor([float(i), 0.0]) for i in range(n)]))
    return m


def slot_rng(mb: int, seed: int = 0) -> RNG:
    return RNG.from_seeds(torch.arange(mb) * 16 + seed)


def test_p_naive_frequency_and_never_the_ego():
    mb = 600
    pool = OpponentPool(mb, 0.3, naive=NaiveLearner(5, 2, mb, model="tabular"), agents=agents(3), ego_index=1)
    pool.begin_meta_episode(slot_rng(mb))
    frac = float(pool.is_naive.float().mean())
    assert 0.24 < frac < 0.36, frac
    chosen = pool.agent_choice[~pool.is_naive]
    assert set(chosen.tolist()) == {0, 2}  # both others, never the ego (1)
    assert 0.4 < float((chosen == 0).float().mean()) < 0.6  # uniform over the others
    assert (pool.agent_choice[pool.is_naive] == -1).all()
    # agent slots play the copied agent's parameters
    for j in torch.nonzero(~pool.is_naive).flatten()[:5].tolist():
        assert torch.equal(pool.agent.model.policy_b[j], torch.tensor([float(pool.agent_choice[j]), 0.0]))


def test_extremes_and_determinism():
    mb = 32
    only_naive = OpponentPool(mb, 1.0, naive=NaiveLearner(5, 2, mb, model="tabular"))
    only_naive.begin_meta_episode(slot_rng(mb))
    assert only_naive.is_naive.all() and only_naive.agent is None
    only_agents = OpponentPool(mb, 0.0, agents=agents(2), ego_index=0)
    only_agents.begin_meta_episode(slot_rng(mb))
    assert not only_agents.is_naive.any() and (only_agents.agent_choice == 1).all()
    a = OpponentPool(mb, 0.5, naive=NaiveLearner(5, 2, mb, model="tabular"), agents=agents(4), ego_index=2)
    b = OpponentPool(mb, 0.5, naive=NaiveLearner(5, 2, mb, model="tabular"), agents=agents(4), ego_index=2)
    for p in (a, b):
        p.begin_meta_episode(slot_rng(mb, 5))
    assert torch.equal(a.is_naive, b.is_naive) and torch.equal(a.agent_choice, b.agent_choice)
    # a slot's draw depends only on its own key: the first 8 slots of a meta-batch of 8 agree
    c = OpponentPool(8, 0.5, naive=NaiveLearner(5, 2, 8, model="tabular"), agents=agents(4), ego_index=2)
    c.begin_meta_episode(slot_rng(8, 5))
    assert torch.equal(c.is_naive, a.is_naive[:8]) and torch.equal(c.agent_choice, a.agent_choice[:8])
    # the next meta-episode redraws
    a.begin_meta_episode(slot_rng(mb, 5).advance())
    assert not torch.equal(a.is_naive, b.is_naive)


def test_composite_acts_with_the_right_member_per_slot():
    mb, b = 6, 2
    naive = NaiveLearner(5, 2, mb, model="tabular")
    pool = OpponentPool(mb, 0.5, naive=naive, agents=agents(3), ego_index=None)
    pool.begin_meta_episode(slot_rng(mb, 3))
    assert 0 < int(pool.is_naive.sum()) < mb
    obs = torch.eye(5)[torch.zeros(mb * b, dtype=torch.long)]
    probs, mem = pool.action_probs(obs, pool.initial_memory(mb * b))
    pn, _ = naive.action_probs(obs, naive.initial_memory(mb * b))
    pa, _ = pool.agent.action_probs(obs, pool.agent.initial_memory(mb * b))
    rows = pool.is_naive.repeat_interleave(b)
    assert torch.equal(probs[rows], pn[rows]) and torch.equal(probs[~rows], pa[~rows])
    assert torch.equal(pool.inner_reset_mask(mb * b), rows)


def test_set_agents_takes_effect_at_the_next_meta_episode():
    mb = 8
    pool = OpponentPool(mb, 0.0, agents=agents(2), ego_index=0)
    pool.begin_meta_episode(slot_rng(mb))
    newer = agents(2)
    with torch.no_grad():
        newer.policy_b.add_(10.0)
    pool.set_agents(newer, ego_index=0)
    assert float(pool.agent.model.policy_b[0, 0]) == 1.0  # unchanged until the next meta-episode
    pool.begin_meta_episode(slot_rng(mb).advance())
    assert float(pool.agent.model.policy_b[0, 0]) == 11.0


def test_pool_errors():
    naive = NaiveLearner(5, 2, 4, model="tabular")
    with pytest.raises(ValueError, match="p_naive"):
        OpponentPool(4, 1.01, naive=naive)
    with pytest.raises(ValueError, match="p_naive"):
        OpponentPool(4, float("nan"), naive=naive)
    with pytest.raises(ValueError, match="needs naive learners"):
        OpponentPool(4, 0.5, agents=agents(2))
    with pytest.raises(ValueError, match="population of agents"):
        OpponentPool(4, 0.5, naive=naive)
    with pytest.raises(ValueError, match="no agent other than the ego"):
        OpponentPool(4, 0.5, naive=naive, agents=agents(1), ego_index=0)
    with pytest.raises(ValueError, match="ego_index"):
        OpponentPool(4, 0.5, naive=naive, agents=agents(2), ego_index=2)
    with pytest.raises(ValueError, match="meta_batch"):
        OpponentPool(5, 0.5, naive=naive, agents=agents(2))
    with pytest.raises(ValueError, match="per-slot RNG"):
        OpponentPool(4, 1.0, naive=naive).begin_meta_episode(None)


def test_population_like_and_agent_coplayer():
    src = agents(3)
    pop = population_like(src, 5, torch.tensor([2, 2, 0, 1, 0]))
    assert pop.population == 5 and pop.policy_b.shape == (5, 2)
    assert pop.policy_b[:, 0].tolist() == [2.0, 2.0, 0.0, 1.0, 0.0]
    assert src.population == 3  # the source is untouched
    agent = AgentCoPlayer(src, meta_batch=2, members=[2, 0])
    assert agent.resets_at_inner_boundary is False
    p, _ = agent.action_probs(torch.eye(5)[[0, 0, 0, 0]], agent.initial_memory(4))
    assert torch.allclose(p[:2, 0], torch.sigmoid(torch.tensor(2.0)).expand(2))
    assert torch.allclose(p[2:, 0], torch.tensor(0.5))
    greedy = AgentCoPlayer(src, meta_batch=2, members=[2, 0], greedy=True)
    pg, _ = greedy.action_probs(torch.eye(5)[[0, 0, 0, 0]], greedy.initial_memory(4))
    assert pg[:2, 0].tolist() == [1.0, 1.0]
    with pytest.raises(IndexError):
        AgentCoPlayer(src, meta_batch=2, members=[3, 0])
