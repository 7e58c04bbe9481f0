"""The naive-learner baseline as a focal policy: it learns while it plays (paper Table 8, Fig. 13D).

Like the co-players of :mod:`social_dilemmas.coplayers.naive`, a naive ego starts every
meta-episode from one of its static initial parameter sets (drawn per co-player slot), sees only
the current inner episode and takes one A2C step on its ``B`` finished inner episodes at every
inner boundary. It uses the policy protocol's ``observe`` hook to collect its rewards. Seated
as a co-player (self-play, league) it is a :class:`~social_dilemmas.coplayers.naive.NaiveLearner`
with the same initial parameters.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from social_dilemmas.coplayers.naive import InnerEpisodeBatch, NaiveConfig, NaiveLearner
from social_dilemmas.core.rng import RNG

__all__ = ["NaiveLearnerPolicy"]

CHECKPOINT_KIND = "naive-learner"


class NaiveLearnerPolicy:
    """Naive A2C learners, one per co-player slot, as a focal policy.

    Args:
        config: the learners' hyperparameters and initial population.
        obs_dim, num_actions: the game's.
        init_state: optional ``state_dict`` of the initial population (as saved by :meth:`save`).
        name: label in reports.
    """

    resets_at_inner_boundary = True

    def __init__(self, config: NaiveConfig, obs_dim: int, num_actions: int, *,
                 init_state: dict[str, Tensor] | None = None, name: str = "naive-baseline") -> None:
        self.config = config
        self.obs_dim = int(obs_dim)
        self.num_actions = int(num_actions)
        self.observation_shape = (self.obs_dim,)
        self.init_state = init_state
        self.name = name
        self.learner: NaiveLearner | None = None

    def _new_learner(self, meta_batch: int, device: Any = "cpu") -> NaiveLearner:
        learner = NaiveLearner(self.obs_dim, self.num_actions, meta_batch, self.config, device=device)
        if self.init_state is not None:
            learner.init_model.load_state_dict(self.init_state)
        return learner

    def initial_state(self, n: int, group_size: int = 1) -> Any:
        if n % group_size:
            raise ValueError(f"{n} games do not split into groups of group_size={group_size}")
        mb = n // group_size
        if self.learner is None or self.learner.meta_batch != mb:
            self.learner = self._new_learner(mb)
        self.group_size = group_size
        seeds = torch.randint(0, 2**31 - 1, (mb,), dtype=torch.int64)
        self.learner.begin_meta_episode(RNG.from_seeds(seeds))
        self._buf: dict[str, list[Tensor]] = {"obs": [], "act": [], "rew": []}
        return self.learner.initial_memory(n)

    def act(self, obs: Tensor, state: Any, episode_start: Tensor) -> tuple[Tensor, Any]:
        learner = self.learner
        if learner is None:
            raise RuntimeError("call initial_state(n, group_size) before act()")
        if bool(episode_start.any()):
            state = learner.reset_memory(state, episode_start)
        logits, state = learner.action_logits(obs.reshape(obs.shape[0], -1), state)
        acts = torch.distributions.Categorical(logits=logits).sample()
        self._buf["obs"].append(obs.reshape(obs.shape[0], -1))
        self._buf["act"].append(acts)
        return acts, state

    def observe(self, reward: Tensor, inner_done: bool) -> None:
        """Store this step's rewards; at an inner boundary take one A2C step per learner."""
        self._buf["rew"].append(reward.reshape(-1).float())
        if not inner_done:
            return
        mb, b = self.learner.meta_batch, self.group_size
        t = len(self._buf["rew"])
        obs = torch.stack(self._buf["obs"], 1).view(mb, b, t, -1)
        act = torch.stack(self._buf["act"], 1).view(mb, b, t)
        rew = torch.stack(self._buf["rew"], 1).view(mb, b, t)
        self.learner.update(InnerEpisodeBatch(obs, act, rew))
        self._buf = {"obs": [], "act": [], "rew": []}

    def as_coplayer(self, *, meta_batch: int, batch_size: int, device: Any = "cpu") -> NaiveLearner:
        """The same learners seated as co-players (the meta-environment updates them)."""
        return self._new_learner(meta_batch, device)

    # -- persistence -----------------------------------------------------------------------

    def save(self, path: str | Path, **extra: Any) -> Path:
        """Write the configuration atomically (the initial population is rebuilt from ``config.init_seed``;
        a custom ``init_state`` is saved with it)."""
        from social_dilemmas.baselines.checkpoint import save_atomic

        return save_atomic({"kind": CHECKPOINT_KIND, "config": dataclasses.asdict(self.config),
                            "obs_dim": self.obs_dim, "num_actions": self.num_actions,
                            "init_model": self.init_state, **extra}, path)

    @classmethod
    def load(cls, path: str | Path, name: str = "naive-baseline") -> NaiveLearnerPolicy:
        from social_dilemmas.baselines.checkpoint import load

        state = load(path, required=("kind", "config", "obs_dim", "num_actions"))
        if state.get("kind") != CHECKPOINT_KIND:
            raise ValueError(f"{path} is not a naive-learner checkpoint (kind {state.get('kind')!r})")
        cfg = dict(state["config"])
        cfg["adam_betas"] = tuple(cfg["adam_betas"])
        return cls(NaiveConfig(**cfg), state["obs_dim"], state["num_actions"], init_state=state["init_model"],
                   name=name)
