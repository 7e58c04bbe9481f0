"""Thin faces over the batched core.

- :class:`SingleAgentEnv`: agent 0 against fixed co-players (``gym.make`` builds its
  :class:`~social_dilemmas.adapters.gymnasium_env.RegisteredSingleAgentEnv`, whose episodes
  Gymnasium's ``TimeLimit`` ends at ``max_episode_steps``).
- :class:`BatchedVectorEnv` (``gym.make_vec(..., vectorization_mode="vector_entry_point")``):
  ``num_envs`` such views as one torch batch, in any Gymnasium autoreset mode; the autoreset
  modes, outputs and info layout it shares with the meta-environment's vector face are in
  :mod:`social_dilemmas.adapters.vector_base`.
- :mod:`social_dilemmas.adapters.meta_gymnasium` and :mod:`social_dilemmas.adapters.meta_pettingzoo`:
  faces of the shaping meta-environment and of the two-agent meta-game.
- :class:`BatchedParallelEnv` and :func:`module_factories` (PettingZoo parallel and AEC).
- :mod:`social_dilemmas.adapters.sb3` (import it explicitly; needs the ``sb3`` extra):
  Stable-Baselines3 vector envs with correct time-limit truncation.
"""

from social_dilemmas.adapters.gymnasium_env import EpisodeEndedError, SingleAgentEnv
from social_dilemmas.adapters.gymnasium_vector import BatchedVectorEnv
from social_dilemmas.adapters.pettingzoo_env import BatchedParallelEnv, module_factories

__all__ = ["BatchedParallelEnv", "BatchedVectorEnv", "EpisodeEndedError", "SingleAgentEnv", "module_factories"]
