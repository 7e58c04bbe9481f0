"""The single-agent Gymnasium face: agent 0 of a game against fixed co-players.

``gym.make("social_dilemmas/IPD-v0", opponent="tit_for_tat")`` builds a
:class:`SingleAgentEnv`: the learner ("ego") is agent 0 of a batch-1 core; every other
agent is played by the same co-player strategy, resolved with
:func:`social_dilemmas.coplayers.fixed.make_strategy` (a strategy name, 5 cooperation
probabilities for the 2x2 games, or any object with ``action_probs``). Co-player actions
are sampled with the sub-environment's own random stream
(``state.rng.uniform(COPLAYER_STREAM)``), so a seeded episode is fully deterministic and
equals sub-environment ``i`` of a :class:`~social_dilemmas.adapters.gymnasium_vector.BatchedVectorEnv`
reset with ``seed - i``.

:class:`EgoBatch` is the engine both Gymnasium faces share: it holds the batched state,
the co-player memory and the latest observations, and turns ego actions ``[N]`` into
joint actions ``[N, A]``.

Episode end: the core truncates after ``max_steps`` rounds. Stepping again before
``reset()`` raises :class:`EpisodeEndedError` (the core runs with ``autoreset=False``).
Under ``gym.make`` the view is a :class:`RegisteredSingleAgentEnv`: it has no time limit of its
own and Gymnasium's ``TimeLimit`` ends the episode, at ``max_episode_steps`` (registered as the
game's ``T``), so ``gym.make(id, max_episode_steps=k)`` and ``gym.make_vec(id, ...,
max_episode_steps=k)`` in every vectorization mode play ``k``-step episodes.
An unseeded ``reset()`` continues the random stream of the previous episode; a seeded one
restarts it, so ``reset(seed=s)`` always replays the same episode.
"""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces

from social_dilemmas.coplayers.fixed import make_strategy
from social_dilemmas.core.game import COPLAYER_STREAM, BatchedGame, GameSpec, StepOutput
from social_dilemmas.core.rng import check_seed, sample_categorical
from social_dilemmas.core.tree import tree_where
from social_dilemmas.core.validation import MAX_BATCH, check_options, check_positive_int
from social_dilemmas.registration import EnvEntry, get_entry, make_game

#: Frames per second declared to renderers (text and small grids need no more).
DEFAULT_RENDER_FPS = 4
#: Every render mode a face may offer; instances narrow this to what their game supports.
ALL_RENDER_MODES = ("human", "ansi", "rgb_array")


class EpisodeEndedError(RuntimeError):
    """``step()`` was called after the episode ended and before ``reset()``."""


def render_modes_of(game: BatchedGame) -> list[str]:
    """The render modes a face offers for ``game``: the game's own, plus ``"human"``
    (printing the ``"ansi"`` text) when it can draw text."""
    modes = [m for m in game.render_modes if m in ("ansi", "rgb_array")]
    if "ansi" in modes:
        modes.insert(0, "human")
    return modes


def render_fps_of(game: BatchedGame) -> int | float:
    return getattr(game, "render_fps", DEFAULT_RENDER_FPS)


def check_render_mode(render_mode: str | None, allowed: list[str], env_id: str) -> str | None:
    if render_mode is not None and render_mode not in allowed:
        raise ValueError(f"render_mode must be None or one of {allowed} for {env_id}; got {render_mode!r}")
    return render_mode


def observation_box(spec: GameSpec) -> spaces.Box:
    """The per-agent observation space of a game."""
    return spaces.Box(low=spec.obs_low, high=spec.obs_high, shape=tuple(spec.obs_shape), dtype=np.float32)


def resolve_coplayer(opponent: Any, entry: EnvEntry, spec: GameSpec) -> Any:
    """The co-player policy for ``opponent`` (``None`` means the entry's default)."""
    obs_dim = int(np.prod(spec.obs_shape))
    policy = make_strategy(entry.default_opponent if opponent is None else opponent, spec.num_actions, obs_dim)
    n = getattr(policy, "num_actions", spec.num_actions)
    if n != spec.num_actions:
        raise ValueError(
            f"opponent {policy!r} plays {n} actions but {entry.id} has {spec.num_actions} "
            f"({', '.join(spec.action_meanings)})"
        )
    return policy


def check_ego_action(action: Any, num_actions: int, meanings: tuple[str, ...]) -> int:
    """``action`` as an int in ``[0, num_actions)``; accepts Python and NumPy integers and
    0-d integer arrays, rejects everything else with an error naming ``action``."""
    allowed = f"an integer in [0, {num_actions}) ({', '.join(f'{i}={m}' for i, m in enumerate(meanings))})"
    value = action
    if isinstance(value, (np.ndarray, torch.Tensor)):
        if tuple(value.shape) != ():
            raise ValueError(f"action must be {allowed}, a scalar; got an array of shape {tuple(value.shape)}")
        if isinstance(value, torch.Tensor):
            is_int = not (value.dtype.is_floating_point or value.is_complex() or value.dtype == torch.bool)
        else:
            is_int = np.issubdtype(value.dtype, np.integer)
        if not is_int:
            raise TypeError(f"action must be {allowed}; got {value!r} of dtype {value.dtype}")
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"action must be {allowed}; got {action!r} ({type(action).__name__})")
    value = int(value)
    if not 0 <= value < num_actions:
        raise ValueError(f"action must be {allowed}; got {value}")
    return value


def single_info(tensors: dict[str, torch.Tensor], index: int = 0) -> dict[str, Any]:
    """The info dict of sub-environment ``index``: Python scalars for ``[N]`` tensors,
    NumPy arrays for ``[N, ...]`` ones."""
    out: dict[str, Any] = {}
    for k, t in tensors.items():
        v = t[index]
        out[k] = v.item() if v.dim() == 0 else v.detach().cpu().numpy().copy()
    return out


class EgoBatch:
    """Agent 0 of ``num_envs`` sub-environments of ``env_id`` against co-players.

    Holds the core state, the latest observations ``[N, A, *obs_shape]`` and the co-player
    memory. Faces decide when to reset; this class never autoresets.
    """

    def __init__(self, env_id: str, num_envs: int, opponent: Any = None, device: Any = "cpu", **game_kwargs: Any):
        self.entry = get_entry(env_id)
        self.num_envs = check_positive_int("num_envs", num_envs, MAX_BATCH)
        self.game: BatchedGame = make_game(env_id, device=device, **game_kwargs)
        self.spec: GameSpec = self.game.spec
        self.device = self.game.device
        self.num_coplayers = self.spec.num_agents - 1
        self.coplayer = resolve_coplayer(opponent, self.entry, self.spec) if self.num_coplayers else None
        self.state: Any = None
        self.obs: torch.Tensor | None = None
        self.memory: Any = None

    # ---------------------------------------------------------------- resets
    def seeded(self, seeds: torch.Tensor) -> tuple[Any, torch.Tensor]:
        """Fresh episodes from explicit seeds ``[N]``."""
        return self.game.reset(seeds)

    def continued(self, state: Any) -> tuple[Any, torch.Tensor]:
        """Fresh episodes continuing the random streams of ``state`` (an unseeded reset)."""
        return self.game.reset_from(state.rng)

    def commit_reset(self, mask: torch.Tensor | None, state: Any, obs: torch.Tensor) -> None:
        """Install fresh episodes where ``mask [N]`` is true (everywhere when ``None``)."""
        if mask is None or self.state is None:
            self.state, self.obs = state, obs
            if self.coplayer is not None:
                self.memory = self.coplayer.initial_memory(self.num_envs * self.num_coplayers, self.device)
            return
        self.state = tree_where(mask, state, self.state)
        self.obs = torch.where(mask.view(-1, *([1] * (obs.dim() - 1))), obs, self.obs)
        self.reset_memory(mask)

    def reset_memory(self, mask: torch.Tensor) -> None:
        if self.coplayer is not None:
            self.memory = self.coplayer.reset_memory(self.memory, mask.repeat_interleave(self.num_coplayers))

    # ---------------------------------------------------------------- stepping
    def coplayer_actions(self) -> torch.Tensor:
        """Co-player actions ``[N, A-1]`` for the current observations (advances their memory)."""
        n, k = self.num_envs, self.num_coplayers
        if k == 0:
            return torch.zeros(n, 0, dtype=torch.int64, device=self.device)
        obs = self.obs[:, 1:].reshape(n * k, *self.spec.obs_shape)  # type: ignore[index]
        probs, self.memory = self.coplayer.action_probs(obs, self.memory)  # type: ignore[union-attr]
        probs = probs.reshape(n, k, -1)
        rng = self.state.rng
        u = rng.uniform(COPLAYER_STREAM).unsqueeze(1) if k == 1 else rng.uniform(COPLAYER_STREAM, k)
        return sample_categorical(probs, u)

    def step(self, ego: torch.Tensor) -> tuple[Any, StepOutput, torch.Tensor]:
        """One joint step with ego actions ``[N]`` (validated by the caller).

        Returns ``(next_state, out, coplayer_actions [N, A-1])`` without committing the
        state, so faces can blend in resets first.
        """
        co = self.coplayer_actions()
        joint = torch.cat((ego.to(self.device, torch.int64).view(-1, 1), co), dim=1)
        nxt, out = self.game.step(self.state, joint, autoreset=False, validate=False)
        return nxt, out, co

    def info_tensors(self, out: StepOutput, co: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-step infos ``[N, ...]``: co-player actions and rewards plus the game's metrics."""
        info: dict[str, torch.Tensor] = {}
        if self.num_coplayers == 1:
            info["coplayer_action"] = co[:, 0]
            info["coplayer_reward"] = out.reward[:, 1]
        elif self.num_coplayers > 1:
            info["coplayer_action"] = co
            info["coplayer_reward"] = out.reward[:, 1:]
        for k, v in out.metrics.items():
            info[k] = v
        return info


class SingleAgentEnv(gym.Env[np.ndarray, np.int64]):
    """A registered game seen by agent 0, with every other agent played by ``opponent``.

    Args:
        env_id: a registered id (``"IPD-v0"`` or ``"social_dilemmas/IPD-v0"``).
        opponent: co-player strategy: a name from :mod:`social_dilemmas.coplayers.fixed`
            (``"tit_for_tat"``, ``"always_defect"``, ...), 5 cooperation probabilities for
            the 2x2 games, or a policy with ``action_probs``; ``None`` = the entry's default.
        render_mode: ``None``, ``"human"`` (prints the text picture), ``"ansi"`` or, for
            games that draw pictures, ``"rgb_array"``.
        device: torch device of the core (observations are always returned as NumPy).
        time_limit: end episodes after the game's ``max_steps`` rounds (default). ``False``
            leaves the time limit to a wrapper (Gymnasium's ``TimeLimit``; see
            :class:`RegisteredSingleAgentEnv`) and rejects ``max_steps``.
        **game_kwargs: arguments of the game over the registry defaults (e.g. ``max_steps``).

    Observation: ``Box(obs_low, obs_high, obs_shape, float32)`` from agent 0's side.
    Action: ``Discrete(num_actions)``. Reward: agent 0's reward. Info (deterministic):
    ``coplayer_action``, ``coplayer_reward`` and the game's per-step metrics.

    Example:
        >>> import gymnasium as gym, social_dilemmas
        >>> env = gym.make("social_dilemmas/IPD-v0", opponent="always_defect")
        >>> obs, info = env.reset(seed=0)
        >>> env.step(1)[1]      # defect against a defector
        0.0
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": list(ALL_RENDER_MODES), "render_fps": DEFAULT_RENDER_FPS}

    def __init__(
        self,
        env_id: str,
        opponent: Any = None,
        render_mode: str | None = None,
        device: Any = "cpu",
        time_limit: bool = True,
        **game_kwargs: Any,
    ) -> None:
        self.time_limit = bool(time_limit)
        if not self.time_limit and "max_steps" in game_kwargs:
            m = game_kwargs["max_steps"]
            raise ValueError(
                f"max_steps={m!r}: under gym.make the episode length is Gymnasium's time limit; pass "
                f"max_episode_steps={m!r} instead (gym.make / gym.make_vec, every vectorization mode)"
            )
        self._ego = EgoBatch(env_id, 1, opponent, device, **game_kwargs)
        game = self._ego.game
        self.metadata = {"render_modes": render_modes_of(game), "render_fps": render_fps_of(game)}
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"], self._ego.entry.id)
        spec = self._ego.spec
        self.observation_space = observation_box(spec)
        self.action_space = spaces.Discrete(spec.num_actions)
        self._ended = False

    @property
    def game(self) -> BatchedGame:
        """The batched core (batch size 1)."""
        return self._ego.game

    @property
    def coplayer(self) -> Any:
        return self._ego.coplayer

    def _ego_obs(self) -> np.ndarray:
        return self._ego.obs[0, 0].detach().cpu().numpy().astype(np.float32, copy=True)  # type: ignore[index]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        check_options(options)
        if seed is not None:
            seed = check_seed("seed", seed)
        super().reset(seed=seed)
        ego = self._ego
        if seed is not None:
            state, obs = ego.seeded(torch.tensor([seed], dtype=torch.int64))
        elif ego.state is not None:
            state, obs = ego.continued(ego.state)
        else:  # first, unseeded reset: a seed from Gymnasium's (entropy-seeded) generator
            state, obs = ego.seeded(torch.tensor([int(self.np_random.integers(0, 2**62))], dtype=torch.int64))
        ego.commit_reset(None, state, obs)
        self._ended = False
        if self.render_mode == "human":
            self.render()
        return self._ego_obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        ego = self._ego
        if ego.state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        if self._ended:
            raise EpisodeEndedError(
                f"the episode of {ego.entry.id} has ended (terminated or truncated after {ego.game.max_steps} "
                "steps): call reset() before step()"
            )
        a = check_ego_action(action, ego.spec.num_actions, ego.spec.action_meanings)
        nxt, out, co = ego.step(torch.tensor([a], dtype=torch.int64))
        ego.state, ego.obs = nxt, out.obs
        terminated = bool(out.terminated[0])
        truncated = bool(out.truncated[0]) and self.time_limit
        self._ended = terminated or truncated
        info = single_info(ego.info_tensors(out, co))
        if self.render_mode == "human":
            self.render()
        return self._ego_obs(), float(out.reward[0, 0]), terminated, truncated, info

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn(
                "render() was called without a render_mode; pass render_mode= to gym.make "
                f"(one of {self.metadata['render_modes']})"
            )
            return None
        if self._ego.state is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        return self.game.render(self._ego.state, self.render_mode)

    def close(self) -> None:
        pass


class RegisteredSingleAgentEnv(SingleAgentEnv):
    """What ``gym.make("social_dilemmas/<game>")`` builds: a :class:`SingleAgentEnv` without a time
    limit of its own (``time_limit=False``).

    Gymnasium's ``TimeLimit`` ends its episodes: the ids are registered with
    ``max_episode_steps`` = the game's ``T``, and ``gym.make(id, max_episode_steps=k)`` plays
    ``k`` rounds, the same length as ``gym.make_vec(id, ..., max_episode_steps=k)`` in the
    ``sync``, ``async`` and ``vector_entry_point`` modes. ``max_steps`` is refused here, with a
    message naming ``max_episode_steps``.
    """

    def __init__(self, env_id: str, opponent: Any = None, render_mode: str | None = None, device: Any = "cpu",
                 **game_kwargs: Any) -> None:
        super().__init__(env_id, opponent, render_mode, device, time_limit=False, **game_kwargs)
