"""The native Gymnasium vector face: ``num_envs`` ego views stepped as one torch batch.

``gym.make_vec("social_dilemmas/IPD-v0", num_envs=4096, vectorization_mode="vector_entry_point")``
builds a :class:`BatchedVectorEnv`. It is a real :class:`gymnasium.vector.VectorEnv`
(``num_envs``, ``single_observation_space``/``single_action_space``, batched spaces,
``metadata["autoreset_mode"]``), but every step is a handful of batched torch operations
instead of a Python loop over sub-environments.

Equivalence with the single-agent face (tested): sub-environment ``i`` of a vector env
reset with ``seed=s`` behaves exactly like ``SingleAgentEnv`` reset with ``seed=s + i``,
across episodes; an autoreset is exactly an unseeded ``reset()`` of that single env. So the
observations, rewards, flags and infos equal those of
``gymnasium.vector.SyncVectorEnv([lambda: SingleAgentEnv(...)] * n)`` in every autoreset
mode, only faster.

Autoreset modes (``autoreset_mode=``: Gymnasium's ``NEXT_STEP`` (default), ``SAME_STEP``,
``DISABLED``) and outputs (``output="numpy"`` or ``"torch"``) are those of every torch-batched
face, described in :mod:`social_dilemmas.adapters.vector_base`; with ``output="torch"`` there
is no device synchronisation per step except for action validation, which ``validate=False``
switches off.

Episode length: ``max_episode_steps`` (what ``gym.make_vec`` passes, the registered ``T`` by
default) is the core's ``max_steps``, so ``gym.make_vec(id, ..., max_episode_steps=k)`` plays
``k``-step episodes in every vectorization mode, like ``gym.make(id, max_episode_steps=k)``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from social_dilemmas.adapters.gymnasium_env import EgoBatch, check_render_mode, observation_box, render_fps_of
from social_dilemmas.adapters.vector_base import Advance, TensorVectorEnv
from social_dilemmas.core.rng import check_seed
from social_dilemmas.core.tree import tree_where
from social_dilemmas.core.validation import check_int, check_options
from social_dilemmas.registration import get_entry


def _resolve_max_steps(env_id: str, max_episode_steps: Any, game_kwargs: dict[str, Any]) -> dict[str, Any]:
    """Reconcile ``max_episode_steps`` (what ``gym.make_vec`` passes to a vector entry point,
    the registered value by default) with the core's ``max_steps``.

    ``max_episode_steps`` equal to the registered default carries no information and is
    ignored; any other value is an alias of ``max_steps`` and must agree with it."""
    if max_episode_steps is None:
        return game_kwargs
    m = check_int("max_episode_steps", max_episode_steps)
    entry = get_entry(env_id)
    if m == entry.max_steps:
        return game_kwargs
    if "max_steps" in game_kwargs and game_kwargs["max_steps"] != m:
        raise ValueError(
            f"max_episode_steps={m} and max_steps={game_kwargs['max_steps']!r} disagree; pass one of them "
            "(the core truncates after max_steps rounds)"
        )
    return {**game_kwargs, "max_steps": m}


class BatchedVectorEnv(TensorVectorEnv):
    """``num_envs`` single-agent views of ``env_id`` on one batched core.

    Args:
        env_id: a registered id.
        num_envs: number of sub-environments (>= 1).
        opponent: co-player strategy for every sub-environment (see
            :class:`~social_dilemmas.adapters.gymnasium_env.SingleAgentEnv`).
        device: torch device of the core.
        output: ``"numpy"`` or ``"torch"`` (tensors on ``device``).
        autoreset_mode: an :class:`~gymnasium.vector.AutoresetMode` or its value.
        render_mode: ``None``, ``"ansi"`` or ``"rgb_array"`` (``render()`` returns one frame
            per sub-environment).
        validate: check actions (costs one device synchronisation per step).
        max_episode_steps: what ``gym.make_vec`` passes; an alias of ``max_steps``.
        **game_kwargs: arguments of the game (e.g. ``max_steps``).

    Example:
        >>> import gymnasium as gym, numpy as np, social_dilemmas
        >>> venv = gym.make_vec("social_dilemmas/IPD-v0", num_envs=3, vectorization_mode="vector_entry_point")
        >>> obs, infos = venv.reset(seed=0)
        >>> obs.shape
        (3, 5)
        >>> venv.step(np.zeros(3, dtype=np.int64))[1]     # cooperate with tit-for-tat
        array([1., 1., 1.])
    """

    def __init__(
        self,
        env_id: str,
        num_envs: int = 1,
        opponent: Any = None,
        device: Any = "cpu",
        output: str = "numpy",
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        validate: bool = True,
        max_episode_steps: int | None = None,
        **game_kwargs: Any,
    ) -> None:
        game_kwargs = _resolve_max_steps(env_id, max_episode_steps, game_kwargs)
        self._ego = EgoBatch(env_id, num_envs, opponent, device, **game_kwargs)
        ego = self._ego
        self.validate = bool(validate)
        modes = [m for m in ego.game.render_modes if m in ("ansi", "rgb_array")]
        self._setup_vector(ego.num_envs, ego.device, output, autoreset_mode,
                           {"render_modes": modes, "render_fps": render_fps_of(ego.game)})
        self.render_mode = check_render_mode(render_mode, modes, ego.entry.id)
        self.single_observation_space = observation_box(ego.spec)
        self.single_action_space = spaces.Discrete(ego.spec.num_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    # ------------------------------------------------------------------ properties
    @property
    def game(self):
        """The batched core."""
        return self._ego.game

    @property
    def coplayer(self) -> Any:
        return self._ego.coplayer

    # ------------------------------------------------------------------ reset
    def _seeds(self, seed: Any) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """``(seeds [N] or None, has_seed [N] bool or None)`` for ``reset(seed=...)``."""
        n = self.num_envs
        if seed is None:
            return None, None
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
            return torch.arange(n, dtype=torch.int64) + check_seed("seed", seed, n), None
        seeds = list(seed) if isinstance(seed, (list, tuple, np.ndarray, torch.Tensor)) else None
        if seeds is None or len(seeds) != n:
            raise ValueError(
                f"seed must be None, an int, or a list of {n} ints/None (one per sub-environment); got {seed!r}"
            )
        has = torch.tensor([s is not None for s in seeds])
        vals = [check_seed(f"seed[{i}]", s) if s is not None else 0 for i, s in enumerate(seeds)]
        return torch.tensor(vals, dtype=torch.int64), (None if bool(has.all()) else has)

    def reset(
        self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset every sub-environment (or those in ``options["reset_mask"]``).

        ``seed=s`` gives sub-environment ``i`` the seed ``s + i``; a list sets each seed
        (``None`` entries reset unseeded); ``seed=None`` continues every random stream
        (the very first unseeded reset draws seeds from ``np_random``).
        """
        ego, n = self._ego, self.num_envs
        mask = None
        check_options(options, ("reset_mask",))
        if options is not None and "reset_mask" in options:
            mask = self._reset_mask(options["reset_mask"])
        seeds, has_seed = self._seeds(seed)
        if isinstance(seed, (int, np.integer)):
            super().reset(seed=int(seed))  # seeds np_random, as SyncVectorEnv's does
        if ego.state is None and (seeds is None or has_seed is not None):
            # Nothing to continue yet: draw base seeds from np_random (entropy unless seeded).
            base = torch.arange(n, dtype=torch.int64) + int(self.np_random.integers(0, 2**62))
            seeds = base if seeds is None else torch.where(has_seed, seeds, base)  # type: ignore[arg-type]
            has_seed = None
        if seeds is None:
            state, obs = ego.continued(ego.state)
        else:
            state, obs = ego.seeded(seeds)
            if has_seed is not None:
                c_state, c_obs = ego.continued(ego.state)
                hs = has_seed.to(self.device)
                state = tree_where(hs, state, c_state)
                obs = torch.where(hs.view(-1, *([1] * (obs.dim() - 1))), obs, c_obs)
        ego.commit_reset(mask, state, obs)
        self._after_reset(mask)
        return self._out(ego.obs[:, 0], "obs"), {}  # type: ignore[index]

    # ------------------------------------------------------------------ step
    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        if self._ego.state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        spec = self._ego.spec
        return self._step_tensors(self._actions(actions, spec.num_actions, spec.action_meanings))

    def _advance(self, actions: torch.Tensor, restart: torch.Tensor) -> Advance:
        ego = self._ego
        prev_state = ego.state
        nxt, out, co = ego.step(actions)
        info_t = ego.info_tensors(out, co)
        ego.state, ego.obs = nxt, out.obs
        if self.autoreset_mode == AutoresetMode.NEXT_STEP and (self.device.type != "cpu" or bool(restart.any())):
            # As SyncVectorEnv: an unseeded reset of the sub-environments that ended last step.
            f_state, f_obs = ego.continued(prev_state)
            ego.commit_reset(restart, f_state, f_obs)
        return Advance(ego.obs[:, 0], out.reward[:, 0], out.terminated, out.truncated, info_t)  # type: ignore[index]

    def _restart_now(self, done: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        ego = self._ego
        f_state, f_obs = ego.continued(ego.state)
        ego.commit_reset(done, f_state, f_obs)
        return ego.obs[:, 0]  # type: ignore[index]

    # ------------------------------------------------------------------ render / close
    def render(self) -> tuple[Any, ...] | None:
        """One frame per sub-environment (``str`` for ``"ansi"``, ``uint8 [H, W, 3]`` for ``"rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn(f"render() was called without a render_mode (one of {self.metadata['render_modes']})")
            return None
        if self._ego.state is None:
            raise gym.error.ResetNeeded("call reset() before render()")
        draw = self.game.render_rgb if self.render_mode == "rgb_array" else self.game.render_ansi
        return tuple(draw(self._ego.state, i) for i in range(self.num_envs))

    def __repr__(self) -> str:
        return (
            f"BatchedVectorEnv({self._ego.entry.full_id}, num_envs={self.num_envs}, device={self.device}, "
            f"output={self.output!r}, autoreset_mode={self.autoreset_mode.value})"
        )
