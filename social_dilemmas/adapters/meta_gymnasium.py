"""Gymnasium faces of the co-player shaping meta-environment (learning co-players).

``gym.make_vec("social_dilemmas/IPD-Shaping-v0", num_envs=meta_batch * B, ...)`` gives a native
:class:`gymnasium.vector.VectorEnv` whose ``num_envs`` sub-environments are the ego's
``meta_batch x B`` games (slot-major: sub-env ``j * B + b`` is game ``b`` against co-player
``j``), so any vector-env learner trains against learning co-players unchanged::

    import gymnasium as gym, social_dilemmas
    envs = gym.make_vec("social_dilemmas/IPD-Shaping-v0", num_envs=64, batch_size=16,
                        num_inner_episodes=20, coplayer="naive",
                        vectorization_mode="vector_entry_point")
    obs, info = envs.reset(seed=0)                       # obs [64, 5]
    obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())

Geometry: give any two of ``num_envs``, ``meta_batch``, ``batch_size`` (``B``); with only
``num_envs``, ``meta_batch = 1`` and ``B = num_envs``.

Boundaries: the inner-episode end is ``info["inner_episode_done"]`` (bool per sub-env, with the
Gymnasium ``"_inner_episode_done"`` mask) and ``info["inner_episode"]`` is the index ``m`` of
the inner episode the step belonged to; the meta-episode end is ``terminated`` (never
``truncated``). Autoreset mode is ``SAME_STEP`` (declared in ``metadata["autoreset_mode"]``): the
step that ends a meta-episode returns the first observation of the next one and puts the last
observation in ``info["final_obs"]`` (an object array, with ``"_final_obs"``) and that step's
info in ``info["final_info"]`` — the layout of ``gymnasium.vector.SyncVectorEnv`` in SAME_STEP
mode. Learners must keep their memory across inner boundaries (only ``terminated`` resets it).

Output: numpy (default; rewards float64 like ``SyncVectorEnv``) or torch tensors on ``device``
with ``output="torch"`` (then ``info["final_obs"]`` is a ``[num_envs, *obs]`` tensor).

Also here: :class:`ShapingEnv`, the single-agent view (``gym.make("social_dilemmas/IPD-Shaping-v0")``:
one ego game, ``meta_batch = B = 1``, a meta-episode of ``M T`` steps), and
:func:`make_sb3_vec_env`, an adapter to Stable-Baselines3's ``VecEnv`` (``terminal_observation``
in the infos of a finished meta-episode; inner boundaries are *not* episode ends, so a recurrent
SB3 policy keeps its memory across them).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from social_dilemmas.core.validation import MAX_BATCH, check_choice, check_options, check_positive_int
from social_dilemmas.wrappers.shaping import MetaStepOutput, ShapingMetaEnv

__all__ = ["ShapingEnv", "ShapingVectorEnv", "make_sb3_vec_env", "resolve_geometry"]


def resolve_geometry(num_envs: int | None, meta_batch: int | None, batch_size: int | None) -> tuple[int, int]:
    """``(meta_batch, batch_size)`` from any two of ``num_envs = meta_batch * batch_size``."""
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
        return 1, n
    given, name = (meta_batch, "meta_batch") if meta_batch is not None else (batch_size, "batch_size")
    if n % given:
        raise ValueError(f"num_envs={n} is not a multiple of {name}={given}")
    return (given, n // given) if name == "meta_batch" else (n // given, given)


class ShapingVectorEnv(VectorEnv):
    """``meta_batch * B`` ego games against learning co-players, as a Gymnasium vector env.

    Args:
        num_envs: ``meta_batch * batch_size`` (see :func:`resolve_geometry`).
        game: registered game id (default ``"IPD-v0"``).
        meta_batch, batch_size: geometry of the meta-batch.
        num_inner_episodes: ``M`` (default 20, the paper's IPD setting).
        coplayer, coplayer_kwargs, history, privileged_coplayer_params, update_at_last_boundary:
            as in :class:`~social_dilemmas.wrappers.shaping.ShapingMetaEnv`.
        device: torch device of the simulation.
        output: ``"numpy"`` (default) or ``"torch"``.
        render_mode: not supported (``None``).
        **game_kwargs: options of the game (e.g. ``max_steps``, the inner-episode length ``T``).
    """

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

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
        render_mode: str | None = None,
        **game_kwargs: Any,
    ) -> None:
        mb, b = resolve_geometry(num_envs, meta_batch, batch_size)
        self.output = check_choice("output", output, ("numpy", "torch"))
        if render_mode is not None:
            raise ValueError(f"render_mode={render_mode!r} is not supported by the shaping meta-environment (use None)")
        self.render_mode = None
        self.meta_env = ShapingMetaEnv(
            game, coplayer, meta_batch=mb, batch_size=b, num_inner_episodes=num_inner_episodes, history=history,
            device=device, game_kwargs=game_kwargs, privileged_coplayer_params=privileged_coplayer_params,
            coplayer_kwargs=coplayer_kwargs, autoreset=True, update_at_last_boundary=update_at_last_boundary,
        )
        self.num_envs = mb * b
        self.single_observation_space = self.meta_env.single_observation_space
        self.single_action_space = self.meta_env.single_action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.metadata = dict(type(self).metadata)
        self._started = False

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

    @property
    def device(self) -> torch.device:
        return self.meta_env.device

    # -- the VectorEnv API -------------------------------------------------------------------

    def reset(self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None):
        """Start a new meta-episode in every slot; ``seed`` int gives sub-env ``i`` seed ``seed + i``."""
        check_options(options)
        if isinstance(seed, (list, tuple)) and all(s is None for s in seed):
            seed = None
        self._np_random_seed = seed if isinstance(seed, int) else None
        obs = self.meta_env.reset(seed=seed)
        self._started = True
        n = self.num_envs
        info = self._base_info(torch.zeros(n, dtype=torch.bool), torch.zeros(n, dtype=torch.int64), None, None)
        return self._arr(obs.reshape(n, *obs.shape[2:])), info

    def step(self, actions: Any):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if isinstance(actions, torch.Tensor):
            a = actions.to(self.device)
        else:
            arr = np.asarray(actions)
            if arr.dtype.kind not in "iu":
                raise ValueError(f"actions must be integers in [0, {self.meta_env.num_actions}), got dtype {arr.dtype}")
            if arr.dtype.kind == "u" and arr.size and int(arr.max()) >= self.meta_env.num_actions:
                raise ValueError(f"actions must be integers in [0, {self.meta_env.num_actions}), got {int(arr.max())}")
            a = torch.from_numpy(arr.astype(np.int64, copy=False)).to(self.device)
        if tuple(a.shape) != (self.num_envs,):
            raise ValueError(f"actions must have shape [{self.num_envs}] (one per sub-environment), "
                             f"got {list(a.shape)}")
        out = self.meta_env.step(a.view(self.meta_batch, self.batch_size))
        return self._convert(out)

    def _convert(self, out: MetaStepOutput):
        n = self.num_envs
        obs = out.obs.reshape(n, *out.obs.shape[2:])
        term = out.meta_done.reshape(n)
        info = self._base_info(out.inner_done.reshape(n), out.inner_episode.reshape(n),
                               out.coplayer_reward.reshape(n), out.coplayer_action.reshape(n))
        for k, v in out.boundary_stats.items():
            if v.dim() == 1:  # per-slot statistic -> every sub-env of the slot
                info[k] = self._arr(v.repeat_interleave(self.batch_size))
                info[f"_{k}"] = self._mask(True)
        if out.meta_boundary:
            final = out.final_obs.reshape(n, *out.final_obs.shape[2:])
            final_info = {k: v for k, v in info.items()}
            if self.output == "torch":
                info["final_obs"] = final
            else:
                arr = np.empty(n, dtype=object)
                fin = final.cpu().numpy()
                for i in range(n):
                    arr[i] = fin[i]
                info["final_obs"] = arr
            info["_final_obs"] = self._mask(True)
            info["final_info"] = final_info
            info["_final_info"] = self._mask(True)
        reward = out.reward.reshape(n)
        if self.output == "numpy":
            return (obs.cpu().numpy(), reward.cpu().numpy().astype(np.float64), term.cpu().numpy(),
                    np.zeros(n, dtype=bool), info)
        return obs, reward, term, torch.zeros(n, dtype=torch.bool, device=self.device), info

    def _base_info(
        self, inner_done: torch.Tensor, inner_episode: torch.Tensor, co_rew: Any, co_act: Any
    ) -> dict[str, Any]:
        info: dict[str, Any] = {
            "inner_episode_done": self._arr(inner_done),
            "_inner_episode_done": self._mask(True),
            "inner_episode": self._arr(inner_episode),
            "_inner_episode": self._mask(True),
        }
        if co_rew is not None:
            info["coplayer_reward"] = self._arr(co_rew)
            info["_coplayer_reward"] = self._mask(True)
            info["coplayer_action"] = self._arr(co_act)
            info["_coplayer_action"] = self._mask(True)
        return info

    def _arr(self, t: torch.Tensor) -> Any:
        return t if self.output == "torch" else t.cpu().numpy()

    def _mask(self, value: bool) -> Any:
        if self.output == "torch":
            return torch.full((self.num_envs,), value, dtype=torch.bool, device=self.device)
        return np.full(self.num_envs, value, dtype=bool)

    def close_extras(self, **kwargs: Any) -> None:
        self._started = False

    def __repr__(self) -> str:
        return f"ShapingVectorEnv({self.meta_env!r}, num_envs={self.num_envs}, output={self.output})"


class ShapingEnv(gym.Env):
    """Single-agent view: one ego game against one learning co-player (``meta_batch = B = 1``).

    An episode is one meta-episode of ``M T`` steps, ending with ``terminated=True``; the
    co-player learns from each single finished inner episode (``B = 1``, as in M-FOS). The
    inner boundary is ``info["inner_episode_done"]``. Stepping after the end raises; call
    :meth:`reset`.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        game: str = "IPD-v0",
        *,
        num_inner_episodes: int = 20,
        coplayer: Any = "naive",
        coplayer_kwargs: dict[str, Any] | None = None,
        history: Any = (),
        privileged_coplayer_params: bool = False,
        device: torch.device | str = "cpu",
        render_mode: str | None = None,
        **game_kwargs: Any,
    ) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode={render_mode!r} is not supported by the shaping meta-environment (use None)")
        self.render_mode = None
        self.meta_env = ShapingMetaEnv(
            game, coplayer, meta_batch=1, batch_size=1, num_inner_episodes=num_inner_episodes, history=history,
            device=device, game_kwargs=game_kwargs, privileged_coplayer_params=privileged_coplayer_params,
            coplayer_kwargs=coplayer_kwargs, autoreset=False,
        )
        self.observation_space = self.meta_env.single_observation_space
        self.action_space = self.meta_env.single_action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        obs = self.meta_env.reset(seed=seed)
        return obs[0, 0].cpu().numpy(), {"inner_episode_done": False, "inner_episode": 0}

    def step(self, action: Any):
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer, np.ndarray, torch.Tensor)):
            raise TypeError(f"action must be an integer in [0, {self.meta_env.num_actions}), got {action!r}")
        a = torch.as_tensor(np.asarray(action)).reshape(-1)
        if a.numel() != 1:
            raise ValueError(f"action must be a single integer, got shape {list(a.shape)}")
        out = self.meta_env.step(a.view(1, 1))
        info = {
            "inner_episode_done": bool(out.inner_done[0, 0]),
            "inner_episode": int(out.inner_episode[0, 0]),
            "coplayer_action": int(out.coplayer_action[0, 0]),
            "coplayer_reward": float(out.coplayer_reward[0, 0]),
        }
        return (out.obs[0, 0].cpu().numpy(), float(out.reward[0, 0]), bool(out.meta_done[0, 0]), False, info)


def make_sb3_vec_env(env: ShapingVectorEnv | None = None, **kwargs: Any) -> Any:
    """A Stable-Baselines3 ``VecEnv`` over a :class:`ShapingVectorEnv` (built from ``kwargs`` if not given).

    Every sub-env is one SB3 env. A finished meta-episode is ``done`` with
    ``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"] = False`` (the
    meta-episode end is a true termination); inner boundaries only show up as
    ``infos[i]["inner_episode_done"]``. Requires the ``sb3`` extra.
    """
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv  # lazy: optional dependency

    venv = env if env is not None else ShapingVectorEnv(**kwargs)
    if venv.output != "numpy":
        raise ValueError("make_sb3_vec_env needs output='numpy'")

    class ShapingSB3VecEnv(VecEnv):
        """SB3 view of a :class:`ShapingVectorEnv` (see :func:`make_sb3_vec_env`)."""

        def __init__(self, venv: ShapingVectorEnv) -> None:
            self.venv = venv
            super().__init__(venv.num_envs, venv.single_observation_space, venv.single_action_space)
            self._actions: np.ndarray | None = None

        def reset(self) -> np.ndarray:
            seed = self._seeds[0] if self._seeds and self._seeds[0] is not None else None
            obs, info = self.venv.reset(seed=seed)
            self._reset_seeds()
            self.reset_infos = [{} for _ in range(self.num_envs)]
            return obs

        def step_async(self, actions: np.ndarray) -> None:
            self._actions = np.asarray(actions).reshape(self.num_envs).astype(np.int64)

        def step_wait(self):
            obs, reward, term, trunc, info = self.venv.step(self._actions)
            n = self.num_envs
            inner = info["inner_episode_done"]
            infos: list[dict[str, Any]] = [{"inner_episode_done": bool(inner[i])} for i in range(n)]
            if term.any():
                final = info["final_obs"]
                for i in np.flatnonzero(term):
                    infos[i]["terminal_observation"] = final[i]
                    infos[i]["TimeLimit.truncated"] = False
            return obs, reward.astype(np.float32), term | trunc, infos

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
