"""Coin game — ``social_dilemmas/CoinGame-v0``.

The coin game of Lerer & Peysakhovich (2017) in the version of the LOLA paper (Foerster et
al., "Learning with Opponent-Learning Awareness", AAMAS 2018), the standard test bed of
opponent-shaping methods: two players, red and blue, walk on a small grid on which one coin
lies at a time, red or blue. Whoever steps on the coin takes it and gets +1, whatever its
colour; but when a player takes the *other* player's coin, the owner loses 2. Taking every
coin greedily is individually tempting and collectively bad (+1 - 2 per coin for the
pair); leaving the other's coins alone is the cooperative convention.

| | |
|---|---|
| Agents | ``player_0`` (red), ``player_1`` (blue) |
| Actions | ``Discrete(4)``: 0 right, 1 left, 2 up, 3 down (``Discrete(5)`` with ``noop_action=True``: 4 stay) |
| Observation | ``Box(0, 1, (36,), float32)``: 4 one-hot 3x3 planes, own view first (below) |
| State | ``Box(0, 1, (36,), float32)``: ``player_0``'s observation |
| Episode | ``max_steps`` = 16 steps, then truncation |
| Import | ``gym.make("social_dilemmas/CoinGame-v0")``, ``coin_game_v0.parallel_env()``, ``coin_game_v0.env()`` |

**Rules.** A 3x3 grid, rows numbered from the top, cells row-major (``cell = 3 * row +
col``). Each step both players move at the same time ("up" decreases the row). By default
the grid is a torus (``wrap=True``, as in LOLA's code): leaving one edge re-enters at the
opposite edge; with ``wrap=False`` a move off the grid leaves the player where it is.
Players never block each other and may share a cell. After the moves, every player on the
coin's cell takes it:

* each taker gets ``+1`` (``reward_own`` for a coin of its own colour, ``reward_other`` for
  the other's);
* the coin's owner gets ``-2`` (``penalty``) when the *other* player is among the takers.

Then a new coin appears on a cell chosen uniformly among the cells no player stands on.
Its colour is the other colour than the coin just taken (``new_coin_colour="alternate"``,
as in LOLA's code; ``"random"`` draws it with a fair coin flip).

**Start.** Red and blue on two different cells drawn uniformly; the coin on a uniformly
drawn cell without a player; its colour a fair coin flip.

**Observation** (36 floats, own view first, so one policy can play either seat): four 3x3
one-hot planes, flattened row-major and concatenated — ``[0:9]`` own position, ``[9:18]``
the other player's position, ``[18:27]`` the coin if it has the observer's colour,
``[27:36]`` the coin if it has the other player's colour (exactly one of the last two
planes holds a 1). For a ``grid_size`` of ``g`` the planes have ``g * g`` cells.

**Per-step metrics** (``StepOutput.metrics``, float32 ``[N, 2]``): ``own_coin`` (the player
took a coin of its own colour) and ``other_coin`` (it took the other's coin), from which the
usual "own-coin rate" ``own / (own + other)`` follows.

**Design decisions** (earlier public versions differ; each choice is stated here):

* *Ties are symmetric.* When both players step on the coin together, both take it: each
  gets +1 and the owner also gets -2, so the owner nets -1 and the other +1. LOLA's code
  checked red before blue and so gave a contested coin to red; here swapping the players
  and the colours swaps the rewards exactly.
* *Wrap-around is an argument* (``wrap``, default on as in LOLA; JaxMARL's 0.2 version also
  wraps).
* *Four actions* (LOLA) by default; ``noop_action=True`` adds "stay" (as in JaxMARL).
* *One coin at a time* (LOLA), not one coin per colour as in JaxMARL/pax.
* *The new coin never appears under a player*, so a coin is only taken by moving onto it.
* *Episode length* 16 (``max_steps``): short inner episodes for meta-learning; LOLA-DiCE's
  scripts used 150 steps, pass ``max_steps=150`` to match them.
* *Action order* follows CleanUp-lite in this package (right, left, up, down).

**Known-answer specification** (3x3, ``(row, col)`` cells; checked by the test suite):

| | red at | blue at | coin | actions (red, blue) | rewards, ``wrap=True`` | rewards, ``wrap=False`` |
|---|---|---|---|---|---|---|
| 1 | (0,0) | (2,2) | red at (0,1) | right, left | (+1, 0) | (+1, 0) |
| 2 | (0,0) | (2,2) | blue at (0,1) | right, left | (+1, -2) | (+1, -2) |
| 3 | (0,0) | (0,2) | red at (0,1) | right, left | (-1, +1) | (-1, +1) |
| 4 | (0,0) | (0,2) | blue at (0,1) | right, left | (+1, -1) | (+1, -1) |
| 5 | (0,0) | (1,1) | red at (0,2) | left, right | (+1, 0) | (0, 0) |
| 6 | (2,1) | (1,1) | blue at (0,1) | down, up | (+1, -1) | (0, +1) |
| 7 | (1,1) | (2,2) | red at (0,0) | up, up | (0, 0) | (0, 0) |

Row 1: red takes its own coin. Row 2: red takes blue's coin, blue loses 2. Rows 3 and 4: a
tie; both take the coin, the owner nets +1 - 2 = -1, whichever colour it is. Row 5: with
wrap-around red's move left from column 0 lands on the coin at column 2; without it red
stays. Row 6: with wrap-around red's move down from row 2 lands on row 0 as blue reaches
the coin too (a tie on blue's coin); without it red stays and blue takes its own coin.
Row 7: nobody reaches the coin; only the positions change.

After every taking, the new coin lies on a cell without a player and has the other colour.

**Arguments.** ``grid_size=3`` (>= 2: two players and a coin need 3 cells),
``max_steps=16``, ``wrap=True``, ``noop_action=False``, ``new_coin_colour="alternate"``,
``reward_own=1``, ``reward_other=1``, ``penalty=-2``. Invalid values raise an error naming
the argument. The single-agent Gymnasium view adds ``opponent`` (default ``"random"``).

**Randomness.** Every sub-environment draws from its own counter-based stream, so a
trajectory is the same for any batch size and device; the exact use of each random word
is documented in :mod:`social_dilemmas.envs.coin_game`.

**Example.**

```python
import gymnasium as gym
import torch
import social_dilemmas  # registers the ids

env = gym.make("social_dilemmas/CoinGame-v0")  # against a uniformly random co-player
obs, info = env.reset(seed=0)
obs, reward, terminated, truncated, info = env.step(0)  # move right

batch = social_dilemmas.make_batched("CoinGame-v0", batch_size=8192, wrap=False)
obs = batch.reset(seed=0)                            # [8192, 2, 36]
out = batch.step(torch.randint(0, 4, (8192, 2)))
print(out.reward.mean(0), out.metrics["own_coin"].sum(0))
```

**Version history.**
- v0: initial release (the decisions above).

**Citation.** Foerster, Chen, Al-Shedivat, Whiteson, Abbeel, Mordatch. Learning with
Opponent-Learning Awareness. AAMAS 2018. Lerer, Peysakhovich. Maintaining cooperation in
complex social dilemmas using deep reinforcement learning. arXiv 1707.01068, 2017.
"""

from social_dilemmas.adapters.pettingzoo_env import module_factories

parallel_env, env, raw_env = module_factories("CoinGame-v0")
