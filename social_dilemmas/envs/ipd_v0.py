"""Iterated prisoner's dilemma — ``social_dilemmas/IPD-v0``.

The iterated prisoner's dilemma exactly as in Meulemans et al., "Multi-agent cooperation
through learning-aware policy gradients" (ICLR 2025, arXiv 2410.18636), App. B.1.1.

| | |
|---|---|
| Agents | ``player_0``, ``player_1`` (symmetric) |
| Actions | ``Discrete(2)``: 0 = cooperate, 1 = defect |
| Observation | ``Box(0, 1, (5,), float32)``: one-hot of {start, CC, CD, DC, DD}, own action first |
| State | ``Box(0, 1, (5,), float32)``: the same one-hot from ``player_0``'s side |
| Episode | ``max_steps`` = 10 rounds (the paper's ``T``), then truncation |
| Render | ``ansi`` (text); ``rgb_array``: the 2x2 table with the last joint action marked, and a round clock |
| Import | ``gym.make("social_dilemmas/IPD-v0")``, ``ipd_v0.parallel_env()``, ``ipd_v0.env()`` |

**Rewards** (row player first; Table 1 of the paper, ``(T, R, P, S) = (2, 1, 0, -1)``):

| | C | D |
|---|---|---|
| **C** | (1, 1) | (-1, 2) |
| **D** | (2, -1) | (0, 0) |

**Observation.** Round 1 shows the start token. Afterwards each player sees the previous
joint action with its own action first: after player 0 cooperates and player 1 defects,
player 0 sees ``CD`` and player 1 sees ``DC``. Both therefore see the game the same way, so
one policy can play either seat.

**Arguments.** ``max_steps`` (rounds per episode, default 10; under ``gym.make`` and ``gym.make_vec`` it is Gymnasium's ``max_episode_steps``); the single-agent Gymnasium
view adds ``opponent`` (a strategy name from :mod:`social_dilemmas.coplayers.fixed`, 5
cooperation probabilities, or a policy object; default ``"tit_for_tat"``).

**Example.**

```python
import gymnasium as gym
import social_dilemmas  # registers the ids

env = gym.make("social_dilemmas/IPD-v0", opponent="tit_for_tat")
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(0)  # cooperate: reward 1.0
```

**Version history.**
- v0: initial release.

**Citation.** Meulemans, Kobayashi, von Oswald, Scherrer, Elmoznino, Richards, Lajoie,
Agüera y Arcas, Sacramento. Multi-agent cooperation through learning-aware policy
gradients. ICLR 2025.
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("IPD-v0")
