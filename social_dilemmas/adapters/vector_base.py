"""What every torch-batched Gymnasium vector face shares: autoreset modes, outputs, info layout.

:class:`TensorVectorEnv` is a :class:`gymnasium.vector.VectorEnv` whose ``num_envs``
sub-environments live in one torch batch. It implements :meth:`~TensorVectorEnv.step` once, in
each of Gymnasium's :class:`~gymnasium.vector.AutoresetMode` s, on two hooks a face provides:

- ``_advance(actions [N], restart [N] bool) -> Advance``: step the running sub-environments;
  those in ``restart`` (NEXT_STEP: their episode ended on the previous step) start their next
  episode instead, continuing their random streams (their action is ignored);
- ``_restart_now(done [N] bool, obs [N, ...]) -> obs [N, ...]``: SAME_STEP: start the next
  episode of the sub-environments in ``done`` right away, continuing their random streams, and
  return the observations with theirs replaced (``done`` may be all false on a GPU, where the
  check is skipped to save a synchronisation).

The modes, as :class:`gymnasium.vector.SyncVectorEnv` has them:

- ``NEXT_STEP`` (default): the step after an episode ends resets that sub-environment,
  returns its first observation with reward 0 and both flags false, and masks its infos off.
- ``SAME_STEP``: a finished sub-environment is reset inside the same ``step``; the returned
  observation is the new episode's first one; ``infos["final_obs"]`` (an object array, ``None``
  where nothing ended; a ``[N, ...]`` tensor with ``output="torch"``) and ``infos["final_info"]``
  hold the last observation and info, with masks ``_final_obs`` and ``_final_info``; the step's
  top-level infos are masked off for those sub-environments.
- ``DISABLED``: nothing is reset automatically; stepping a finished sub-environment raises
  until it is reset with ``reset(options={"reset_mask": mask})`` (or ``reset()``).

The mode is the ``autoreset_mode`` attribute and ``metadata["autoreset_mode"]`` (what
Gymnasium's vector wrappers and torchrl's ``GymWrapper`` read). Outputs: ``"numpy"``
(observations float32, rewards float64, flags bool, infos laid out as ``SyncVectorEnv`` does)
or ``"torch"`` (tensors on the face's device, rewards float32, bool-tensor info masks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from gymnasium.vector import AutoresetMode

from social_dilemmas.core.game import first_bad_action
from social_dilemmas.core.validation import check_choice

OUTPUTS = ("numpy", "torch")


def parse_autoreset_mode(mode: Any) -> AutoresetMode:
    """``mode`` as an :class:`~gymnasium.vector.AutoresetMode` (the enum or its value)."""
    try:
        return AutoresetMode(mode)
    except ValueError:
        raise ValueError(
            f"autoreset_mode must be a gymnasium.vector.AutoresetMode or one of "
            f"{[m.value for m in AutoresetMode]}; got {mode!r}"
        ) from None


def info_value_np(t: torch.Tensor) -> np.ndarray:
    """A batched info tensor ``[N, ...]`` as NumPy, with the dtypes Gymnasium's
    ``SyncVectorEnv`` would give the per-env Python scalars (bool, int64, float64)."""
    a = t.detach().cpu().numpy()
    if a.ndim == 1:
        if a.dtype == np.bool_:
            return a.copy()
        if np.issubdtype(a.dtype, np.integer):
            return a.astype(np.int64)
        return a.astype(np.float64)
    return a.copy()


@dataclass
class Advance:
    """One batched step of a face, before the autoreset mode is applied (all ``[N, ...]`` tensors)."""

    obs: torch.Tensor
    reward: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    infos: dict[str, torch.Tensor]


class TensorVectorEnv(gym.vector.VectorEnv):
    """Base of the torch-batched vector faces (see the module docstring). Subclasses call
    :meth:`_setup_vector` in ``__init__`` and implement ``_advance`` and ``_restart_now``."""

    autoreset_mode: AutoresetMode
    output: str
    validate: bool = True
    device: torch.device

    def _setup_vector(self, num_envs: int, device: torch.device, output: str, autoreset_mode: Any,
                      metadata: dict[str, Any]) -> None:
        self.num_envs = num_envs
        self.device = device
        self.output = check_choice("output", output, OUTPUTS)
        self.autoreset_mode = parse_autoreset_mode(autoreset_mode)
        self.metadata = {**metadata, "autoreset_mode": self.autoreset_mode}
        # Sub-environments whose episode ended on the last step (NEXT_STEP: reset on the next
        # step; DISABLED: must be reset by the user).
        self._pending = torch.zeros(num_envs, dtype=torch.bool, device=device)
        self._zero_reward = torch.zeros(num_envs, dtype=torch.float32, device=device)

    # ------------------------------------------------------------------ hooks
    def _advance(self, actions: torch.Tensor, restart: torch.Tensor) -> Advance:  # pragma: no cover - abstract
        raise NotImplementedError

    def _restart_now(self, done: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

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
            a = info_value_np(v)
            a[~mask_np] = 0
            infos[k] = a
            infos[f"_{k}"] = mask_np.copy()
        return infos

    def _reset_mask(self, reset_mask: Any) -> torch.Tensor:
        """``options["reset_mask"]`` as a bool tensor ``[N]`` on the device."""
        n = self.num_envs
        if isinstance(reset_mask, torch.Tensor):
            reset_mask = reset_mask.detach().cpu().numpy()
        if not isinstance(reset_mask, np.ndarray) or reset_mask.dtype != np.bool_ or reset_mask.shape != (n,):
            raise TypeError(f"options['reset_mask'] must be a numpy bool array of shape ({n},); got {reset_mask!r}")
        if not reset_mask.any():
            raise ValueError("options['reset_mask'] must contain at least one True value")
        return torch.as_tensor(reset_mask, device=self.device)

    def _actions(self, actions: Any, num_actions: int, meanings: tuple[str, ...]) -> torch.Tensor:
        """``actions`` (array or tensor ``[N]`` of ints) as int64 on the device; checked in range
        unless ``validate`` is off."""
        n, k = self.num_envs, num_actions
        allowed = f"integers in [0, {k}) ({', '.join(meanings)})"
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

    def _after_reset(self, mask: torch.Tensor | None) -> None:
        """Forget the finished episodes that a ``reset`` (of ``mask``, or of all) replaced."""
        if mask is None:
            self._pending = torch.zeros(self.num_envs, dtype=torch.bool, device=self.device)
        else:
            self._pending = self._pending & ~mask

    # ------------------------------------------------------------------ step
    def _step_tensors(self, act: torch.Tensor) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """``step`` on validated actions ``[N]`` (int64 on the device), in the autoreset mode."""
        mode = self.autoreset_mode
        pending = self._pending
        if mode == AutoresetMode.DISABLED and self.validate and bool(pending.any()):
            idx = torch.nonzero(pending).flatten().tolist()
            raise RuntimeError(
                f"sub-environments {idx[:10]}{'...' if len(idx) > 10 else ''} have finished their episode and "
                "autoreset_mode is DISABLED: reset them with reset(options={'reset_mask': mask}) first"
            )
        on_gpu = self.device.type != "cpu"
        restart = pending if mode == AutoresetMode.NEXT_STEP else torch.zeros_like(pending)
        adv = self._advance(act, restart)
        obs, reward, terminated, truncated = adv.obs, adv.reward, adv.terminated, adv.truncated
        infos: dict[str, Any]
        if mode == AutoresetMode.NEXT_STEP:
            if on_gpu or bool(pending.any()):
                reward = torch.where(pending, self._zero_reward, reward)
                terminated, truncated = terminated & ~pending, truncated & ~pending
            infos = self._batched_infos(adv.infos, ~pending)
            self._pending = terminated | truncated
        elif mode == AutoresetMode.SAME_STEP:
            done = terminated | truncated
            if on_gpu or bool(done.any()):
                final_obs = obs
                obs = self._restart_now(done, obs)
                infos = self._batched_infos(adv.infos, ~done)
                final_info = self._batched_infos(adv.infos, done)
                if self.output == "torch":
                    infos["final_obs"], infos["_final_obs"] = final_obs.clone(), done.clone()
                    infos["final_info"], infos["_final_info"] = final_info, done.clone()
                else:
                    done_np = done.cpu().numpy()
                    if done_np.any():
                        fo = np.full(self.num_envs, None, dtype=object)
                        fo_np = final_obs.detach().cpu().numpy().astype(np.float32)
                        for i in np.flatnonzero(done_np):
                            fo[i] = fo_np[i]
                        infos["final_obs"], infos["_final_obs"] = fo, done_np.copy()
                        infos["final_info"], infos["_final_info"] = final_info, done_np.copy()
            else:
                infos = self._batched_infos(adv.infos, torch.ones_like(done))
        else:  # DISABLED
            infos = self._batched_infos(adv.infos, torch.ones_like(pending))
            self._pending = terminated | truncated
        return (
            self._out(obs, "obs"),
            self._out(reward, "reward"),
            self._out(terminated, "flag"),
            self._out(truncated, "flag"),
            infos,
        )
