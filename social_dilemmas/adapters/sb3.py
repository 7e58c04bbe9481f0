"""Stable-Baselines3 bridges (needs the ``sb3`` extra: ``pip install 'social-dilemmas[sb3]'``).

A single-agent view (``gym.make("social_dilemmas/IPD-v0")``) trains with SB3 as is. This
module adds two SB3 ``VecEnv`` s:

- :func:`supersuit_sb3_vec_env` — the PettingZoo env through SuperSuit
  (``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``), i.e. one shared policy for
  every seat (parameter sharing), the pattern PettingZoo's SB3 tutorials use. SuperSuit's
  own SB3 wrapper (``base_class="stable_baselines3"``) ORs truncation into ``dones`` without
  setting ``infos[i]["TimeLimit.truncated"]``, so SB3 would treat the end of every
  ``max_steps``-round episode as a true termination and stop bootstrapping there; it also
  forwards ``seed()`` to a SuperSuit vector env that has none and has no working
  ``get_attr``/``env_method``. :class:`SuperSuitSB3VecEnv` replaces that wrapper: it reads
  termination and truncation separately, sets ``TimeLimit.truncated`` exactly like SB3's
  ``DummyVecEnv`` (``truncated and not terminated``), keeps SuperSuit's
  ``terminal_observation``, and answers ``get_attr``/``set_attr``/``env_method`` from the
  parallel env behind each seat.
- :class:`BatchedSB3VecEnv` — ``num_envs`` ego views of one batched core (the
  :class:`~social_dilemmas.adapters.gymnasium_vector.BatchedVectorEnv` in ``SAME_STEP``
  mode) as an SB3 ``VecEnv``: SB3 with thousands of environments and no Python loop over
  them inside the dynamics.

Example:
    >>> from stable_baselines3 import PPO
    >>> from social_dilemmas.envs import ipd_v0
    >>> from social_dilemmas.adapters.sb3 import supersuit_sb3_vec_env
    >>> venv = supersuit_sb3_vec_env(ipd_v0.parallel_env(), num_vec_envs=4)   # 8 seats
    >>> model = PPO("MlpPolicy", venv, n_steps=64, batch_size=128, verbose=0).learn(512)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

try:
    from stable_baselines3.common.vec_env import VecEnv
    from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvStepReturn
except ImportError as e:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "social_dilemmas.adapters.sb3 needs Stable-Baselines3: pip install 'social-dilemmas[sb3]'"
    ) from e

from gymnasium.vector import AutoresetMode

from social_dilemmas.adapters.gymnasium_vector import BatchedVectorEnv


def _scalar(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _indices(num_envs: int, indices: VecEnvIndices) -> list[int]:
    if indices is None:
        return list(range(num_envs))
    if isinstance(indices, int):
        return [indices]
    return list(indices)


class SuperSuitSB3VecEnv(VecEnv):
    """SB3 ``VecEnv`` over SuperSuit's parameter-sharing vector env, with honest truncation.

    Sub-environment ``i`` is seat ``i % A`` of game ``i // A`` (``A`` agents per game), the
    order SuperSuit concatenates them in. Build it with :func:`supersuit_sb3_vec_env`.

    Args:
        venv: the Gymnasium-style vector env of ``concat_vec_envs_v1(..., base_class="gymnasium")``.
        parallel_envs: the parallel env behind each game, in order.
    """

    def __init__(self, venv: Any, parallel_envs: Sequence[Any]) -> None:
        self.venv = venv
        self.parallel_envs = list(parallel_envs)
        self.agents_per_game = venv.num_envs // len(self.parallel_envs)
        self._actions: np.ndarray | None = None
        super().__init__(venv.num_envs, venv.observation_space, venv.action_space)

    def _game(self, i: int) -> Any:
        return self.parallel_envs[i // self.agents_per_game]

    def reset(self) -> np.ndarray:
        """Reset every game. After ``seed(s)``, game ``k`` is reset with seed ``s + k``."""
        seed = self._seeds[0]
        options = self._options[0] or None
        obs, infos = self.venv.reset(seed=seed, options=options)
        self.reset_infos = [dict(info) for info in infos]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminations, truncations, infos = self.venv.step(self._actions)
        terminations = np.asarray(terminations, dtype=bool)
        truncations = np.asarray(truncations, dtype=bool)
        dones = terminations | truncations
        out_infos = []
        for i, info in enumerate(infos):
            info = dict(info)
            info["TimeLimit.truncated"] = bool(truncations[i] and not terminations[i])
            if dones[i] and "terminal_observation" not in info:  # pragma: no cover - SuperSuit always sets it
                raise RuntimeError("SuperSuit did not report terminal_observation for a finished episode")
            out_infos.append(info)
        return obs, np.asarray(rewards, dtype=np.float32), dones, out_infos

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [getattr(self._game(i), attr_name) for i in _indices(self.num_envs, indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the game behind each index (seats of one game share it)."""
        for i in _indices(self.num_envs, indices):
            setattr(self._game(i), attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        games = [self._game(i) for i in _indices(self.num_envs, indices)]
        return [getattr(g, method_name)(*method_args, **method_kwargs) for g in games]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in _indices(self.num_envs, indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None for _ in range(self.num_envs)]
        return [self._game(i).render() for i in range(self.num_envs)]


def supersuit_sb3_vec_env(parallel_env: Any, num_vec_envs: int = 1) -> SuperSuitSB3VecEnv:
    """A PettingZoo ``ParallelEnv`` as an SB3 ``VecEnv`` with one sub-env per seat (parameter sharing).

    ``num_vec_envs`` copies of ``parallel_env`` are concatenated (SuperSuit's
    ``concat_vec_envs_v1``), so the result has ``num_vec_envs * num_agents`` sub-envs. Every
    agent must share one observation and one action space (true for every registered game).
    Finished episodes carry ``infos[i]["terminal_observation"]`` and
    ``infos[i]["TimeLimit.truncated"]`` (true at the ``max_steps`` time limit).
    """
    try:
        import supersuit as ss
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise ImportError("supersuit_sb3_vec_env needs SuperSuit: pip install 'social-dilemmas[sb3]'") from e
    if not isinstance(num_vec_envs, int) or isinstance(num_vec_envs, bool) or num_vec_envs < 1:
        raise ValueError(f"num_vec_envs must be a positive integer, got {num_vec_envs!r}")
    markov = ss.pettingzoo_env_to_vec_env_v1(parallel_env)
    venv = ss.concat_vec_envs_v1(markov, num_vec_envs, num_cpus=0, base_class="gymnasium")
    # concat_vec_envs_v1 deep-copies the env once per copy; reach each copy's parallel env.
    parallel_envs = [sub.par_env for sub in venv.vec_envs]
    return SuperSuitSB3VecEnv(venv, parallel_envs)


class BatchedSB3VecEnv(VecEnv):
    """``num_envs`` ego views of ``env_id`` (one batched core) as an SB3 ``VecEnv``.

    Arguments as :class:`~social_dilemmas.adapters.gymnasium_vector.BatchedVectorEnv`
    (``opponent``, ``device``, game arguments). Autoreset is SB3's: a finished
    sub-environment is reset inside ``step``, with ``terminal_observation`` and
    ``TimeLimit.truncated`` in its info. ``seed(s)`` gives sub-environment ``i`` the seed
    ``s + i`` at the next ``reset()``, exactly like SB3's ``DummyVecEnv`` over
    ``gym.make`` envs.
    """

    def __init__(self, env_id: str, num_envs: int, opponent: Any = None, device: Any = "cpu", **game_kwargs: Any):
        self.venv = BatchedVectorEnv(
            env_id, num_envs, opponent=opponent, device=device, autoreset_mode=AutoresetMode.SAME_STEP, **game_kwargs
        )
        self._actions: np.ndarray | None = None
        super().__init__(self.venv.num_envs, self.venv.single_observation_space, self.venv.single_action_space)

    def reset(self) -> np.ndarray:
        seeds = None if all(s is None for s in self._seeds) else list(self._seeds)
        obs, _ = self.venv.reset(seed=seeds, options=self._options[0] or None)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, terminated, truncated, infos = self.venv.step(self._actions)
        dones = terminated | truncated
        n = self.num_envs
        out: list[dict[str, Any]] = [{} for _ in range(n)]
        # Per-env dicts as SB3's DummyVecEnv would hold them (Python scalars, NumPy arrays).
        keys = [k for k in infos if not k.startswith("_") and k not in ("final_obs", "final_info")]
        for k in keys:
            vals, mask = infos[k], infos[f"_{k}"]
            for i in np.flatnonzero(mask):
                out[i][k] = _scalar(vals[i])
        if dones.any():
            final_info = infos["final_info"]
            for i in np.flatnonzero(dones):
                for k in final_info:
                    if not k.startswith("_") and final_info[f"_{k}"][i]:
                        out[i][k] = _scalar(final_info[k][i])
                out[i]["terminal_observation"] = infos["final_obs"][i]
        for i in range(n):
            out[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, out

    def close(self) -> None:
        self.venv.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self.venv, attr_name)
        return [value for _ in _indices(self.num_envs, indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set an attribute of the shared vector env (all sub-envs share it)."""
        setattr(self.venv, attr_name, value)

    def env_method(
        self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any
    ) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in _indices(self.num_envs, indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in _indices(self.num_envs, indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self.render_mode != "rgb_array":
            return [None for _ in range(self.num_envs)]
        return list(self.venv.render())


__all__: Iterable[str] = ["BatchedSB3VecEnv", "SuperSuitSB3VecEnv", "supersuit_sb3_vec_env"]
