"""Thin faces over the batched core.

- :class:`SingleAgentEnv` (``gym.make``): agent 0 against fixed co-players.
- :class:`BatchedVectorEnv` (``gym.make_vec(..., vectorization_mode="vector_entry_point")``):
  ``num_envs`` such views as one torch batch, in any Gymnasium autoreset mode.
- :class:`BatchedParallelEnv` and :func:`module_factories` (PettingZoo parallel and AEC).
- :mod:`social_dilemmas.adapters.sb3` (import it explicitly; needs the ``sb3`` extra):
  Stable-Baselines3 vector envs with correct time-limit truncation.
"""

from social_dilemmas.adapters.gymnasium_env import EpisodeEndedError, SingleAgentEnv
from social_dilemmas.adapters.gymnasium_vector import BatchedVectorEnv
from social_dilemmas.adapters.pettingzoo_env import BatchedParallelEnv, module_factories

__all__ = ["BatchedParallelEnv", "BatchedVectorEnv", "EpisodeEndedError", "SingleAgentEnv", "module_factories"]
