"""Gymnasium faces of the co-player shaping meta-environment (learning co-players).

The user's page is :mod:`social_dilemmas.envs.shaping_v0` (ids, arguments, spaces, boundaries,
autoreset modes, ``num_envs``). Here:

- :class:`ShapingVectorEnv` — ``gym.make_vec("social_dilemmas/<Game>-Shaping-v0", ...,
  vectorization_mode="vector_entry_point")``: ``meta_batch x B`` ego games as one native
  :class:`gymnasium.vector.VectorEnv` (slot-major: sub-env ``j * B + b`` is game ``b`` against
  co-player ``j``), in any of Gymnasium's autoreset modes through the same code as the games'
  vector face (:class:`~social_dilemmas.adapters.vector_base.TensorVectorEnv`);
- :class:`ShapingEnv` — ``gym.make(...)`` and the ``sync``/``async`` modes: one ego game against
  one co-player (``meta_batch = B = 1``);
- :func:`make_sb3_vec_env` — a Stable-Baselines3 ``VecEnv`` over a :class:`ShapingVectorEnv`;
- :func:`resolve_geometry` and :func:`meta_episode_summary`, shared by the three.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from social_dilemmas.adapters.gymnasium_env import check_render_mode, render_fps_of, render_modes_of
from social_dilemmas.adapters.vector_base import Advance, TensorVectorEnv, parse_autoreset_mode
from social_dilemmas.core.validation import MAX_BATCH, check_options, check_positive_int
from social_dilemmas.wrappers.shaping import MetaStepOutput, ShapingMetaEnv

__all__ = ["ShapingEnv", "ShapingVectorEnv", "make_sb3_vec_env", "meta_episode_summary", "resolve_geometry"]

#: Prefix of the per-meta-episode statistics in the infos of the step that ends a meta-episode.
META_PREFIX = "meta_episode/"


def resolve_geometry(num_envs: int | None, meta_batch: int | None, batch_size: int | None) -> tuple[int, int]:
    """``(meta_batch, batch_size)`` from any two of ``num_envs = meta_batch * batch_size``.

    With ``num_envs`` alone every sub-environment has a co-player of its own (``batch_size = 1``,
    ``meta_batch = num_envs``): the same experiment as ``num_envs`` single-agent views
    (``vectorization_mode="sync"``). Nothing given: one game against one co-player.
    """
    if num_envs is not None:
        num_envs = check_positive_int("num_envs", num_envs, MAX_BATCH)
    if meta_batch is not None:
        meta_batch = check_positive_int("meta_batch", meta_batch, MAX_BATCH)
    if batch_size is not None:
        batch_size = check_positive_int("batch_size", batch_size, MAX_BATCH)
    if meta_batch is not None and batch_size is not None:
        if num_envs is not None and num_envs != meta_batch * batch_size:
            raise ValueError(f"num_envs={num_envs} must equal meta_batch * batch_size = {meta_batch} * {batch_size}")
        return meta_batch, batch_size
    n = 1 if num_envs is None else num_envs
    if meta_batch is None and batch_size is None:
        return n, 1
    given, name = (meta_batch, "meta_batch") if meta_batch is not None else (batch_size, "batch_size")
    if n % given:
        raise ValueError(f"num_envs={n} is not a multiple of {name}={given}")
    return (given, n // given) if name == "meta_batch" else (n // given, given)


def meta_episode_summary(stats: dict[str, torch.Tensor], batch_size: int) -> dict[str, torch.Tensor]:
    """Per-sub-environment statistics of a finished meta-episode, for its last step's infos.

    ``stats`` is :attr:`ShapingMetaEnv.last_meta_episode_stats` (``{name: [M, meta_batch, ...]}``);
    the result maps ``"meta_episode/<name>"`` to ``[meta_batch * B, M, ...]`` (one row per inner
    episode, the slot's value repeated over its ``B`` games).
    """
    return {f"{META_PREFIX}{k}": v.transpose(0, 1).repeat_interleave(batch_size, dim=0) for k, v in stats.items()}


class ShapingVectorEnv(TensorVectorEnv):
    """``meta_batch * B`` ego games against learning co-players, as a Gymnasium vector env.

    Args:
        num_envs: ``meta_batch * batch_size`` (see :func:`resolve_geometry`; alone, it is the
            number of co-players, one game each).
        game: registered game id (default ``"IPD-v0"``).
        meta_batch, batch_size: geometry of the meta-batch (``B`` = ``batch_size`` games per co-player).
        num_inner_episodes: ``M`` (default 20, the paper's IPD setting).
        coplayer, coplayer_kwargs, history, privileged_coplayer_params, update_at_last_boundary:
            as in :class:`~social_dilemmas.wrappers.shaping.ShapingMetaEnv`.
        device: torch device of the simulation.
        output: ``"numpy"`` (default) or ``"torch"``.
        autoreset_mode: Gymnasium's ``NEXT_STEP`` (default), ``SAME_STEP`` or ``DISABLED``.
        render_mode: ``None`` or one of the game's modes (``"ansi"``, ``"rgb_array"``):
            ``render()`` returns one frame per sub-environment.
        validate: check actions (one device synchronisation per step).
        max_episode_steps: refused: a meta-episode lasts ``M * T`` steps (set
            ``num_inner_episodes`` and ``max_steps``).
        **game_kwargs: options of the game (e.g. ``max_steps``, the inner-episode length ``T``).
    """

    def __init__(
        self,
        num_envs: int | None = None,
        game: str = "IPD-v0",
        *,
        meta_batch: int | None = None,
        batch_size: int | None = None,
        num_inner_episodes: int = 20,
        coplayer: Any = "naive",
        coplayer_kwargs: dict[str, Any] | None = None,
        history: Any = (),
        privileged_coplayer_params: bool = False,
        update_at_last_boundary: bool = False,
        device: torch.device | str = "cpu",
        output: str = "numpy",
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        render_mode: str | None = None,
        validate: bool = True,
        max_episode_steps: int | None = None,
        **game_kwargs: Any,
    ) -> None:
        _refuse_max_episode_steps(max_episode_steps)
        mb, b = resolve_geometry(num_envs, meta_batch, batch_size)
        self.validate = bool(validate)
        same_step = _is_same_step(autoreset_mode)
        self.meta_env = ShapingMetaEnv(
            game, coplayer, meta_batch=mb, batch_size=b, num_inner_episodes=num_inner_episodes, history=history,
            device=device, game_kwargs=game_kwargs, privileged_coplayer_params=privileged_coplayer_params,
            coplayer_kwargs=coplayer_kwargs, autoreset=same_step, update_at_last_boundary=update_at_last_boundary,
            validate=False,
        )
        g = self.meta_env.game
        modes = [m for m in g.render_modes if m in ("ansi", "rgb_array")]
        self._setup_vector(mb * b, self.meta_env.device, output, autoreset_mode,
                           {"render_modes": modes, "render_fps": render_fps_of(g)})
        self.render_mode = check_render_mode(render_mode, modes, f"{self.meta_env.game_id} shaping")
        self.single_observation_space = self.meta_env.single_observation_space
        self.single_action_space = self.meta_env.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._started = False
        self._fresh_obs: torch.Tensor | None = None  # SAME_STEP: the next meta-episode's first observation

    # -- convenience -------------------------------------------------------------------------

    @property
    def coplayer(self) -> Any:
        """The co-player object (for diagnostics)."""
        return self.meta_env.coplayer

    @property
    def meta_batch(self) -> int:
        return self.meta_env.meta_batch

    @property
    def batch_size(self) -> int:
        return self.meta_env.batch_size

    # -- the VectorEnv API -------------------------------------------------------------------

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        """Start a new meta-episode in every slot; ``seed`` int gives sub-env ``i`` seed ``seed + i``.

        ``options["reset_mask"]`` must select every sub-environment: their meta-episodes end
        together, and the co-player of a slot is shared by its ``B`` games.
        """
        check_options(options, ("reset_mask",))
        if options is not None and "reset_mask" in options:
            mask = self._reset_mask(options["reset_mask"])
            if not bool(mask.all()):
                raise ValueError(
                    "options['reset_mask'] must select every sub-environment: the meta-episodes of the shaping "
                    "meta-environment end together and a slot's co-player is shared by its games; call reset() "
                    "(all of them)"
                )
        if isinstance(seed, (list, tuple)) and all(s is None for s in seed):
            seed = None
        obs = self.meta_env.reset(seed=seed)  # validates seed
        if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            super().reset(seed=int(seed))  # seeds np_random, as SyncVectorEnv's does
        self._started = True
        self._after_reset(None)
        n = self.num_envs
        zeros = torch.zeros(n, dtype=torch.int64, device=self.device)
        info_t = {"inner_episode_done": zeros.bool(), "inner_episode": zeros}
        every = torch.ones(n, dtype=torch.bool, device=self.device)
        return self._out(obs.reshape(n, *obs.shape[2:]), "obs"), self._batched_infos(info_t, every)

    def step(self, actions: Any):
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        spec = self.meta_env.spec
        return self._step_tensors(self._actions(actions, spec.num_actions, spec.action_meanings))

    def _advance(self, actions: torch.Tensor, restart: torch.Tensor) -> Advance:
        n = self.num_envs
        if bool(restart.any()):  # NEXT_STEP after a meta-episode end (they all end together)
            obs = self.meta_env.reset(seed=None)  # continues every random stream
            false = torch.zeros(n, dtype=torch.bool, device=self.device)
            infos = {"inner_episode_done": false, "inner_episode": false.long()}
            return Advance(obs.reshape(n, *obs.shape[2:]), self._zero_reward, false, false, infos)
        out = self.meta_env.step(actions.view(self.meta_batch, self.batch_size))
        obs = out.final_obs if out.meta_boundary else out.obs
        if out.meta_boundary and self.meta_env.autoreset:
            self._fresh_obs = out.obs.reshape(n, *out.obs.shape[2:])
        term = out.meta_done.reshape(n)
        return Advance(obs.reshape(n, *obs.shape[2:]), out.reward.reshape(n), term, torch.zeros_like(term),
                       self._info_tensors(out))

    def _restart_now(self, done: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        # The meta-environment already started the next meta-episode (autoreset=True in SAME_STEP mode).
        fresh, self._fresh_obs = self._fresh_obs, None
        return obs if fresh is None else fresh

    def _info_tensors(self, out: MetaStepOutput) -> dict[str, torch.Tensor]:
        n, b = self.num_envs, self.batch_size
        info: dict[str, torch.Tensor] = {
            "inner_episode_done": out.inner_done.reshape(n),
            "inner_episode": out.inner_episode.reshape(n),
            "coplayer_reward": out.coplayer_reward.reshape(n),
            "coplayer_action": out.coplayer_action.reshape(n),
        }
        for k, v in out.metrics.items():
            info[k] = v.reshape(n, *v.shape[2:])
        for k, v in out.boundary_stats.items():  # per-slot statistics -> every sub-env of the slot
            info[k] = v.repeat_interleave(b, dim=0)
        if out.meta_boundary:
            info.update(meta_episode_summary(self.meta_env.last_meta_episode_stats, b))
        return info

    def render(self) -> tuple[Any, ...] | None:
        """One frame per sub-environment (``str`` for ``"ansi"``, ``uint8 [H, W, 3]`` for ``"rgb_array"``)."""
        if self.render_mode is None:
            gym.logger.warn(f"render() was called without a render_mode (one of {self.metadata['render_modes']})")
            return None
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before render()")
        g, state = self.meta_env.game, self.meta_env.game_state
        return tuple(g.render(state, self.render_mode, i) for i in range(self.num_envs))

    def close_extras(self, **kwargs: Any) -> None:
        self._started = False

    def __repr__(self) -> str:
        return (f"ShapingVectorEnv({self.meta_env!r}, num_envs={self.num_envs}, output={self.output}, "
                f"autoreset_mode={self.autoreset_mode.value})")


def _is_same_step(mode: Any) -> bool:
    return parse_autoreset_mode(mode) == AutoresetMode.SAME_STEP


def _refuse_max_episode_steps(max_episode_steps: Any) -> None:
    if max_episode_steps is not None:
        raise ValueError(
            f"max_episode_steps={max_episode_steps!r}: a meta-episode lasts num_inner_episodes * max_steps steps "
            "(M inner episodes of T); set num_inner_episodes= and max_steps= instead"
        )


class ShapingEnv(gym.Env):
    """Single-agent view: one ego game against one learning co-player (``meta_batch = B = 1``).

    An episode is one meta-episode of ``M T`` steps, ending with ``terminated=True``; the
    co-player learns from each single finished inner episode (``B = 1``, as in M-FOS). The
    inner boundary is ``info["inner_episode_done"]``; the last step's info also holds the
    meta-episode's statistics (``info["meta_episode/<name>"]``, one entry per inner episode, see
    :func:`meta_episode_summary`). Stepping after the end raises; call :meth:`reset`.
    ``meta_batch`` and ``batch_size`` are accepted only as 1 (``gym.make_vec(...,
    vectorization_mode="sync")`` of ``N`` views is ``N`` co-players with one game each).
    """

    metadata = {"render_modes": ["human", "ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        game: str = "IPD-v0",
        *,
        num_inner_episodes: int = 20,
        coplayer: Any = "naive",
        coplayer_kwargs: dict[str, Any] | None = None,
        history: Any = (),
        privileged_coplayer_params: bool = False,
        update_at_last_boundary: bool = False,
        device: torch.device | str = "cpu",
        render_mode: str | None = None,
        meta_batch: int | None = None,
        batch_size: int | None = None,
        **game_kwargs: Any,
    ) -> None:
        for name, value in (("meta_batch", meta_batch), ("batch_size", batch_size)):
            if value is not None and check_positive_int(name, value) != 1:
                raise ValueError(
                    f"{name}={value}: the single-agent view is one game against one co-player ({name} 1). For "
                    "B games per co-player use gym.make_vec(..., vectorization_mode='vector_entry_point', "
                    f"batch_size=B); num_envs alone means one co-player per sub-environment in every mode"
                )
        self.meta_env = ShapingMetaEnv(
            game, coplayer, meta_batch=1, batch_size=1, num_inner_episodes=num_inner_episodes, history=history,
            device=device, game_kwargs=game_kwargs, privileged_coplayer_params=privileged_coplayer_params,
            coplayer_kwargs=coplayer_kwargs, autoreset=False, update_at_last_boundary=update_at_last_boundary,
        )
        g = self.meta_env.game
        self.metadata = {"render_modes": render_modes_of(g), "render_fps": render_fps_of(g)}
        self.render_mode = check_render_mode(render_mode, self.metadata["render_modes"],
                                             f"{self.meta_env.game_id} shaping")
        self.observation_space = self.meta_env.single_observation_space
        self.action_space = self.meta_env.single_action_space
        self._started = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs = self.meta_env.reset(seed=seed)
        self._started = True
        if self.render_mode == "human":
            self.render()
        return obs[0, 0].cpu().numpy(), {"inner_episode_done": False, "inner_episode": 0}

    def step(self, action: Any):
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer, np.ndarray, torch.Tensor)):
            raise TypeError(f"action must be an integer in [0, {self.meta_env.num_actions}), got {action!r}")
        a = torch.as_tensor(np.asarray(action)).reshape(-1)
        if a.numel() != 1:
            raise ValueError(f"action must be a single integer, got shape {list(a.shape)}")
        out = self.meta_env.step(a.view(1, 1))
        info: dict[str, Any] = {
            "inner_episode_done": bool(out.inner_done[0, 0]),
            "inner_episode": int(out.inner_episode[0, 0]),
            "coplayer_action": int(out.coplayer_action[0, 0]),
            "coplayer_reward": float(out.coplayer_reward[0, 0]),
        }
        if out.meta_boundary:
            for k, v in meta_episode_summary(self.meta_env.last_meta_episode_stats, 1).items():
                info[k] = v[0].cpu().numpy()
        if self.render_mode == "human":
            self.render()
        return (out.obs[0, 0].cpu().numpy(), float(out.reward[0, 0]), bool(out.meta_done[0, 0]), False, info)

    def render(self) -> str | np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn(f"render() was called without a render_mode (one of {self.metadata['render_modes']})")
            return None
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before render()")
        return self.meta_env.game.render(self.meta_env.game_state, self.render_mode)


def make_sb3_vec_env(env: ShapingVectorEnv | None = None, **kwargs: Any) -> Any:
    """A Stable-Baselines3 ``VecEnv`` over a :class:`ShapingVectorEnv` (built from ``kwargs`` if not given,
    in ``SAME_STEP`` mode, the one SB3 expects; a given env must be in that mode with numpy output).

    Every sub-env is one SB3 env. A finished meta-episode is ``done`` with
    ``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"] = False`` (the
    meta-episode end is a true termination), and, as SB3's ``Monitor`` reports episodes,
    ``infos[i]["episode"] = {"r": return, "l": M * T, "t": seconds since the start, ...}`` with
    the co-player's statistics of that meta-episode alongside (``coplayer_return``: its return
    in this game; ``coplayer_coop_rate`` / ``ego_coop_rate``: the slot's mean over the inner
    episodes; ``coplayer_coop_rate_last``: in the last inner episode), so ``ep_info_buffer`` and
    callbacks see them; ``infos[i]["meta_episode"]`` holds every statistic per inner episode
    (``{name: [M, ...]}``). Inner boundaries only show up as ``infos[i]["inner_episode_done"]``,
    so a recurrent policy keeps its memory across them. Requires the ``sb3`` extra.
    """
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv  # lazy: optional dependency

    venv = env if env is not None else ShapingVectorEnv(**{"autoreset_mode": AutoresetMode.SAME_STEP, **kwargs})
    if venv.output != "numpy":
        raise ValueError("make_sb3_vec_env needs output='numpy'")
    if venv.autoreset_mode != AutoresetMode.SAME_STEP:
        raise ValueError(
            f"make_sb3_vec_env needs autoreset_mode=SAME_STEP (SB3 resets inside the step that ends an episode); "
            f"got {venv.autoreset_mode}"
        )

    class ShapingSB3VecEnv(VecEnv):
        """SB3 view of a :class:`ShapingVectorEnv` (see :func:`make_sb3_vec_env`)."""

        def __init__(self, venv: ShapingVectorEnv) -> None:
            self.venv = venv
            super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
            self._actions: np.ndarray | None = None
            self._t_start = time.time()
            self._returns = np.zeros(venv.num_envs)
            self._co_returns = np.zeros(venv.num_envs)
            self._lengths = np.zeros(venv.num_envs, dtype=np.int64)

        def reset(self) -> np.ndarray:
            seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
            obs, info = self.venv.reset(seed=seed)
            self._reset_seeds()
            self.reset_infos = [{} for _ in range(self.num_envs)]
            self._returns[:] = 0.0
            self._co_returns[:] = 0.0
            self._lengths[:] = 0
            return obs

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64)

        def step_wait(self):
            obs, reward, term, trunc, info = self.venv.step(self._actions)
            n = self.num_envs
            done = term | trunc
            # In SAME_STEP mode the infos of the finished sub-environments are in final_info.
            last = info.get("final_info", {})
            self._returns += reward
            self._lengths += 1
            infos: list[dict[str, Any]] = []
            for i in range(n):
                src = last if done[i] else info
                infos.append({"inner_episode_done": bool(src["inner_episode_done"][i])})
            co_reward = np.where(done, last.get("coplayer_reward", 0.0), info.get("coplayer_reward", 0.0))
            self._co_returns += co_reward
            if done.any():
                final = info["final_obs"]
                stats = {k[len(META_PREFIX):]: last[k] for k in last if k.startswith(META_PREFIX)}
                for i in np.flatnonzero(done):
                    per_inner = {k: v[i] for k, v in stats.items()}
                    infos[i]["terminal_observation"] = final[i]
                    infos[i]["TimeLimit.truncated"] = bool(trunc[i] and not term[i])
                    infos[i]["episode"] = {
                        "r": float(self._returns[i]),
                        "l": int(self._lengths[i]),
                        "t": round(time.time() - self._t_start, 6),
                        "coplayer_return": float(self._co_returns[i]),
                        **_episode_scalars(per_inner),
                    }
                    infos[i]["meta_episode"] = per_inner
                self._returns[done] = 0.0
                self._co_returns[done] = 0.0
                self._lengths[done] = 0
            return obs, reward.astype(np.float32), done, infos

        def close(self) -> None:
            self.venv.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self.venv, attr_name) for _ in self._get_indices(indices)]

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self.venv, attr_name, value)

        def env_method(
            self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any
        ) -> list[Any]:
            fn = getattr(self.venv, method_name)
            return [fn(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False for _ in self._get_indices(indices)]

    return ShapingSB3VecEnv(venv)


def _episode_scalars(per_inner: dict[str, np.ndarray]) -> dict[str, float]:
    """Scalar summaries of one meta-episode's per-inner-episode statistics (for SB3's ``episode``)."""
    out: dict[str, float] = {}
    for k in ("coplayer_coop_rate", "ego_coop_rate"):
        if k in per_inner:
            out[k] = float(np.mean(per_inner[k]))
    if "coplayer_coop_rate" in per_inner:
        out["coplayer_coop_rate_last"] = float(per_inner["coplayer_coop_rate"][-1])
    return out
