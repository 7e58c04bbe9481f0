"""The batched co-player shaping meta-environment (Meulemans et al. 2025, §2.3): learning co-players, torch-native.

Geometry (COALA-PG's terms). A **meta-episode** is ``M`` inner episodes of ``T`` steps (``T`` =
the game's ``max_steps``), played ``B`` times in parallel against one co-player; the
**meta-batch** holds ``meta_batch`` co-players side by side. Everything is ONE tensor batch of
``meta_batch * B`` games of the batched game core, slot-major (row ``j * B + b`` is game ``b``
of co-player ``j``); the ego-facing tensors are shaped ``[meta_batch, B, ...]``.

Boundaries. Every ``T`` steps all games end together (a time limit) and the core's same-step
autoreset starts the next inner episode in the same call. At that **inner boundary**:

* a learning co-player updates ONCE, on the ``B`` just-finished inner episodes of its slot
  (:meth:`update` of e.g. :class:`~social_dilemmas.coplayers.naive.NaiveLearner`), as one
  batched computation over the meta-batch; fixed co-players and frozen agents do not update;
* co-player memory is reset where the co-player asks for it (naive learners and fixed
  strategies: yes; long-context "agent" co-players: never);
* the ego's memory is the ego's business: nothing here resets it, the env only reports the
  boundary (``inner_done``).

So exactly ``M - 1`` updates matter per meta-episode: after inner episodes ``0 .. M-2``. **At the
last boundary (the meta-episode end) the co-player is not updated** by default — an update
there could not influence anything the ego sees, because the next meta-episode starts from a
fresh co-player (a new init draw, fresh optimiser state). Pass ``update_at_last_boundary=True``
to run it anyway (e.g. to log the naive learner's last loss). The meta-episode end is a
*termination* (``meta_done``), not a truncation: the shaping POMDP has a fixed horizon ``M T``.

API (torch-native; the Gymnasium and PettingZoo faces in ``social_dilemmas.adapters`` adapt it)::

    env = ShapingMetaEnv(game="IPD-v0", coplayer="naive", meta_batch=128, batch_size=16,
                         num_inner_episodes=20, history=(), device="cpu", game_kwargs=None)
    obs = env.reset(seed=0)          # [meta_batch, B, *obs_shape] float32 ego observations
    out = env.step(ego_actions)      # ego_actions [meta_batch, B] int64
    out.obs, out.reward, out.coplayer_reward, out.inner_done, out.meta_done, out.inner_episode,
    out.final_obs, out.metrics, out.coplayer_action, out.boundary_stats

Design choices beyond the paper's description: ``coplayer`` defaults to ``"naive"``; extra
keyword-only arguments ``privileged_coplayer_params``, ``coplayer_kwargs``, ``autoreset``
(default ``True``: at ``meta_done`` the next meta-episode starts in the same call, ``out.obs``
is its first observation and ``out.final_obs`` the last one of the finished meta-episode;
``False``: ``out.obs`` is the final observation and stepping again needs :meth:`reset`),
``update_at_last_boundary``, ``validate``, ``profile``.

Seeding. ``reset(seed=s)`` gives game ``i`` of the flat batch the seed ``s + i`` (the vector-env
convention) and slot ``j`` a per-slot random stream keyed by ``s + j * B`` (used for the naive
init draw and the pool's opponent draws, streams 300-302). Co-player actions are sampled with
each game's own counter-based uniforms (stream ``COPLAYER_STREAM``). Hence the same seed gives
the same meta-episode, and each slot's trajectory and co-player parameters depend only on its
own seeds and its own ego actions (tested: perturbing one slot changes nothing elsewhere).
An unseeded ``reset()`` (and the meta-episode autoreset) continues every random stream.

Co-players (``coplayer=``): ``"naive"`` (Table 8 defaults for the game, Hawk; options through
``coplayer_kwargs``, e.g. ``{"model": "gru", "learning_rate": 0.01}``), a fixed strategy name
(``"tit_for_tat"``, ``"always_defect"``, ... see :mod:`social_dilemmas.coplayers.fixed`), 5
cooperation probabilities, a dict ``{"kind": ..., **options}``, or any co-player object
(:class:`~social_dilemmas.coplayers.naive.NaiveLearner`,
:class:`~social_dilemmas.coplayers.agent.AgentCoPlayer`,
:class:`~social_dilemmas.coplayers.pool.OpponentPool`, your own). Optional hooks the env uses
when present: ``begin_meta_episode(slot_rng)``, ``update(episodes)``,
``inner_reset_mask(n) -> [n] bool``, ``parameter_vector() -> [meta_batch, K]``, ``is_naive``.
Co-players act on their own observation (agent 1's self-first view).

History channels (``history=``, default off = exactly the game observation, the paper's
setting): see :mod:`social_dilemmas.wrappers.history`. ``privileged_coplayer_params=True`` (an
M-FOS-style ablation, never on by default) appends the co-player's current flattened
parameters (``[meta_batch, K]``, refreshed after every update) to every observation of its slot.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from social_dilemmas.coplayers.fixed import ALIASES, NAMED_MEMORY1, make_strategy
from social_dilemmas.coplayers.naive import InnerEpisodeBatch, NaiveLearner, default_naive_config
from social_dilemmas.core.game import COPLAYER_STREAM, BatchedGame, first_bad_action
from social_dilemmas.core.rng import RNG, sample_categorical, seeds_for_batch
from social_dilemmas.core.validation import MAX_BATCH, MAX_STEPS, allocation_guard, check_positive_int
from social_dilemmas.registration import get_entry, make_game
from social_dilemmas.wrappers.history import HistoryChannels, parse_history

__all__ = ["COPLAYER_KINDS", "MetaStepOutput", "ShapingMetaEnv", "make_coplayer"]

#: Co-player kinds accepted as strings (besides the fixed-strategy names).
COPLAYER_KINDS = ("naive", "agent", "pool", "fixed")


@dataclass(frozen=True)
class MetaStepOutput:
    """What one :meth:`ShapingMetaEnv.step` returns. ``mb`` = meta_batch.

    Attributes:
        obs: ``[mb, B, *obs]`` the ego observation to act on next.
        reward: ``[mb, B]`` float32 ego reward of this step.
        coplayer_reward: ``[mb, B]`` float32 co-player reward of this step.
        inner_done: ``[mb, B]`` bool, this step ended an inner episode.
        meta_done: ``[mb, B]`` bool, this step ended the meta-episode (a termination).
        inner_episode: ``[mb, B]`` int64, index ``m`` of the inner episode this step belonged to.
        final_obs: ``[mb, B, *obs]`` the ego's last observation of the inner episode (or
            meta-episode) that just ended; equals ``obs`` where nothing ended.
        coplayer_action: ``[mb, B]`` int64 the co-player's action this step.
        metrics: the game's per-step metrics, each ``[mb, B, ...]``.
        boundary_stats: at an inner boundary, per-slot statistics of the finished inner episode
            (``[mb]`` tensors, see :meth:`ShapingMetaEnv.inner_episode_stats`); else empty.
        inner_boundary: python bool, ``inner_done`` (the same for every game).
        meta_boundary: python bool, ``meta_done``.
    """

    obs: Tensor
    reward: Tensor
    coplayer_reward: Tensor
    inner_done: Tensor
    meta_done: Tensor
    inner_episode: Tensor
    final_obs: Tensor
    coplayer_action: Tensor
    metrics: dict[str, Tensor] = field(default_factory=dict)
    boundary_stats: dict[str, Tensor] = field(default_factory=dict)
    inner_boundary: bool = False
    meta_boundary: bool = False


# ----------------------------------------------------------------------------- co-player resolution


def make_coplayer(
    spec: Any,
    *,
    game: BatchedGame,
    meta_batch: int,
    game_id: str | None = None,
    device: torch.device | str = "cpu",
    **kwargs: Any,
) -> Any:
    """Resolve a co-player spec (see the module docstring) for ``game`` and ``meta_batch``."""
    spec_ = game.spec
    obs_dim = int(np.prod(spec_.obs_shape))
    if isinstance(spec, dict):
        kwargs = {**{k: v for k, v in spec.items() if k != "kind"}, **kwargs}
        if "kind" not in spec:
            raise ValueError(f"a co-player dict needs a 'kind' (one of {', '.join(COPLAYER_KINDS)}), got {spec!r}")
        spec = spec["kind"]
    if spec is None or spec == "naive":
        return NaiveLearner(obs_dim, spec_.num_actions, meta_batch, default_naive_config(game_id or spec_.name),
                            device=device, **kwargs)
    if isinstance(spec, str):
        if spec in ("agent", "pool"):
            build = ("AgentCoPlayer(agents, meta_batch)" if spec == "agent"
                     else "OpponentPool(meta_batch, p_naive, naive, agents, ego_index)")
            raise ValueError(f"co-player kind {spec!r} needs trained agents: build {build} "
                             "from social_dilemmas.coplayers and pass the object as coplayer=")
        if spec == "fixed":
            spec = kwargs.pop("strategy", None)
            if spec is None:
                raise ValueError("co-player kind 'fixed' needs strategy=<name or 5 probabilities>")
        elif spec not in NAMED_MEMORY1 and spec not in ALIASES:
            raise ValueError(
                f"unknown co-player {spec!r}; kinds: {', '.join(COPLAYER_KINDS)}, fixed strategies: "
                f"{', '.join(list(NAMED_MEMORY1) + list(ALIASES))}, or pass a co-player object"
            )
    if kwargs:
        raise TypeError(f"fixed co-player {spec!r} takes no options, got {sorted(kwargs)}")
    if isinstance(spec, (str, list, tuple, Tensor)) or hasattr(spec, "action_probs"):
        try:
            return make_strategy(spec, spec_.num_actions, obs_dim)
        except ValueError as e:
            raise ValueError(f"co-player {spec!r} cannot play {spec_.name}: {e}") from None
    raise TypeError(f"co-player must be a kind name, a strategy, a dict or a co-player object; got {spec!r}")


def _reward_bounds(game: BatchedGame) -> tuple[float, float]:
    table = getattr(game, "table", None)
    if table is not None and hasattr(table, "payoffs"):
        vals = np.asarray(table.payoffs, dtype=np.float64)[..., 0]
        return float(vals.min()), float(vals.max())
    bounds = getattr(game, "reward_bounds", None)
    if bounds is not None:
        return float(bounds[0]), float(bounds[1])
    return -math.inf, math.inf


class _Timer:
    def __init__(self, enabled: bool, device: torch.device) -> None:
        self.enabled = enabled
        self.cuda = device.type == "cuda"
        self.totals: dict[str, float] = {"coplayer_act": 0.0, "game_step": 0.0, "coplayer_update": 0.0, "other": 0.0}
        self._t = 0.0

    def start(self) -> None:
        if self.enabled:
            if self.cuda:
                torch.cuda.synchronize()
            self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        if self.enabled:
            if self.cuda:
                torch.cuda.synchronize()
            now = time.perf_counter()
            self.totals[name] += now - self._t
            self._t = now


# ----------------------------------------------------------------------------- the meta-environment


class ShapingMetaEnv:
    """The batched co-player shaping POMDP over any registered two-player game.

    Args:
        game: a registered id (``"IPD-v0"``, with or without ``social_dilemmas/``) or a
            :class:`~social_dilemmas.core.game.BatchedGame` instance.
        coplayer: who the ego faces (see the module docstring); default ``"naive"``.
        meta_batch: number of co-players (meta-batch slots), >= 1.
        batch_size: ``B``, parallel games per co-player, >= 1.
        num_inner_episodes: ``M``, inner episodes per meta-episode, >= 1.
        history: optional history channels (:mod:`social_dilemmas.wrappers.history`).
        privileged_coplayer_params: append the co-player's parameters to the ego observation
            (an ablation; breaks the paper's setting, hence off by default).
        device: torch device of everything.
        game_kwargs: options of the game (e.g. ``{"max_steps": 10}``); ignored for an instance.
        coplayer_kwargs: options for a co-player given by name (e.g. naive-learner settings).
        autoreset: start the next meta-episode inside the step that ends one (default True).
        update_at_last_boundary: also update a learning co-player at the meta-episode end.
        validate: check ego actions (costs a device sync per step).
        profile: accumulate wall-clock time per phase in :attr:`timings` (syncs on GPU).
    """

    def __init__(
        self,
        game: str | BatchedGame = "IPD-v0",
        coplayer: Any = "naive",
        meta_batch: int = 128,
        batch_size: int = 16,
        num_inner_episodes: int = 20,
        history: str | Iterable[str] | bool | None = (),
        device: torch.device | str = "cpu",
        game_kwargs: dict[str, Any] | None = None,
        *,
        privileged_coplayer_params: bool = False,
        coplayer_kwargs: dict[str, Any] | None = None,
        autoreset: bool = True,
        update_at_last_boundary: bool = False,
        validate: bool = True,
        profile: bool = False,
    ) -> None:
        self.meta_batch = check_positive_int("meta_batch", meta_batch, MAX_BATCH)
        self.batch_size = check_positive_int("batch_size", batch_size, MAX_BATCH)
        if self.meta_batch * self.batch_size > MAX_BATCH:
            raise ValueError(f"meta_batch * batch_size must be <= {MAX_BATCH} games, got "
                             f"{self.meta_batch} * {self.batch_size} = {self.meta_batch * self.batch_size}")
        self.num_inner_episodes = check_positive_int("num_inner_episodes", num_inner_episodes, MAX_STEPS)
        if isinstance(game, BatchedGame):
            self.game = game
            self.game_id = game.spec.name
        else:
            self.game_id = get_entry(game).id
            if game_kwargs is not None and not isinstance(game_kwargs, dict):
                raise TypeError(f"game_kwargs must be None or a dict of {self.game_id} options, got {game_kwargs!r}")
            self.game = make_game(self.game_id, device=device, **(game_kwargs or {}))
        self.device = self.game.device
        spec = self.game.spec
        if spec.num_agents != 2:
            raise ValueError(f"the shaping meta-environment needs a two-player game; "
                             f"{spec.name} has {spec.num_agents} agents")
        self.spec = spec
        self.inner_episode_length = self.game.max_steps
        self.num_envs = self.meta_batch * self.batch_size
        self.num_actions = spec.num_actions
        self.autoreset = bool(autoreset)
        self.update_at_last_boundary = bool(update_at_last_boundary)
        self.validate = bool(validate)

        # -- co-player
        if isinstance(coplayer, (str, dict, list, tuple)) or coplayer is None:
            coplayer = make_coplayer(coplayer, game=self.game, meta_batch=self.meta_batch, game_id=self.game_id,
                                     device=self.device, **(coplayer_kwargs or {}))
        elif coplayer_kwargs:
            raise TypeError("coplayer_kwargs only apply to a co-player given by name")
        if not hasattr(coplayer, "action_probs"):
            raise TypeError(f"co-player must provide action_probs(obs, memory); got {type(coplayer).__name__}")
        if getattr(coplayer, "num_actions", self.num_actions) != self.num_actions:
            raise ValueError(f"the co-player plays {coplayer.num_actions} actions, {spec.name} has {self.num_actions}")
        cp_mb = getattr(coplayer, "meta_batch", None)
        if cp_mb is not None and cp_mb != self.meta_batch:
            raise ValueError(f"the co-player was built for meta_batch={cp_mb}, "
                             f"the env has meta_batch={self.meta_batch}")
        cp_dim = getattr(coplayer, "obs_dim", None)
        if cp_dim is not None and cp_dim != int(np.prod(spec.obs_shape)):
            raise ValueError(f"the co-player expects obs_dim={cp_dim}, "
                             f"{spec.name} observations have {int(np.prod(spec.obs_shape))}")
        self.coplayer = coplayer
        self.learning = callable(getattr(coplayer, "update", None))

        # -- observation layout
        self.history = HistoryChannels(parse_history(history), self.num_actions, self.num_inner_episodes,
                                       _reward_bounds(self.game))
        self.privileged = bool(privileged_coplayer_params)
        if (self.history or self.privileged) and len(spec.obs_shape) != 1:
            raise ValueError(
                f"history channels / privileged parameters need a flat (1-D) game observation; {spec.name} "
                f"observations have shape {spec.obs_shape}"
            )
        self._priv_dim = 0
        if self.privileged:
            if not callable(getattr(coplayer, "parameter_vector", None)) and not hasattr(coplayer, "p_cooperate"):
                raise ValueError(
                    f"privileged_coplayer_params=True needs a co-player exposing its parameters "
                    f"(parameter_vector() or p_cooperate); {type(coplayer).__name__} does not"
                )
            self._priv_dim = int(self._coplayer_params().shape[1])
        low = np.broadcast_to(np.asarray(spec.obs_low, dtype=np.float32), spec.obs_shape).reshape(-1)
        high = np.broadcast_to(np.asarray(spec.obs_high, dtype=np.float32), spec.obs_shape).reshape(-1)
        if self.history or self.privileged:
            low = np.concatenate([low, self.history.low, np.full(self._priv_dim, -np.inf, np.float32)])
            high = np.concatenate([high, self.history.high, np.full(self._priv_dim, np.inf, np.float32)])
            self.observation_shape: tuple[int, ...] = (low.shape[0],)
        else:
            self.observation_shape = tuple(spec.obs_shape)
        self.observation_dim = int(np.prod(self.observation_shape))
        self.single_observation_space = gym.spaces.Box(low.reshape(self.observation_shape),
                                                       high.reshape(self.observation_shape), dtype=np.float32)
        self.single_action_space = gym.spaces.Discrete(self.num_actions)

        # -- buffers for the co-player's update (views handed to update(), overwritten each inner episode)
        mb, b, t = self.meta_batch, self.batch_size, self.inner_episode_length
        dev = self.device
        with allocation_guard(f"the co-player update buffers of meta_batch={mb} x batch_size={b} x T={t} steps "
                              f"of {spec.name} on {dev}"):
            self._buf_obs = torch.zeros((mb, b, t, *spec.obs_shape), dtype=torch.float32, device=dev)
            self._buf_act = torch.zeros((mb, b, t), dtype=torch.int64, device=dev)
            self._buf_rew = torch.zeros((mb, b, t), dtype=torch.float32, device=dev)
            self._buf_ego_act = torch.zeros((mb, b, t), dtype=torch.int64, device=dev)
            self._buf_ego_rew = torch.zeros((mb, b, t), dtype=torch.float32, device=dev)

        self.timer = _Timer(bool(profile), dev)
        self._state: Any = None
        self._slot_rng: RNG | None = None
        self._needs_reset = True
        self.meta_episode_count = 0
        self.last_meta_episode_stats: dict[str, Tensor] = {}
        self._stats: list[dict[str, Tensor]] = []

    # ------------------------------------------------------------------ properties

    @property
    def observation_space(self) -> gym.spaces.Box:
        """Alias of :attr:`single_observation_space` (one ego game)."""
        return self.single_observation_space

    @property
    def action_space(self) -> gym.spaces.Discrete:
        return self.single_action_space

    @property
    def game_state(self) -> Any:
        """The batched game state of the ``meta_batch * B`` games (``None`` before :meth:`reset`), e.g. to render."""
        return self._state

    @property
    def meta_episode_length(self) -> int:
        """``M * T`` steps."""
        return self.num_inner_episodes * self.inner_episode_length

    @property
    def is_naive(self) -> Tensor:
        """``[meta_batch]`` bool: which slots face a naive (learning) co-player this meta-episode."""
        mask = getattr(self.coplayer, "is_naive", None)
        if isinstance(mask, Tensor):
            return mask.to(self.device)
        return torch.full((self.meta_batch,), getattr(self.coplayer, "kind", None) == "naive", device=self.device)

    @property
    def inner_episode(self) -> int:
        """Index ``m`` of the current inner episode."""
        return self._m

    @property
    def inner_step(self) -> int:
        """Steps taken in the current inner episode."""
        return self._t

    @property
    def timings(self) -> dict[str, float]:
        """Seconds spent per phase since construction (only with ``profile=True``)."""
        return dict(self.timer.totals)

    # ------------------------------------------------------------------ reset

    def seeds_for(self, seed: Any) -> Tensor:
        """The per-game seeds ``[meta_batch * B]`` that ``reset(seed)`` uses."""
        return seeds_for_batch(seed, self.num_envs, "game of the meta_batch x B")

    def reset(self, seed: int | Sequence[int] | Tensor | None = None) -> Tensor:
        """Start a new meta-episode; returns the ego observations ``[meta_batch, B, *obs]``.

        ``seed=None`` continues every random stream (fresh entropy on the very first reset).
        """
        if seed is None and self._state is not None:
            self._state, obs = self.game.reset_from(self._state.rng)
            self._slot_rng = self._slot_rng.advance()  # type: ignore[union-attr]
        else:
            seeds = self.seeds_for(seed).to(self.device)
            self._state, obs = self.game.reset(seeds)
            self._slot_rng = RNG.from_seeds(seeds[:: self.batch_size])
        self._game_obs = obs
        self._begin_meta_episode()
        return self._ego_obs(obs, None, None, None, inner_start=True, inner_index=0)

    def _begin_meta_episode(self) -> None:
        cp = self.coplayer
        if callable(getattr(cp, "begin_meta_episode", None)):
            cp.begin_meta_episode(self._slot_rng)
        n = self.num_envs
        self._co_mem = cp.initial_memory(n, self.device)
        mask_fn = getattr(cp, "inner_reset_mask", None)
        if callable(mask_fn):
            self._inner_reset = mask_fn(n).to(self.device)
        else:
            resets = bool(getattr(cp, "resets_at_inner_boundary", True))
            self._inner_reset = torch.full((n,), resets, device=self.device)
        self._inner_reset_any = bool(self._inner_reset.any())
        self._m = 0
        self._t = 0
        self._early_done = torch.zeros(n, dtype=torch.bool, device=self.device)
        self._stats = []
        self._priv = self._coplayer_params() if self.privileged else None
        self._needs_reset = False
        self.meta_episode_count += 1

    # ------------------------------------------------------------------ step

    def step(self, ego_actions: Tensor | np.ndarray) -> MetaStepOutput:
        """Advance every game one step with the ego's ``ego_actions [meta_batch, B]``."""
        if self._needs_reset:
            raise RuntimeError("call reset() first" if self._state is None else
                               "the meta-episode has ended and autoreset=False: call reset() before stepping again")
        mb, b = self.meta_batch, self.batch_size
        timer = self.timer
        timer.start()
        ego = self._check_actions(ego_actions)

        # co-player acts on its own (agent 1's) view
        co_obs = self._game_obs[:, 1]
        probs, self._co_mem = self.coplayer.action_probs(co_obs, self._co_mem)
        co_act = sample_categorical(probs, self._state.rng.uniform(COPLAYER_STREAM))
        timer.lap("coplayer_act")

        state, out = self.game.step(self._state, torch.stack((ego, co_act), dim=1), autoreset=True, validate=False)
        self._state = state
        timer.lap("game_step")

        t, m = self._t, self._m
        self._buf_obs[:, :, t] = co_obs.reshape(mb, b, *co_obs.shape[1:])
        self._buf_act[:, :, t] = co_act.view(mb, b)
        self._buf_rew[:, :, t] = out.reward[:, 1].view(mb, b)
        self._buf_ego_act[:, :, t] = ego.view(mb, b)
        self._buf_ego_rew[:, :, t] = out.reward[:, 0].view(mb, b)
        self._t = t + 1
        inner_done = self._t == self.inner_episode_length
        meta_done = inner_done and m == self.num_inner_episodes - 1
        ego_reward = out.reward[:, 0]

        stats: dict[str, Tensor] = {}
        if not inner_done:
            self._early_done |= out.done
            self._game_obs = out.obs
            obs = self._ego_obs(out.obs, ego, co_act, ego_reward, inner_start=False, inner_index=m)
            final_obs = obs
            timer.lap("other")
        else:
            if bool(self._early_done.any()) or not bool(out.done.all()):
                raise RuntimeError(
                    f"{self.spec.name}: a game ended before the inner-episode length T={self.inner_episode_length} "
                    "(a termination); the shaping meta-environment needs all B games of a co-player to end together"
                )
            stats = self._boundary(m, last=meta_done)
            final_obs = self._ego_obs(out.final_obs, ego, co_act, ego_reward, inner_start=False, inner_index=m,
                                      priv=stats.pop("_priv_before", None))
            self._game_obs = out.obs
            if meta_done:
                self.last_meta_episode_stats = self.inner_episode_stats()
                if self.autoreset:
                    self._slot_rng = self._slot_rng.advance()  # type: ignore[union-attr]
                    self._begin_meta_episode()
                    obs = self._ego_obs(out.obs, None, None, None, inner_start=True, inner_index=0)
                else:
                    self._needs_reset = True
                    obs = final_obs
            else:
                obs = self._ego_obs(out.obs, ego, co_act, ego_reward, inner_start=True, inner_index=self._m)
            timer.lap("other")

        shape = (mb, b)
        return MetaStepOutput(
            obs=obs,
            reward=ego_reward.view(shape),
            coplayer_reward=out.reward[:, 1].view(shape),
            inner_done=torch.full(shape, inner_done, dtype=torch.bool, device=self.device),
            meta_done=torch.full(shape, meta_done, dtype=torch.bool, device=self.device),
            inner_episode=torch.full(shape, m, dtype=torch.int64, device=self.device),
            final_obs=final_obs,
            coplayer_action=co_act.view(shape),
            metrics={k: v.reshape(mb, b, *v.shape[1:]) for k, v in out.metrics.items()},
            boundary_stats=stats,
            inner_boundary=inner_done,
            meta_boundary=meta_done,
        )

    def _boundary(self, m: int, last: bool) -> dict[str, Tensor]:
        """Inner-episode boundary: statistics, the co-player's update, memory reset."""
        timer = self.timer
        episodes = InnerEpisodeBatch(self._buf_obs, self._buf_act, self._buf_rew, self._buf_ego_act,
                                     self._buf_ego_rew, index=m)
        mb, a = self.meta_batch, self.num_actions
        freq = torch.nn.functional.one_hot(self._buf_act.reshape(mb, -1), a).to(torch.float32).mean(1)
        ego_freq = torch.nn.functional.one_hot(self._buf_ego_act.reshape(mb, -1), a).to(torch.float32).mean(1)
        stats: dict[str, Tensor] = {
            "coplayer_coop_rate": freq[:, 0],
            "ego_coop_rate": ego_freq[:, 0],
            "coplayer_action_freq": freq,
            "coplayer_return": self._buf_rew.sum(2).mean(1),
            "ego_return": self._buf_ego_rew.sum(2).mean(1),
        }
        priv_before = self._priv
        timer.lap("other")
        if self.learning and (not last or self.update_at_last_boundary):
            diag = self.coplayer.update(episodes)
            for k, v in (diag or {}).items():
                stats[f"update/{k}"] = v.detach().to(self.device)
            if self.privileged:
                self._priv = self._coplayer_params()
            timer.lap("coplayer_update")
        if self._inner_reset_any:
            self._co_mem = self.coplayer.reset_memory(self._co_mem, self._inner_reset)
        self._stats.append(stats)
        self._m = m + 1
        self._t = 0
        self._early_done.zero_()
        out = dict(stats)
        if self.privileged:
            out["_priv_before"] = priv_before  # type: ignore[assignment]
        return out

    # ------------------------------------------------------------------ observations

    def _coplayer_params(self) -> Tensor:
        cp = self.coplayer
        fn = getattr(cp, "parameter_vector", None)
        # a memory-1 strategy exposes its 5 cooperation probabilities, the same for every slot
        vec = fn() if callable(fn) else cp.p_cooperate.reshape(1, -1).expand(self.meta_batch, -1)
        vec = vec.to(device=self.device, dtype=torch.float32)
        if vec.shape[0] != self.meta_batch:
            raise ValueError(f"parameter_vector() must return [meta_batch={self.meta_batch}, K], got {list(vec.shape)}")
        return vec

    def _ego_obs(
        self, game_obs: Tensor, prev_own: Tensor | None, prev_co: Tensor | None, prev_reward: Tensor | None,
        *, inner_start: bool, inner_index: int, priv: Tensor | None = None,
    ) -> Tensor:
        mb, b, n = self.meta_batch, self.batch_size, self.num_envs
        own = game_obs[:, 0]
        if not (self.history or self.privileged):
            return own.reshape(mb, b, *own.shape[1:])
        parts = [own.reshape(n, -1)]
        if self.history:
            parts.append(self.history.features(n, self.device, prev_own=prev_own, prev_coplayer=prev_co,
                                               prev_reward=prev_reward, inner_start=inner_start,
                                               inner_index=inner_index))
        if self.privileged:
            p = self._priv if priv is None else priv
            parts.append(p.repeat_interleave(b, dim=0))  # type: ignore[union-attr]
        return torch.cat(parts, dim=1).view(mb, b, -1)

    def _check_actions(self, actions: Any) -> Tensor:
        mb, b = self.meta_batch, self.batch_size
        if isinstance(actions, np.ndarray):
            actions = torch.from_numpy(actions)
        if not isinstance(actions, Tensor):
            raise TypeError(f"ego_actions must be a torch.Tensor of shape [{mb}, {b}], got {type(actions).__name__}")
        if actions.dtype.is_floating_point or actions.dtype == torch.bool or actions.is_complex():
            raise ValueError(f"ego_actions must have an integer dtype, got {actions.dtype}")
        if tuple(actions.shape) not in ((mb, b), (mb * b,)):
            raise ValueError(f"ego_actions must have shape [meta_batch, B] = [{mb}, {b}], got {list(actions.shape)}")
        bad = first_bad_action(actions, self.num_actions) if self.validate else None
        if bad is not None:
            raise ValueError(f"ego_actions must lie in [0, {self.num_actions}) "
                             f"({', '.join(self.spec.action_meanings)}), got {bad}")
        return actions.to(device=self.device, dtype=torch.int64).reshape(-1)

    # ------------------------------------------------------------------ diagnostics

    def inner_episode_stats(self) -> dict[str, Tensor]:
        """Per-slot statistics of every inner episode finished so far in this meta-episode.

        Returns ``{name: [m_finished, meta_batch, ...]}``: ``coplayer_coop_rate`` /
        ``ego_coop_rate`` (fraction of action 0 — "cooperate" in the IPD), ``coplayer_action_freq``
        (``[.., A]``), ``coplayer_return`` / ``ego_return`` (mean undiscounted inner-episode
        return), and, for learning co-players, ``update/<name>`` diagnostics of every update
        (``NaN`` where no update ran, e.g. at the last boundary). After a meta-episode ends, the
        finished one's statistics are in :attr:`last_meta_episode_stats`.
        """
        if not self._stats:
            return {}
        keys: list[str] = []
        for s in self._stats:
            keys += [k for k in s if k not in keys]
        out = {}
        for k in keys:
            ref = next(s[k] for s in self._stats if k in s)
            rows = [s[k] if k in s else torch.full_like(ref, float("nan"), dtype=torch.float32) for s in self._stats]
            out[k] = torch.stack([r.to(torch.float32) for r in rows])
        return out

    def __repr__(self) -> str:
        return (f"ShapingMetaEnv({self.game_id}, coplayer={self.coplayer!r}, meta_batch={self.meta_batch}, "
                f"B={self.batch_size}, M={self.num_inner_episodes}, T={self.inner_episode_length}, "
                f"history={self.history.channels}, device={self.device})")
