"""Iterated matching pennies — ``social_dilemmas/IteratedMatchingPennies-v0``.

| | |
|---|---|
| Agents | ``player_0``, ``player_1`` |
| Actions | ``Discrete(2)``: heads, tails (0, 1) |
| Observation | ``Box(0, 1, (5,), float32)``: one-hot of the previous joint action, own action first, or the start token |
| State | the same one-hot from ``player_0``'s side |
| Episode | ``max_steps`` = 10 rounds, then truncation |
| Render | ``ansi`` (text); ``rgb_array``: the 2x2 table with the last joint action marked, and a round clock |

**Rewards.** agent 0 wins (+1, -1) when the coins match, agent 1 when they differ. The table lives in :mod:`social_dilemmas.envs.payoffs`.

**Arguments.** ``max_steps`` (rounds per episode, default 10; under ``gym.make`` and ``gym.make_vec`` it is Gymnasium's ``max_episode_steps``); the single-agent
Gymnasium view adds ``opponent`` (default ``"random"``).

**Example.**

```python
import gymnasium as gym
import social_dilemmas

env = gym.make("social_dilemmas/IteratedMatchingPennies-v0", opponent="random")
obs, info = env.reset(seed=0)
```

**Version history.**
- v0: initial release.
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("IteratedMatchingPennies-v0")
