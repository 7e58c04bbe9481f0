"""CleanUp-lite — ``social_dilemmas/CleanUpLite-v1``.

A two-player tragedy of the commons on a small grid, after Meulemans et al., "Multi-agent
cooperation through learning-aware policy gradients" (ICLR 2025, arXiv 2410.18636), §5.2
and App. B.1.2: a simplified Melting Pot *Clean Up*. Apples grow in an orchard only while
a river is clean enough; cleaning the river costs time that could be spent harvesting, so
each player would rather the other one cleaned. Players can also *zap* each other, which
freezes the victim for a while. Doing well needs temporally extended coordination: walk to
the river, clean, walk back, harvest, and share the cleaning fairly.

| | |
|---|---|
| Agents | ``player_0``, ``player_1`` (symmetric) |
| Actions | ``Discrete(6)``: 0 right, 1 left, 2 up, 3 down, 4 zap, 5 no-op |
| Observation | ``Box(0, 1, (102,), float32)``, fully observed, own view first (below) |
| State | ``Box(0, 1, (102,), float32)``: ``player_0``'s observation |
| Episode | ``max_steps`` = 64 steps (the paper's ``T``), then truncation |
| Import | ``gym.make("social_dilemmas/CleanUpLite-v1")``, ``cleanup_lite_v1.parallel_env()``, ``.env()`` |

**The grid.** 5 rows by 4 columns (the paper's "5 x 4"). The *orchard* is the left column
(column 0), the *river* the right column (column 3); the two columns between are empty
land. Row 0 is the top row; "up" decreases the row. Cells are numbered row-major, ``cell =
row * 4 + col``. An orchard cell may hold an apple, a river cell may hold dirt.

```
        col 0   1   2   3
row 0     a   .   .   #      a  apple (orchard, column 0)
row 1     .   .   .   ~      #  dirt, ~ clean river (column 3)
row 2     .   .   .   #      .  empty land
row 3     a   .   .   ~
row 4     .   .   .   ~
```

**One step**, in the paper's order:

1. *Pollution.* If a river cell is clean, dirt appears with probability ``p_pollution`` =
   0.35 on one clean river cell chosen uniformly.
2. *Regrowth.* If an orchard cell has no apple, an apple appears with probability ``p_apple
   = 1 - min(1, P / P_threshold)`` on one apple-free orchard cell chosen uniformly, where
   ``P`` is the number of dirty river cells after step 1 and ``P_threshold`` = 3. With 3 or
   more dirty cells nothing grows.
3. *Harvest.* A player that is not frozen and stands on an apple eats it: reward +1, the
   cell becomes empty.
4. *Cleaning.* A player that is not frozen and stands on dirt removes it.
5. *Zapping.* A player that is not frozen and chooses "zap" hits the other player with
   probability ``p_zap`` = 0.9 if the other player is within distance 2 and not frozen
   already. A hit freezes the other player for ``freeze_steps`` = 5 steps, counted from
   the zap step (see *Freeze timing* below).
6. *Moving.* Players that are not frozen move one cell; a move off the grid does nothing.

**Start.** Both players on two different cells drawn uniformly from all 20 (orchard and
river included); 3 dirty river cells drawn uniformly without replacement; no apples, so
nothing grows until someone cleans; nobody frozen.

**Observation** (102 floats, own view first, so one policy can play either seat):

| slice | content |
|---|---|
| ``[0:20]`` | own position, one-hot over the 20 cells |
| ``[20:40]`` | the other player's position, one-hot |
| ``[40:100]`` | the grid, one-hot ``{empty, apple, dirt}`` per cell: cell ``c`` at ``40 + 3c`` |
| ``[100]`` | own *zapped* flag: 1 while frozen |
| ``[101]`` | the other player's zapped flag |

A flag is 1 exactly in the observations after which the player's action will be ignored.
The remaining freeze time is not observed (the paper lists only the flags). For other grid
sizes the slices scale with the number of cells ``C``: ``5 C + 2`` floats.

**Rewards.** +1 (``apple_reward``) per apple eaten; nothing else is rewarded or charged.

**Episode end.** Truncation after ``max_steps`` = 64 steps; the game never terminates.

**Per-step metrics** (``StepOutput.metrics`` of the batched core, float32 tensors; the
Gymnasium and PettingZoo faces put them in ``info``), so trainers can log the paper's
curves without parsing anything:

| name | shape | meaning |
|---|---|---|
| ``harvested`` | ``[N, 2]`` | apples eaten by each player this step (= its reward / ``apple_reward``) |
| ``cleaned`` | ``[N, 2]`` | dirt removed by each player this step (the paper's cleaning actions) |
| ``zaps_given`` | ``[N, 2]`` | successful zaps by each player |
| ``zaps_received`` | ``[N, 2]`` | successful zaps on each player |
| ``zap_attempts`` | ``[N, 2]`` | "zap" chosen by a player able to zap (hit or miss) |
| ``frozen`` | ``[N, 2]`` | the player was frozen during this step (its action ignored) |
| ``pollution`` | ``[N]`` | dirty river cells at the end of the step |
| ``apples`` | ``[N]`` | apples on the grid at the end of the step |

Cleaning discrepancy = ``|cleaned[:, 0] - cleaned[:, 1]|`` summed over an episode.

**Design decisions** (where the paper is silent; each is stated so results can be compared,
and most are arguments):

* *Orientation:* 5 rows x 4 columns, orchard left, river right (``height``, ``width``).
  With the other reading (4 rows x 5 columns) pass ``height=4, width=5``.
* *"Visits" means standing on the cell at the start of the step:* harvest and cleaning come
  before moving in the paper's order, so a player that walks onto an apple eats it in the
  next step (if it is not frozen then).
* *Spawning:* "free" means without an apple (orchard) or without dirt (river); a player on
  the cell does not block spawning and then harvests or cleans it in the same step. The
  paper's "not occupied by dirt" for the orchard is read as "not occupied by an apple".
* *Distance:* Manhattan (``distance="manhattan"``; also ``"chebyshev"``, ``"euclidean"``),
  hit when ``distance <= zap_radius`` = 2. No line of sight or facing (players have no
  orientation).
* *Simultaneous zaps:* both are decided on the state before any zap, each with its own
  draw, so both players can freeze each other in the same step.
* *Frozen players* do nothing: no harvest, cleaning, zap (``frozen_can_zap=False``) or move.
  A zap on a frozen player has no effect (the paper: "cannot be zapped again"); it does
  not extend the freeze.
* *Freeze timing* (the paper's "frozen for ``t_zap`` = 5 steps", read literally): a player
  hit in step ``t`` still harvested/cleaned in that step (3 and 4 come before 5) but does
  not move in it (5 comes before 6), so step ``t`` is the first of its 5 frozen steps; it
  ignores its actions in steps ``t+1 ... t+4`` and acts again at ``t+5``: 5 steps without a
  move, 4 without a harvest (``freeze_includes_zap_step=True``). ``CleanUpLite-v0`` counts
  the 5 steps from ``t+1`` instead (6 steps without a move); pass
  ``freeze_includes_zap_step=False`` for that reading (then ``freeze_immediately=False``
  lets the victim still move in step ``t``, and ``freeze_steps=0`` makes a hit only cancel
  its move in step ``t``).
* *No zap cooldown and no zap cost* (none is mentioned).
* *Shared cells:* players never block each other; they may stand on, move into or swap
  through the same cell. If both (not frozen) stand on the same apple or dirt,
  ``shared_cell="split"`` credits each with half (half an apple of reward each; the dirt
  is removed once), ``"random"`` gives it to one of them with a fair coin flip.
* *Walls:* only the grid's edges; moving into one leaves the player where it is.
* *Probabilities* are quantised to multiples of ``2**-24`` (the resolution of one draw).

**Arguments.** ``height=5``, ``width=4`` (>= 2), ``max_steps=64``, ``p_pollution=0.35``,
``pollution_threshold=3``, ``p_zap=0.9``, ``zap_radius=2``, ``distance="manhattan"``,
``freeze_steps=5`` (>= 0), ``initial_dirt=3`` (<= ``height``; the default shrinks to
``height`` on shorter rivers), ``apple_reward=1``, ``shared_cell="split"``,
``frozen_can_zap=False``, ``freeze_immediately=True``, ``freeze_includes_zap_step=True``
(needs ``freeze_immediately=True`` and ``freeze_steps >= 1``). Invalid values (a grid without
separate orchard and river, probabilities outside [0, 1], a negative freeze length,
``max_steps <= 0`` ...) raise an error naming the argument. The single-agent Gymnasium view
adds ``opponent`` (default ``"random"``: uniform over the six actions, or a policy object).

**Randomness.** Every sub-environment draws from its own counter-based stream (seed,
step), so a trajectory is the same for any batch size and device. The exact use of each
random word is documented in :mod:`social_dilemmas.envs.cleanup_lite`, and a slow
reference implementation in the test suite is matched against the batched core step by
step under the same draws.

**Example.**

```python
import gymnasium as gym
import torch
import social_dilemmas  # registers the ids

env = gym.make("social_dilemmas/CleanUpLite-v1")  # against a uniformly random co-player
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(5)  # no-op

batch = social_dilemmas.make_batched("CleanUpLite-v1", batch_size=1024)
obs = batch.reset(seed=0)                              # [1024, 2, 102]
out = batch.step(torch.randint(0, 6, (1024, 2)))
print(out.metrics["pollution"].mean(), out.metrics["cleaned"].sum(0))
```

**Version history.**
- v0: initial release: a hit player cannot move in the zap step nor in the 5 steps after it
  (6 steps; ``freeze_includes_zap_step=False``). Still registered, unchanged.
- v1: "frozen for 5 steps" counted from the zap step, as the paper's text reads: the victim
  cannot move in the zap step and the 4 steps after it (``freeze_includes_zap_step=True``,
  now the default of the batched core). Everything else as v0.

**Citation.** Meulemans, Kobayashi, von Oswald, Scherrer, Elmoznino, Richards, Lajoie,
Agüera y Arcas, Sacramento. Multi-agent cooperation through learning-aware policy
gradients. ICLR 2025. The original game: Hughes et al., Inequity aversion improves
cooperation in intertemporal social dilemmas, NeurIPS 2018 (Melting Pot's Clean Up).
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("CleanUpLite-v1")
