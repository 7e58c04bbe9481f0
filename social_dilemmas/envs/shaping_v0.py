"""Co-player shaping meta-environment — ``social_dilemmas/<Game>-Shaping-v0``.

The batched co-player shaping POMDP of Meulemans et al., "Multi-agent cooperation through
learning-aware policy gradients" (ICLR 2025, arXiv 2410.18636), §2.3: the learner ("ego") plays
``M`` inner episodes of a game against co-players that *learn* between inner episodes, so what
the ego does now changes whom it faces later. Every registered game has one:

| id | game |
|---|---|
| ``social_dilemmas/IPD-Shaping-v0`` | ``IPD-v0`` |
| ``social_dilemmas/IteratedMatchingPennies-Shaping-v0`` | ``IteratedMatchingPennies-v0`` |
| ``social_dilemmas/IteratedStagHunt-Shaping-v0`` | ``IteratedStagHunt-v0`` |
| ``social_dilemmas/IteratedChicken-Shaping-v0`` | ``IteratedChicken-v0`` |
| ``social_dilemmas/IteratedMatrixGame-Shaping-v0`` | ``IteratedMatrixGame-v0`` |
| ``social_dilemmas/CleanUpLite-Shaping-v0`` | ``CleanUpLite-v0`` |
| ``social_dilemmas/CleanUpLite-Shaping-v1`` | ``CleanUpLite-v1`` |
| ``social_dilemmas/CoinGame-Shaping-v0`` | ``CoinGame-v0`` |

| | |
|---|---|
| Ego | ``player_0`` of the game; the co-player is ``player_1`` |
| Actions | the game's, ``Discrete(A)`` per sub-environment |
| Observation | the game's observation from the ego's side (IPD: ``Box(0, 1, (5,), float32)``), plus the optional history channels and co-player parameters below |
| Reward | the ego's reward of the step (float) |
| Episode | one meta-episode: ``M`` inner episodes of ``T`` steps (``M T`` steps), then ``terminated`` |
| Import | ``gym.make("social_dilemmas/IPD-Shaping-v0")``, ``gym.make_vec(..., vectorization_mode=...)``, ``ShapingMetaEnv`` (torch) |

**Geometry.** ``meta_batch`` co-players (slots) each face ``B = batch_size`` parallel games of
the ego; a learning co-player updates on the ``B`` inner episodes of its slot. The vector face
has ``num_envs = meta_batch * B`` sub-environments, slot-major (sub-env ``j * B + b`` is game
``b`` against co-player ``j``).

**What ``num_envs`` means — the same in every vectorization mode.** ``num_envs`` alone is the
number of co-players, one game each (``meta_batch = num_envs``, ``B = 1``):
``gym.make_vec(id, num_envs=4, vectorization_mode="sync")`` (4 single-agent views) and
``vectorization_mode="vector_entry_point"`` (one batched env) are the same experiment, and with
the same seeds the same trajectories. To let each co-player learn from several games, say so:
``batch_size=B`` (or ``meta_batch=``) with ``vectorization_mode="vector_entry_point"``; the
single-agent view (``gym.make``, ``sync``, ``async``) refuses ``batch_size`` or ``meta_batch``
other than 1 with a message that names this form.

**Arguments** (keyword; all faces unless noted).

| argument | default | meaning |
|---|---|---|
| ``game`` | set by the id | the registered game |
| ``num_inner_episodes`` | 20 | ``M`` |
| ``max_steps`` | the game's ``T`` | inner-episode length ``T`` (a game argument, as are the game's others) |
| ``coplayer`` | ``"naive"`` | ``"naive"`` (A2C naive learners with the paper's Table 8 settings), a fixed strategy name (``"tit_for_tat"``...), 5 cooperation probabilities, ``{"kind": ..., **options}`` or a co-player object |
| ``coplayer_kwargs`` | ``None`` | options of a named co-player (e.g. ``{"model": "mlp", "learning_rate": 0.01}``) |
| ``history`` | ``()`` | extra observation channels (previous actions and reward, inner-episode start/index; ``social_dilemmas.wrappers.history``) |
| ``privileged_coplayer_params`` | ``False`` | append the co-player's parameters to the observation (an ablation) |
| ``update_at_last_boundary`` | ``False`` | also update the co-player at the meta-episode end (it cannot matter: the next meta-episode draws fresh co-players) |
| ``meta_batch``, ``batch_size`` | see above | geometry (vector face) |
| ``autoreset_mode`` | ``NEXT_STEP`` | Gymnasium's autoreset mode (vector face) |
| ``output`` | ``"numpy"`` | ``"torch"``: tensors on ``device`` (vector face) |
| ``device`` | ``"cpu"`` | torch device of the simulation |
| ``render_mode`` | ``None`` | the game's modes (``"ansi"``, ``"rgb_array"``; ``"human"`` in the single-agent view) |

``max_episode_steps`` is refused by the vector face: a meta-episode lasts ``M T`` steps, set by
``num_inner_episodes`` and ``max_steps``.

**The three boundaries.**

1. *Step*: one joint action in all ``meta_batch * B`` games.
2. *Inner episode* (every ``T`` steps, all games together): the games restart inside that step
   (the returned observation is the next inner episode's first), and each learning co-player
   updates once on its slot's ``B`` finished inner episodes. It is **not** an episode end:
   ``terminated`` and ``truncated`` stay false, and ``info["inner_episode_done"]`` is true;
   ``info["inner_episode"]`` is the index ``m`` of the inner episode the step belonged to, and
   the step's infos carry the slot's statistics of the finished inner episode
   (``coplayer_coop_rate``, ``ego_coop_rate``, ``coplayer_action_freq``, ``coplayer_return``,
   ``ego_return``, ``update/<name>`` diagnostics). A learner must keep its memory across it:
   the ego's long context spanning inner episodes is the point of the setting.
3. *Meta-episode* (after ``M`` inner episodes): ``terminated=True`` (never ``truncated``: the
   horizon ``M T`` is part of the problem). Its infos add the whole meta-episode's statistics,
   ``info["meta_episode/<name>"]`` with one entry per inner episode. The next meta-episode has
   fresh co-players.

**Autoreset modes** (vector face; the attribute ``autoreset_mode`` and
``metadata["autoreset_mode"]``, implemented by the same code as the games' vector face):

- ``NEXT_STEP`` (default): the step after a meta-episode ends starts the next one, returns its
  first observation with reward 0 and both flags false, and ignores the actions. Gymnasium's
  vector wrappers (``FlattenObservation``, ``NormalizeObservation``...) need this mode or
  ``DISABLED``.
- ``SAME_STEP``: the step that ends a meta-episode returns the next one's first observation;
  the last observation is in ``info["final_obs"]`` and that step's infos in
  ``info["final_info"]`` (``SyncVectorEnv``'s layout). Stable-Baselines3 and torchrl use it.
- ``DISABLED``: stepping after the end raises until ``reset()``. torchrl prefers it.

Only whole resets exist (``options["reset_mask"]`` must select every sub-environment): all
meta-episodes end together and a slot's co-player is shared by its games.

**Clients.** SB3: ``stable_baselines3.common.env_util.make_vec_env(id, n_envs=N)`` (``N``
single-agent views), or ``social_dilemmas.adapters.meta_gymnasium.make_sb3_vec_env(...)`` for
the batched face, whose infos at the meta-episode end hold ``episode`` (``r``, ``l``, ``t`` as
SB3's ``Monitor`` has them, plus ``coplayer_return``, ``coplayer_coop_rate``,
``coplayer_coop_rate_last``, ``ego_coop_rate``) and ``meta_episode`` (per inner episode).
torchrl: ``GymWrapper(gym.make_vec(id, ..., autoreset_mode="Disabled"))``. The two-agent
meta-game (two long-context agents, no learning inside the meta-episode) is the PettingZoo face
``social_dilemmas.adapters.meta_pettingzoo.MetaParallelEnv``.

**Example.**

```python
import gymnasium as gym
import numpy as np
import social_dilemmas  # registers the ids

# 2 co-players (fixed tit-for-tat here) x 3 games each, M = 2 inner episodes of T = 10 steps
envs = gym.make_vec("social_dilemmas/IPD-Shaping-v0", num_envs=6, batch_size=3, num_inner_episodes=2,
                    coplayer="tit_for_tat", vectorization_mode="vector_entry_point")
obs, info = envs.reset(seed=0)                     # obs [6, 5]
for step in range(20):
    obs, reward, terminated, truncated, info = envs.step(np.zeros(6, dtype=np.int64))
    assert info["inner_episode_done"].all() == (step % 10 == 9)
assert terminated.all() and info["meta_episode/coplayer_coop_rate"].shape == (6, 2)
```

**Version history.**
- v0: initial release.

**Citation.** Meulemans, Kobayashi, von Oswald, Scherrer, Elmoznino, Richards, Lajoie,
Agüera y Arcas, Sacramento. Multi-agent cooperation through learning-aware policy
gradients. ICLR 2025.
"""

from social_dilemmas.adapters.meta_gymnasium import ShapingEnv, ShapingVectorEnv, make_sb3_vec_env
from social_dilemmas.wrappers.shaping import ShapingMetaEnv

__all__ = ["ShapingEnv", "ShapingMetaEnv", "ShapingVectorEnv", "make_sb3_vec_env"]
