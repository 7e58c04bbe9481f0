"""The PettingZoo face: a native ``ParallelEnv`` over a batch-1 core, AEC by conversion.

Every environment module (``social_dilemmas/envs/ipd_v0.py`` ...) ends with::

    parallel_env, env, raw_env = module_factories("IPD-v0")

which gives the three factories PettingZoo users expect, following PettingZoo's own
``rps`` example: ``parallel_env(**kw)`` builds a :class:`BatchedParallelEnv`,
``raw_env(**kw)`` is ``parallel_to_aec(parallel_env(**kw))`` and ``env(**kw)`` adds
``AssertOutOfBoundsWrapper`` and ``OrderEnforcingWrapper``. The same factories are
registered in PettingZoo's registry (``pettingzoo.make("parallel", "social_dilemmas/IPD-v0")``).

Conventions (PettingZoo 1.25+): agents are ``player_0 ... player_{A-1}`` in the core's
order; spaces are built once and the same objects are returned on every call; ``state()``
is the core's global state; the episode is truncated after ``max_steps`` rounds (alias
``max_cycles``, which ``pettingzoo.make(..., max_cycles=...)`` passes), after which
``agents`` is empty; every live agent gets an info dict (the game's per-step metrics).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from pettingzoo import ParallelEnv
from pettingzoo.utils import wrappers
from pettingzoo.utils.conversions import parallel_to_aec

from social_dilemmas.adapters.gymnasium_env import (
    ALL_RENDER_MODES,
    DEFAULT_RENDER_FPS,
    check_ego_action,
    check_render_mode,
    observation_box,
    render_fps_of,
    render_modes_of,
    single_info,
)
from social_dilemmas.core.rng import check_seed
from social_dilemmas.core.validation import MAX_STEPS, check_options, check_positive_int
from social_dilemmas.registration import get_entry, make_game


def module_name(env_id: str) -> str:
    """The short, versioned module name of ``env_id`` (``"ipd_v0"``), PettingZoo's ``metadata["name"]``."""
    return get_entry(env_id).module.rsplit(".", 1)[-1]


class BatchedParallelEnv(ParallelEnv):
    """A registered game as a PettingZoo ``ParallelEnv`` (one game, all agents learning).

    Args:
        env_id: a registered id (``"IPD-v0"`` or ``"social_dilemmas/IPD-v0"``).
        render_mode: ``None``, ``"human"`` (prints the text picture), ``"ansi"`` or, for
            games that draw pictures, ``"rgb_array"``.
        device: torch device of the core.
        max_cycles: alias of ``max_steps`` (PettingZoo's name for the time limit).
        **game_kwargs: arguments of the game over the registry defaults (e.g. ``max_steps``).

    Example:
        >>> from social_dilemmas.envs import ipd_v0
        >>> env = ipd_v0.parallel_env()
        >>> obs, infos = env.reset(seed=0)
        >>> env.step({"player_0": 0, "player_1": 1})[1]
        {'player_0': -1.0, 'player_1': 2.0}
    """

    metadata: dict[str, Any] = {
        "name": "social_dilemmas",
        "render_modes": list(ALL_RENDER_MODES),
        "is_parallelizable": True,
        "render_fps": DEFAULT_RENDER_FPS,
    }

    def __init__(
        self,
        env_id: str,
        render_mode: str | None = None,
        device: Any = "cpu",
        max_cycles: int | None = None,
        **game_kwargs: Any,
    ) -> None:
        entry = get_entry(env_id)
        if max_cycles is not None:
            m = check_positive_int("max_cycles", max_cycles, MAX_STEPS)
            if "max_steps" in game_kwargs and game_kwargs["max_steps"] != m:
                raise ValueError(
                    f"max_cycles={m} and max_steps={game_kwargs['max_steps']!r} disagree; pass one of them"
                )
            game_kwargs = {**game_kwargs, "max_steps": m}
        self.entry = entry
        self.game = make_game(entry.id, device=device, **game_kwargs)
        spec = self.game.spec
        self.metadata = {
            "name": module_name(entry.id),
            "render_modes": render_modes_of(self.game),
            "is_parallelizable": True,
            "render_fps": render_fps_of(self.game),
        }
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"], entry.id)
        self.possible_agents = [f"player_{i}" for i in range(spec.num_agents)]
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        # Built once: parallel_api_test checks identity, and the seed tests seed these objects.
        self.observation_spaces = {a: observation_box(spec) for a in self.possible_agents}
        self.action_spaces = {a: spaces.Discrete(spec.num_actions) for a in self.possible_agents}
        low = getattr(spec, "state_low", spec.obs_low)
        high = getattr(spec, "state_high", spec.obs_high)
        self.state_space = spaces.Box(low=low, high=high, shape=tuple(spec.state_shape), dtype=np.float32)
        self._state: Any = None
        self._obs: torch.Tensor | None = None

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Box:
        try:
            return self.observation_spaces[agent]
        except KeyError:
            raise KeyError(f"unknown agent {agent!r}; agents are {self.possible_agents}") from None

    def action_space(self, agent: str) -> spaces.Discrete:
        try:
            return self.action_spaces[agent]
        except KeyError:
            raise KeyError(f"unknown agent {agent!r}; agents are {self.possible_agents}") from None

    # ------------------------------------------------------------------ API
    def _observations(self) -> dict[str, np.ndarray]:
        obs = self._obs[0].detach().cpu().numpy().astype(np.float32)  # type: ignore[index]
        return {a: obs[i].copy() for i, a in enumerate(self.possible_agents)}

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """Start an episode. ``seed`` replays it exactly; ``None`` continues the random stream
        of the previous episode (fresh entropy on the very first reset)."""
        check_options(options)
        if seed is not None:
            self._state, self._obs = self.game.reset([check_seed("seed", seed)])
        elif self._state is not None:
            self._state, self._obs = self.game.reset_from(self._state.rng)
        else:
            fresh = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(2))
            self._state, self._obs = self.game.reset([fresh])
        self.agents = self.possible_agents[:]
        if self.render_mode == "human":
            self.render()
        return self._observations(), {a: {} for a in self.agents}

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        """Step every live agent; ``actions`` maps each live agent to an integer action."""
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if not self.agents:
            raise RuntimeError(
                f"the episode of {self.entry.id} has ended (all agents are done): call reset() before step()"
            )
        if not isinstance(actions, dict):
            raise TypeError(f"actions must be a dict mapping each agent in {self.agents} to an action; got {actions!r}")
        missing = [a for a in self.agents if a not in actions]
        extra = [a for a in actions if a not in self.agents]
        if missing or extra:
            raise ValueError(
                f"actions must have exactly one entry per live agent {self.agents}; "
                f"missing {missing}, unexpected {extra}"
            )
        spec = self.game.spec
        joint = torch.tensor(
            [[check_ego_action(actions[a], spec.num_actions, spec.action_meanings) for a in self.possible_agents]],
            dtype=torch.int64,
            device=self.game.device,
        )
        self._state, out = self.game.step(self._state, joint, autoreset=False, validate=False)
        self._obs = out.obs
        live = self.agents
        obs = self._observations()
        reward = out.reward[0].tolist()
        terminated, truncated = bool(out.terminated[0]), bool(out.truncated[0])
        info = single_info(out.metrics)
        observations = {a: obs[a] for a in live}
        rewards = {a: float(reward[self._index[a]]) for a in live}
        terminations = {a: terminated for a in live}
        truncations = {a: truncated for a in live}
        infos = {a: dict(info) for a in live}
        if terminated or truncated:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def state(self) -> np.ndarray:
        """The global state (``state_space``), float32."""
        if self._state is None:
            raise RuntimeError("call reset() before state()")
        return self.game.global_state(self._state)[0].detach().cpu().numpy().astype(np.float32)

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gymnasium.logger.warn(
                f"render() was called without a render_mode; pass render_mode= (one of {self.metadata['render_modes']})"
            )
            return None
        if self._state is None:
            raise RuntimeError("call reset() before render()")
        return self.game.render(self._state, self.render_mode)

    def close(self) -> None:
        pass

    def __str__(self) -> str:
        return self.metadata["name"]


def module_factories(env_id: str) -> tuple[Callable[..., ParallelEnv], Callable[..., Any], Callable[..., Any]]:
    """``(parallel_env, env, raw_env)`` factories for the environment module of ``env_id``.

    All three accept the keyword arguments of :class:`BatchedParallelEnv` (``render_mode``,
    ``device``, ``max_cycles``, game arguments such as ``max_steps``).
    """
    entry = get_entry(env_id)
    name = module_name(entry.id)

    def parallel_env(**kwargs: Any) -> BatchedParallelEnv:
        return BatchedParallelEnv(entry.id, **kwargs)

    def raw_env(**kwargs: Any) -> Any:
        return parallel_to_aec(parallel_env(**kwargs))

    def env(**kwargs: Any) -> Any:
        aec = raw_env(**kwargs)
        aec = wrappers.AssertOutOfBoundsWrapper(aec)
        return wrappers.OrderEnforcingWrapper(aec)

    for fn, kind in ((parallel_env, "ParallelEnv"), (raw_env, "AEC env (no wrappers)"), (env, "AEC env")):
        fn.__qualname__ = fn.__name__
        fn.__module__ = entry.module
        fn.__doc__ = f"``{entry.full_id}`` ({name}) as a PettingZoo {kind}; keyword arguments as BatchedParallelEnv."
    return parallel_env, env, raw_env
