"""CleanUp-lite (first version) — ``social_dilemmas/CleanUpLite-v0``.

The first release of CleanUp-lite (Meulemans et al., "Multi-agent cooperation through
learning-aware policy gradients", ICLR 2025, arXiv 2410.18636, §5.2 and App. B.1.2), kept
registered and unchanged so that results made with it stay reproducible (the recorded
CleanUp-lite training runs and the CleanUp presets use it). **Everything is as on the page of**
:mod:`social_dilemmas.envs.cleanup_lite_v1` — grid, step order, observation, rewards,
metrics, randomness and every design decision — **except the freeze timing**.

| | |
|---|---|
| Agents | ``player_0``, ``player_1`` (symmetric) |
| Actions | ``Discrete(6)``: 0 right, 1 left, 2 up, 3 down, 4 zap, 5 no-op |
| Observation | ``Box(0, 1, (102,), float32)``, fully observed, own view first |
| Episode | ``max_steps`` = 64 steps, then truncation |
| Import | ``gym.make("social_dilemmas/CleanUpLite-v0")``, ``cleanup_lite_v0.parallel_env()``, ``.env()`` |

**Freeze timing (the one difference).** A player hit by a zap in step ``t`` still
harvested/cleaned in that step but does not move in it (``freeze_immediately=True``), and then
ignores its actions for the next ``freeze_steps`` = 5 steps ``t+1 ... t+5``; it acts again at
``t+6``: 6 steps without a move (``freeze_includes_zap_step=False``, which this entry passes).
``CleanUpLite-v1`` counts the zap step as the first of the 5 frozen steps, as the paper's
"frozen for 5 steps" reads. With ``freeze_immediately=False`` the victim still moves in step
``t``; with ``freeze_steps=0`` a hit only cancels its move in step ``t``.

**Arguments.** As ``CleanUpLite-v1``, with ``freeze_includes_zap_step=False``.

**Example.**

```python
import torch
import social_dilemmas  # registers the ids

batch = social_dilemmas.make_batched("CleanUpLite-v0", batch_size=1024)
obs = batch.reset(seed=0)                              # [1024, 2, 102]
out = batch.step(torch.randint(0, 6, (1024, 2)))
print(batch.game.freeze_includes_zap_step, out.metrics["frozen"].mean())
```

**Version history.**
- v0: initial release: a hit player cannot move in the zap step nor in the 5 steps after it
  (6 steps; ``freeze_includes_zap_step=False``). Still registered, unchanged.
- v1: "frozen for 5 steps" counted from the zap step, as the paper's text reads (see
  ``CleanUpLite-v1``). Everything else as v0.

**Citation.** Meulemans, Kobayashi, von Oswald, Scherrer, Elmoznino, Richards, Lajoie,
Agüera y Arcas, Sacramento. Multi-agent cooperation through learning-aware policy
gradients. ICLR 2025. The original game: Hughes et al., Inequity aversion improves
cooperation in intertemporal social dilemmas, NeurIPS 2018 (Melting Pot's Clean Up).
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("CleanUpLite-v0")
