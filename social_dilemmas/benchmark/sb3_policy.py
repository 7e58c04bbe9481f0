"""Stable-Baselines3 models (PPO, A2C, DQN, sb3-contrib's RecurrentPPO) as benchmark policies.

Needs the ``sb3`` extra. The adapter calls the model's own ``predict(obs, state, episode_start,
deterministic)`` on the whole batch, so recurrent policies get their LSTM state and SB3's
episode-start convention exactly as in training. What the memory covers is the policy's
training: a model trained on the single-agent Gymnasium view (``social_dilemmas/IPD-v0``) saw
one inner episode per episode, so pass ``resets_at_inner_boundary=True`` for a recurrent one; a
model trained on a ``*-Shaping-v0`` meta-environment keeps its memory for the whole
meta-episode (the default). A memoryless ``MlpPolicy`` does not care.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["SB3Policy", "load_sb3"]


class SB3Policy:
    """A Stable-Baselines3 model as a policy.

    Args:
        model: a trained SB3 / sb3-contrib model with a ``Discrete`` action space.
        name: label in reports (default: the algorithm's class name).
        deterministic: act greedily; default ``None``: greedy for DQN (its evaluation
            convention), sampling for the policy-gradient methods (as they were trained).
        resets_at_inner_boundary: the memory covers one inner episode (see the module docstring).
        history: the meta-environment history channels the model was trained with, if any.
    """

    def __init__(self, model: Any, *, name: str | None = None, deterministic: bool | None = None,
                 resets_at_inner_boundary: bool = False, history: tuple[str, ...] = ()) -> None:
        import gymnasium as gym

        space = getattr(model, "action_space", None)
        if not isinstance(space, gym.spaces.Discrete):
            raise ValueError(f"only models with a Discrete action space can be scored, got {space!r}")
        algo = type(model).__name__
        self.model = model
        self.name = name or algo
        self.deterministic = (algo == "DQN") if deterministic is None else bool(deterministic)
        self.num_actions = int(space.n)
        self.observation_shape = tuple(model.observation_space.shape)
        self.resets_at_inner_boundary = bool(resets_at_inner_boundary)
        self.history = tuple(history)
        self.recurrent = hasattr(model.policy, "lstm_actor")

    def initial_state(self, n: int, group_size: int = 1) -> Any:
        return None  # SB3 starts recurrent state from zeros where episode_start is true

    def act(self, obs: Tensor, state: Any, episode_start: Tensor) -> tuple[Tensor, Any]:
        x = obs.detach().cpu().numpy().astype(np.float32, copy=False)
        starts = episode_start.detach().cpu().numpy()
        if self.recurrent:
            actions, state = self.model.predict(x, state=state, episode_start=starts, deterministic=self.deterministic)
        else:
            actions, _ = self.model.predict(x, deterministic=self.deterministic)
        return torch.as_tensor(np.asarray(actions)).reshape(-1), state

    def __repr__(self) -> str:
        return f"SB3Policy({self.name}, deterministic={self.deterministic})"


def load_sb3(path: str | Path, **kwargs: Any) -> SB3Policy:
    """Load a saved SB3 ``.zip`` (PPO / A2C / DQN / RecurrentPPO, told apart by its policy class)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no SB3 model at {path}")
    try:
        with zipfile.ZipFile(path) as z:
            data = json.loads(z.read("data"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a saved Stable-Baselines3 model: {e}") from None
    module = str(data.get("policy_class", {}).get("__module__", ""))
    if "recurrent" in module:
        from sb3_contrib import RecurrentPPO as cls
    elif "dqn" in module:
        from stable_baselines3 import DQN as cls
    else:  # PPO and A2C share the actor-critic policy; either class predicts the same
        from stable_baselines3 import PPO as cls
    return SB3Policy(cls.load(path, device="cpu"), name=kwargs.pop("name", path.stem), **kwargs)
