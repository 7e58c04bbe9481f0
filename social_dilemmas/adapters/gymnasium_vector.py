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

Autoreset modes (``autoreset_mode=``, Gymnasium's :class:`~gymnasium.vector.AutoresetMode`):

- ``NEXT_STEP`` (default): the step after an episode ends resets that sub-environment,
  returns its first observation with reward 0 and both flags false, and ignores its action.
- ``SAME_STEP``: a finished sub-environment is reset inside the same ``step``; the returned
  observation is the new episode's first one, and, as in ``SyncVectorEnv``,
  ``infos["final_obs"]`` (an object array, ``None`` where no episode ended) holds the last
  observation and ``infos["final_info"]`` the last step's info, with masks ``_final_obs``
  and ``_final_info``. The step's other infos are masked off (``_key`` false) for those
  sub-environments, because their top-level info is now the reset info (empty).
- ``DISABLED``: nothing is reset automatically; stepping a finished sub-environment raises
  until it is reset with ``reset(options={"reset_mask": mask})``.

Output (``output=``): ``"numpy"`` (default; observations float32, rewards float64, flags
bool, infos as ``SyncVectorEnv`` lays them out) or ``"torch"`` (tensors on ``device``,
rewards float32, infos as tensors with bool-tensor masks, ``final_obs`` a tensor
``[N, *obs_shape]`` valid where ``_final_obs``; no device synchronisation per step except
for action validation, which ``validate=False`` switches off).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from social_dilemmas.adapters.gymnasium_env import (
    EgoBatch,
    _info_value_np,
    check_render_mode,
    observation_box,
    render_fps_of,
)
from social_dilemmas.core.game import first_bad_action
from social_dilemmas.core.rng import check_seed
from social_dilemmas.core.tree import tree_where
from social_dilemmas.core.validation import check_choice, check_int, check_options
from social_dilemmas.registration import get_entry

_OUTPUTS = ("numpy", "torch")


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


class BatchedVectorEnv(gym.vector.VectorEnv):
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
        self.output = check_choice("output", output, _OUTPUTS)
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise ValueError(
                f"autoreset_mode must be a gymnasium.vector.AutoresetMode or one of "
                f"{[m.value for m in AutoresetMode]}; got {autoreset_mode!r}"
            ) from None
        self.validate = bool(validate)
        self.num_envs = ego.num_envs
        self.device = ego.device
        modes = [m for m in ego.game.render_modes if m in ("ansi", "rgb_array")]
        self.metadata = {
            "render_modes": modes,
            "render_fps": render_fps_of(ego.game),
            "autoreset_mode": self.autoreset_mode,
        }
        self.render_mode = check_render_mode(render_mode, modes, ego.entry.id)
        self.single_observation_space = observation_box(ego.spec)
        self.single_action_space = spaces.Discrete(ego.spec.num_actions)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        n = self.num_envs
        # Sub-environments whose episode ended on the last step (NEXT_STEP: reset on the next
        # step; DISABLED: must be reset by the user).
        self._pending = torch.zeros(n, dtype=torch.bool, device=self.device)
        self._zero_reward = torch.zeros(n, dtype=torch.float32, device=self.device)

    # ------------------------------------------------------------------ properties
    @property
    def game(self):
        """The batched core."""
        return self._ego.game

    @property
    def coplayer(self) -> Any:
        return self._ego.coplayer

    # ------------------------------------------------------------------ conversion
    def _out(self, x: torch.Tensor, kind: str) -> Any:
        if self.output == "torch":
            return x.clone() if kind == "obs" else x
        a = x.detach().cpu().numpy()
        if kind == "obs":
            return a.astype(np.float32, copy=True)
        if kind == "reward":
            return a.astype(np.float64)
        return a.copy()

    def _batched_infos(self, tensors: dict[str, torch.Tensor], mask: torch.Tensor) -> dict[str, Any]:
        """``SyncVectorEnv``'s layout: ``infos[k]`` (zero where ``~mask``) and ``infos["_k"]``."""
        infos: dict[str, Any] = {}
        if self.output == "torch":
            for k, v in tensors.items():
                m = mask.view(-1, *([1] * (v.dim() - 1)))
                infos[k] = torch.where(m, v, torch.zeros((), dtype=v.dtype, device=v.device))
                infos[f"_{k}"] = mask.clone()
            return infos
        mask_np = mask.detach().cpu().numpy()
        if not mask_np.any():
            return infos
        for k, v in tensors.items():
            a = _info_value_np(v)
            a[~mask_np] = 0
            infos[k] = a
            infos[f"_{k}"] = mask_np.copy()
        return infos

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
        if mask is None:
            self._pending = torch.zeros(n, dtype=torch.bool, device=self.device)
        else:
            self._pending = self._pending & ~mask
        return self._out(ego.obs[:, 0], "obs"), {}  # type: ignore[index]

    def _reset_mask(self, reset_mask: Any) -> torch.Tensor:
        n = self.num_envs
        if isinstance(reset_mask, torch.Tensor):
            reset_mask = reset_mask.detach().cpu().numpy()
        if not isinstance(reset_mask, np.ndarray) or reset_mask.dtype != np.bool_ or reset_mask.shape != (n,):
            raise TypeError(
                f"options['reset_mask'] must be a numpy bool array of shape ({n},); got {reset_mask!r}"
            )
        if not reset_mask.any():
            raise ValueError("options['reset_mask'] must contain at least one True value")
        return torch.as_tensor(reset_mask, device=self.device)

    # ------------------------------------------------------------------ step
    def _actions(self, actions: Any) -> torch.Tensor:
        n, k = self.num_envs, self._ego.spec.num_actions
        allowed = f"integers in [0, {k}) ({', '.join(self._ego.spec.action_meanings)})"
        if isinstance(actions, torch.Tensor):
            t = actions
        else:
            a = np.asarray(actions)
            if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
                raise TypeError(f"actions must be an array of {n} {allowed}; got {actions!r}")
            t = torch.from_numpy(np.ascontiguousarray(a))
        if t.dtype.is_floating_point or t.is_complex() or t.dtype == torch.bool:
            raise TypeError(f"actions must be an array of {n} {allowed}; got dtype {t.dtype}")
        if tuple(t.shape) != (n,):
            raise ValueError(f"actions must have shape ({n},) (one per sub-environment); got {tuple(t.shape)}")
        if self.validate:
            bad = first_bad_action(t, k)
            if bad is not None:
                raise ValueError(f"actions must be {allowed}; got {bad}")
        return t.to(self.device, torch.int64)

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        ego = self._ego
        if ego.state is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        act = self._actions(actions)
        mode = self.autoreset_mode
        pending = self._pending
        if mode == AutoresetMode.DISABLED and self.validate and bool(pending.any()):
            idx = torch.nonzero(pending).flatten().tolist()
            raise RuntimeError(
                f"sub-environments {idx[:10]}{'...' if len(idx) > 10 else ''} have finished their episode and "
                "autoreset_mode is DISABLED: reset them with reset(options={'reset_mask': mask}) first"
            )
        prev_state = ego.state
        nxt, out, co = ego.step(act)
        info_t = ego.info_tensors(out, co)
        ego.state, ego.obs = nxt, out.obs
        obs, reward = out.obs, out.reward[:, 0]
        terminated, truncated = out.terminated, out.truncated
        on_gpu = self.device.type != "cpu"
        infos: dict[str, Any]

        if mode == AutoresetMode.NEXT_STEP:
            if on_gpu or bool(pending.any()):
                # As SyncVectorEnv: an unseeded reset of the sub-environment that ended last step.
                f_state, f_obs = ego.continued(prev_state)
                ego.commit_reset(pending, f_state, f_obs)
                obs = ego.obs
                reward = torch.where(pending, self._zero_reward, reward)
                terminated, truncated = terminated & ~pending, truncated & ~pending
            infos = self._batched_infos(info_t, ~pending)
            self._pending = terminated | truncated
        elif mode == AutoresetMode.SAME_STEP:
            done = terminated | truncated
            infos = {}
            if on_gpu or bool(done.any()):
                final_obs = out.obs[:, 0]
                f_state, f_obs = ego.continued(nxt)
                ego.commit_reset(done, f_state, f_obs)
                obs = ego.obs
                infos = self._batched_infos(info_t, ~done)
                final_info = self._batched_infos(info_t, done)
                if self.output == "torch":
                    infos["final_obs"], infos["_final_obs"] = final_obs.clone(), done.clone()
                    infos["final_info"], infos["_final_info"] = final_info, done.clone()
                else:
                    done_np = done.cpu().numpy()
                    fo = np.full(self.num_envs, None, dtype=object)
                    fo_np = final_obs.detach().cpu().numpy().astype(np.float32)
                    for i in np.flatnonzero(done_np):
                        fo[i] = fo_np[i]
                    if done_np.any():
                        infos["final_obs"], infos["_final_obs"] = fo, done_np.copy()
                        infos["final_info"], infos["_final_info"] = final_info, done_np.copy()
            else:
                infos = self._batched_infos(info_t, torch.ones_like(done))
        else:  # DISABLED
            infos = self._batched_infos(info_t, torch.ones_like(pending))
            self._pending = terminated | truncated

        return (
            self._out(obs[:, 0], "obs"),
            self._out(reward, "reward"),
            self._out(terminated, "flag"),
            self._out(truncated, "flag"),
            infos,
        )

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
