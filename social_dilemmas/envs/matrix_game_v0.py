"""Any iterated 2x2 game — ``social_dilemmas/IteratedMatrixGame-v0``.

Plays a user-supplied payoff table iteratively, with the same memory-1 observation as the
IPD (one-hot of the previous joint action, own action first, plus a start token).

**Arguments.**
- ``payoffs``: a :class:`~social_dilemmas.envs.payoffs.PayoffTable`, a built-in name
  (``"prisoners_dilemma"``, ``"stag_hunt"``, ``"chicken"``, ``"matching_pennies"``) or a
  nested list ``[2][2][2]`` with ``payoffs[a0][a1] = (r0, r1)``. Default: the paper's IPD.
- ``kind``: for a nested list, the class whose inequalities are checked —
  ``"prisoners_dilemma"`` (T > R > P > S and 2R > T + S), ``"stag_hunt"``, ``"chicken"``,
  ``"zero_sum"`` or ``"general"`` (no check). A table that violates its declared class, has
  the wrong shape or non-finite entries is rejected with a ``ValueError``.
- ``max_steps``: rounds per episode (default 10).

**Example.**

```python
import gymnasium as gym
import social_dilemmas

table = [[(3, 3), (0, 5)], [(5, 0), (1, 1)]]  # Axelrod's prisoner's dilemma
env = gym.make("social_dilemmas/IteratedMatrixGame-v0", payoffs=table, kind="prisoners_dilemma")
```

**Version history.**
- v0: initial release.
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("IteratedMatrixGame-v0")
