"""Iterated chicken (hawk-dove) — ``social_dilemmas/IteratedChicken-v0``.

| | |
|---|---|
| Agents | ``player_0``, ``player_1`` |
| Actions | ``Discrete(2)``: swerve, straight (0, 1) |
| Observation | ``Box(0, 1, (5,), float32)``: one-hot of the previous joint action, own action first, or the start token |
| State | the same one-hot from ``player_0``'s side |
| Episode | ``max_steps`` = 10 rounds, then truncation |
| Render | ``ansi`` (text); ``rgb_array``: the 2x2 table with the last joint action marked, and a round clock |

**Rewards.** both swerve (0, 0), swerve vs straight (-1, 1), both straight (-10, -10) — (T, R, P, S) = (1, 0, -10, -1). The table lives in :mod:`social_dilemmas.envs.payoffs`.

**Arguments.** ``max_steps`` (rounds per episode, default 10; under ``gym.make`` and ``gym.make_vec`` it is Gymnasium's ``max_episode_steps``); the single-agent
Gymnasium view adds ``opponent`` (default ``"random"``).

**Example.**

```python
import gymnasium as gym
import social_dilemmas

env = gym.make("social_dilemmas/IteratedChicken-v0", opponent="random")
obs, info = env.reset(seed=0)
```

**Version history.**
- v0: initial release.
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("IteratedChicken-v0")
