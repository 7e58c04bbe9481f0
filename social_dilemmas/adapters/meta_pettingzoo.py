"""PettingZoo parallel face of a meta-episode between two long-context agents.

Two learning-aware (meta) agents play each other for a whole meta-episode: ``M`` inner
episodes of ``T`` steps (``T`` = the game's ``max_steps``), each agent acting in its own batch
of ``B`` parallel games (the paper's §2.3: the ego policy is batch-factorised, so the same policy
plays batched against naive learners or against another agent). Nobody learns inside the
meta-episode; what matters is that *neither agent's memory is reset at inner boundaries*:
the environment only reports them.

* ``possible_agents = ["player_0", "player_1"]``; ``player_0`` is the game's agent 0.
* Observations are each agent's own (self-first) view. With ``batch_size=None`` (default) one
  game: ``Box(obs)`` observations, ``Discrete(A)`` actions, float rewards. With an integer
  ``batch_size=B``: ``Box((B, *obs))`` observations, ``MultiDiscrete([A] * B)`` actions and
  ``float32[B]`` rewards (one entry per game).
* Inner boundaries: ``infos[agent]["inner_episode_done"]`` (bool) and
  ``infos[agent]["inner_episode"]`` (the index ``m`` of the inner episode the step belonged to).
  The games restart inside the step that ends an inner episode (the next observation is the
  first of the new inner episode).
* The meta-episode end (after ``M T`` steps) is a termination for both agents; ``agents``
  becomes empty and :meth:`reset` starts the next meta-episode.
* Optional history channels (``history=``) as in :mod:`social_dilemmas.wrappers.history`, from
  each agent's own point of view.
* Rendering (``render_mode=``): ``"human"`` (prints the text), ``"ansi"`` (the inner-episode
  index and game 0's text) and, for games that draw pictures, ``"rgb_array"`` (game 0).
* AEC: :func:`env` / :func:`raw_env` (PettingZoo's ``parallel_to_aec``) for the one-game form
  only: with ``batch_size=B`` the rewards are arrays (one per game), which the AEC API (scalar
  rewards) cannot carry, so those factories refuse it with a message; the batched form is
  parallel-only (:func:`parallel_env`).

Example::

    from social_dilemmas.adapters.meta_pettingzoo import MetaParallelEnv
    env = MetaParallelEnv("IPD-v0", num_inner_episodes=20, batch_size=16)
    obs, infos = env.reset(seed=0)
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from pettingzoo import ParallelEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec

from social_dilemmas.adapters.gymnasium_env import check_render_mode, render_fps_of, render_modes_of
from social_dilemmas.core.rng import seeds_for_batch
from social_dilemmas.core.validation import MAX_BATCH, MAX_STEPS, check_options, check_positive_int
from social_dilemmas.registration import get_entry, make_game
from social_dilemmas.wrappers.history import HistoryChannels, parse_history
from social_dilemmas.wrappers.shaping import _reward_bounds

__all__ = ["MetaParallelEnv", "env", "parallel_env", "raw_env"]


class MetaParallelEnv(ParallelEnv):
    """A meta-episode (``M`` inner episodes) between two long-context agents, ``B`` games each.

    Args:
        game: registered two-player game id (default ``"IPD-v0"``).
        num_inner_episodes: ``M`` (default 20).
        batch_size: ``None`` for one game with plain spaces, or ``B >= 1`` for batched spaces.
        history: optional history channels.
        device: torch device of the simulation.
        render_mode: ``None``, ``"human"``, ``"ansi"`` or, for games that draw pictures,
            ``"rgb_array"`` (game 0).
        **game_kwargs: options of the game (e.g. ``max_steps``).
    """

    metadata = {"name": "meta_episode_v0", "render_modes": ["human", "ansi", "rgb_array"], "is_parallelizable": True,
                "render_fps": 4}

    def __init__(
        self,
        game: str = "IPD-v0",
        num_inner_episodes: int = 20,
        batch_size: int | None = None,
        history: Any = (),
        device: torch.device | str = "cpu",
        render_mode: str | None = None,
        **game_kwargs: Any,
    ) -> None:
        self.game_id = get_entry(game).id
        self.game = make_game(self.game_id, device=device, **game_kwargs)
        spec = self.game.spec
        if spec.num_agents != 2:
            raise ValueError(f"a meta-episode face needs a two-player game; {spec.name} has {spec.num_agents} agents")
        self.num_inner_episodes = check_positive_int("num_inner_episodes", num_inner_episodes, MAX_STEPS)
        self.batched = batch_size is not None
        self.batch_size = 1 if batch_size is None else check_positive_int("batch_size", batch_size, MAX_BATCH)
        self.metadata = {**type(self).metadata, "render_modes": render_modes_of(self.game),
                         "render_fps": render_fps_of(self.game)}
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"], f"{self.game_id} meta-episode")
        self.history = HistoryChannels(parse_history(history), spec.num_actions, self.num_inner_episodes,
                                       _reward_bounds(self.game))
        if self.history and len(spec.obs_shape) != 1:
            raise ValueError(f"history channels need a flat (1-D) game observation; {spec.name} has {spec.obs_shape}")
        self.possible_agents = ["player_0", "player_1"]
        self.agents: list[str] = []
        self.inner_episode_length = self.game.max_steps
        low = np.broadcast_to(np.asarray(spec.obs_low, np.float32), spec.obs_shape).reshape(-1)
        high = np.broadcast_to(np.asarray(spec.obs_high, np.float32), spec.obs_shape).reshape(-1)
        if self.history:
            low, high = np.concatenate([low, self.history.low]), np.concatenate([high, self.history.high])
            shape: tuple[int, ...] = (low.shape[0],)
        else:
            shape = tuple(spec.obs_shape)
        low, high = low.reshape(shape), high.reshape(shape)
        if self.batched:
            b = self.batch_size
            self._obs_space = gym.spaces.Box(np.broadcast_to(low, (b, *shape)).copy(),
                                             np.broadcast_to(high, (b, *shape)).copy(), dtype=np.float32)
            self._act_space: gym.Space = gym.spaces.MultiDiscrete([spec.num_actions] * b)
            self._state_space = gym.spaces.Box(-np.inf, np.inf, (b, *spec.state_shape), np.float32)
        else:
            self._obs_space = gym.spaces.Box(low, high, dtype=np.float32)
            self._act_space = gym.spaces.Discrete(spec.num_actions)
            self._state_space = gym.spaces.Box(-np.inf, np.inf, tuple(spec.state_shape), np.float32)
        self._state: Any = None
        self._m = 0
        self._t = 0

    @functools.cache  # noqa: B019 - spaces must be the identical object on every call
    def observation_space(self, agent: str) -> gym.Space:
        return self._obs_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gym.Space:
        return self._act_space

    @property
    def state_space(self) -> gym.Space:
        return self._state_space

    def state(self) -> np.ndarray:
        s = self.game.global_state(self._state).cpu().numpy()
        return s if self.batched else s[0]

    # ------------------------------------------------------------------ API

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        b = self.batch_size
        check_options(options)
        if seed is None and self._state is not None:
            self._state, obs = self.game.reset_from(self._state.rng)
        else:
            self._state, obs = self.game.reset(seeds_for_batch(seed, b, "game of the batch").to(self.game.device))
        self.agents = list(self.possible_agents)
        self._m, self._t = 0, 0
        observations = self._observe(obs, None, None, inner_start=True)
        infos = {a: {"inner_episode_done": False, "inner_episode": 0} for a in self.agents}
        return observations, infos

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError("the meta-episode has ended: call reset() before stepping again")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(f"actions are missing for {missing}")
        acts = torch.stack([self._action(a, actions[a]) for a in self.possible_agents], dim=1)
        self._state, out = self.game.step(self._state, acts.to(self.game.device), autoreset=True, validate=False)
        m = self._m
        self._t += 1
        inner_done = self._t == self.inner_episode_length
        if inner_done:
            if not bool(out.done.all()):
                raise RuntimeError(f"{self.game_id}: a game ended before T={self.inner_episode_length}")
            self._m, self._t = m + 1, 0
        meta_done = inner_done and self._m == self.num_inner_episodes
        observations = self._observe(out.obs if not meta_done else out.final_obs, acts, out.reward,
                                     inner_start=inner_done and not meta_done)
        rew = out.reward.cpu().numpy()
        rewards = {a: (rew[:, i].astype(np.float32) if self.batched else float(rew[0, i]))
                   for i, a in enumerate(self.possible_agents)}
        terms = {a: meta_done for a in self.possible_agents}
        truncs = {a: False for a in self.possible_agents}
        infos = {a: {"inner_episode_done": inner_done, "inner_episode": m} for a in self.possible_agents}
        if meta_done:
            self.agents = []
        return observations, rewards, terms, truncs, infos

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode")
            return None
        if self._state is None:
            raise RuntimeError("call reset() before render()")
        if self.render_mode == "rgb_array":
            return self.game.render_rgb(self._state, 0)
        text = f"inner episode {self._m}/{self.num_inner_episodes}\n" + self.game.render_ansi(self._state, 0)
        if self.render_mode == "human":
            print(text, end="" if text.endswith("\n") else "\n")
            return None
        return text

    def close(self) -> None:
        pass

    # ------------------------------------------------------------------ helpers

    def _action(self, agent: str, a: Any) -> torch.Tensor:
        arr = np.asarray(a)
        if arr.dtype.kind not in "iu":
            raise ValueError(f"{agent}: actions must be integers in [0, {self.game.spec.num_actions}), got {a!r}")
        want = (self.batch_size,) if self.batched else ()
        if arr.shape != want:
            raise ValueError(f"{agent}: action must have shape {want}, got {arr.shape}")
        if ((arr < 0) | (arr >= self.game.spec.num_actions)).any():
            raise ValueError(f"{agent}: actions must lie in [0, {self.game.spec.num_actions}), got {a!r}")
        return torch.as_tensor(arr.reshape(self.batch_size), dtype=torch.int64)

    def _observe(self, obs: torch.Tensor, acts: torch.Tensor | None, rew: torch.Tensor | None, *, inner_start: bool):
        b = self.batch_size
        out = {}
        for i, agent in enumerate(self.possible_agents):
            o = obs[:, i].reshape(b, -1) if self.history else obs[:, i]
            if self.history:
                feats = self.history.features(
                    b, obs.device,
                    prev_own=None if acts is None else acts[:, i],
                    prev_coplayer=None if acts is None else acts[:, 1 - i],
                    prev_reward=None if rew is None else rew[:, i], inner_start=inner_start,
                    inner_index=min(self._m, self.num_inner_episodes - 1),
                )
                o = torch.cat([o, feats.to(o.device)], dim=1)
            arr = o.cpu().numpy().astype(np.float32)
            out[agent] = arr if self.batched else arr[0]
        return out


def parallel_env(**kwargs: Any) -> MetaParallelEnv:
    """Factory: ``MetaParallelEnv(**kwargs)``."""
    return MetaParallelEnv(**kwargs)


def raw_env(**kwargs: Any) -> Any:
    """The one-game meta-episode as a PettingZoo AEC env (``parallel_to_aec``); refuses ``batch_size``."""
    b = kwargs.get("batch_size")
    if b is not None:
        raise ValueError(
            f"batch_size={b!r}: the batched meta-episode has array rewards (one per game), which the AEC API "
            "cannot carry; use parallel_env(batch_size=...) for it, or env() with batch_size=None (one game)"
        )
    return parallel_to_aec(MetaParallelEnv(**kwargs))


def env(**kwargs: Any) -> Any:
    """:func:`raw_env` with PettingZoo's ``AssertOutOfBoundsWrapper`` and ``OrderEnforcingWrapper``."""
    return wrappers.OrderEnforcingWrapper(wrappers.AssertOutOfBoundsWrapper(raw_env(**kwargs)))
