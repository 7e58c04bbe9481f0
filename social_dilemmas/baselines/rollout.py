"""Collect one meta-episode per learning agent with the ego model in step mode.

A population of ``P`` learning (meta) agents is one :class:`~social_dilemmas.models.PolicyValueModel`
with ``P`` members. Agent ``p`` plays in its own
:class:`~social_dilemmas.wrappers.shaping.ShapingMetaEnv` (``meta_batch`` co-players, ``B``
games each, ``M`` inner episodes of ``T`` steps), whose opponent pool never draws ``p`` itself.
All agents act in one batched model step per time step; the envs step one after the other.

The ego's long-context memory (the model's carry) starts fresh at the meta-episode start and
is **never** reset within the meta-episode: inner-episode boundaries are only recorded
(paper App. B.2.1, B.3). Layout of every stored tensor: ``[P, meta_batch, B, L, ...]`` with
``L = M * T``; flattening ``(meta_batch, B)`` to ``N`` gives the model's ``[P, N, L]``
(slot-major: row ``j * B + b`` is game ``b`` of slot ``j``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from social_dilemmas.models import PolicyValueModel
from social_dilemmas.models.functional import log_probs_entropy, sample_actions_from_uniforms


@dataclass
class Rollout:
    """One meta-episode of every agent.

    Attributes:
        obs: ``[P, mb, B, L, D]`` ego observations (the input at each step).
        actions: ``[P, mb, B, L]`` int64 ego actions.
        logp: ``[P, mb, B, L]`` log-probability of the action under the acting policy.
        values: ``[P, mb, B, L]`` the critic's ``V(h_l)`` at acting time.
        rewards: ``[P, mb, B, L]`` ego rewards (unscaled, game units).
        coplayer_rewards: ``[P, mb, B, L]`` co-player rewards (unscaled).
        coplayer_actions: ``[P, mb, B, L]`` co-player actions, or ``None`` if the env hides them.
        is_naive: ``[P, mb]`` bool, which slots faced a naive learner.
        metrics: per-step game metrics averaged over the steps and the ``B`` games of each
            slot, ``name -> [P, mb, K]`` (``K`` = 2 for per-player metrics, ego first; 1 for
            per-game ones such as CleanUp-lite's pollution).
        coplayer_diagnostics: co-player statistics recorded at the inner boundaries, ``name ->
            [num_envs, 2]`` float64 (sum, count) of their finite per-slot entries per env, so
            they can be summed over ranks before averaging (:mod:`.metrics`).
        timings: seconds spent in ``rollout`` (all of it) and ``coplayer_update`` (inside it).
        inner_episode_length: ``T``.
    """

    obs: Tensor
    actions: Tensor
    logp: Tensor
    values: Tensor
    rewards: Tensor
    coplayer_rewards: Tensor
    coplayer_actions: Tensor | None
    is_naive: Tensor
    inner_episode_length: int
    metrics: dict[str, Tensor] = field(default_factory=dict)
    coplayer_diagnostics: dict[str, Tensor] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(P, meta_batch, B, L)``."""
        p, mb, b, length = self.actions.shape
        return p, mb, b, length

    def select_slots(self, idx: Tensor) -> Rollout:
        """The sub-rollout of meta-batch slots ``idx`` (same slots for every agent)."""
        take = lambda x: None if x is None else x[:, idx]  # noqa: E731
        return Rollout(
            obs=take(self.obs), actions=take(self.actions), logp=take(self.logp), values=take(self.values),
            rewards=take(self.rewards), coplayer_rewards=take(self.coplayer_rewards),
            coplayer_actions=take(self.coplayer_actions), is_naive=self.is_naive[:, idx],
            inner_episode_length=self.inner_episode_length,
        )


class Timer:
    """Accumulates wall-clock seconds per name (synchronising CUDA when used)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.totals: dict[str, float] = {}

    def sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*a: Any, **kw: Any) -> Any:
            self.sync()
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.sync()
                self.totals[name] = self.totals.get(name, 0.0) + time.perf_counter() - t0

        return timed


def collect(
    model: PolicyValueModel,
    envs: Sequence[Any],
    seeds: Sequence[int],
    generator: torch.Generator,
    *,
    timer: Timer | None = None,
    greedy: bool = False,
    reset_at_inner_boundary: bool = False,
    slot_offset: int = 0,
    global_meta_batch: int | None = None,
) -> Rollout:
    """Play one meta-episode in every env, agent ``p`` of ``model`` in ``envs[p]``.

    Args:
        model: the learning agents (``model.population == len(envs)``).
        envs: one ShapingMetaEnv per agent, all with the same geometry.
        seeds: the reset seed of each env (its co-players, games and opponent draws).
        generator: the source of the ego's action-sampling uniforms (on the model's device).
        timer: optional; its ``coplayer_update`` total is reported (the envs' co-players'
            ``update`` must be wrapped with it by the caller).
        greedy: play the arg-max action instead of sampling (evaluation).
        reset_at_inner_boundary: reset the ego's memory at every inner-episode start (for
            policies that only see the current inner episode: LOLA-DiCE, naive learners).
            Learning-aware agents keep the default (never reset within a meta-episode).
        slot_offset, global_meta_batch: the envs hold global slots ``slot_offset ..
            slot_offset + meta_batch - 1`` of a meta-batch of ``global_meta_batch`` (one rank's
            share in a data-parallel run). The ego's uniforms are drawn for the whole global
            batch and sliced, so every game gets the numbers it gets in a single process.
    """
    p_count = model.population
    if len(envs) != p_count or len(seeds) != p_count:
        raise ValueError(f"need one env and one seed per agent: P={p_count}, {len(envs)} envs, {len(seeds)} seeds")
    env0 = envs[0]
    mb, b_size = env0.meta_batch, env0.batch_size
    m_count = env0.num_inner_episodes
    t_len = env0.inner_episode_length
    length = m_count * t_len
    n = mb * b_size
    n_all = n if global_meta_batch is None else int(global_meta_batch) * b_size
    first = int(slot_offset) * b_size
    if first + n > n_all:
        raise ValueError(f"slots {slot_offset}..{slot_offset + mb - 1} do not fit a meta-batch of {global_meta_batch}")
    device = model.device
    start_update = timer.totals.get("coplayer_update", 0.0) if timer is not None else 0.0
    t0 = time.perf_counter()

    obs_list = [env.reset(seed=int(s)) for env, s in zip(envs, seeds)]  # draws each slot's co-player
    obs_now = torch.stack([o.to(device=device, dtype=model.dtype).reshape(n, -1) for o in obs_list])  # [P, N, D]
    d = obs_now.shape[-1]
    is_naive = torch.stack([_is_naive(env, mb) for env in envs]).to(device)

    obs = torch.empty((p_count, n, length, d), dtype=model.dtype, device=device)
    actions = torch.empty((p_count, n, length), dtype=torch.int64, device=device)
    logp = torch.empty((p_count, n, length), dtype=model.dtype, device=device)
    values = torch.empty((p_count, n, length), dtype=model.dtype, device=device)
    rewards = torch.empty((p_count, n, length), dtype=torch.float32, device=device)
    co_rewards = torch.empty((p_count, n, length), dtype=torch.float32, device=device)
    co_actions: Tensor | None = torch.empty((p_count, n, length), dtype=torch.int64, device=device)
    metric_sums: dict[str, Tensor] = {}

    carry = model.initial_carry(n, device)
    for t in range(length):
        obs[:, :, t] = obs_now
        if reset_at_inner_boundary and t > 0 and t % t_len == 0:
            carry = tuple(torch.zeros_like(c) for c in carry)
        with torch.no_grad():  # (not around env.step: naive co-players learn inside it)
            logits, value, carry = model.step(obs_now, carry)
            if greedy:
                act = logits.argmax(-1)
            else:
                u = torch.rand((p_count, n_all), generator=generator, device=device)
                if n_all != n:
                    u = u[:, first:first + n]
                act = sample_actions_from_uniforms(logits, u)
            lp, _ = log_probs_entropy(logits, act)
        actions[:, :, t] = act
        logp[:, :, t] = lp
        values[:, :, t] = value
        nxt = []
        for p, env in enumerate(envs):
            out = env.step(act[p].view(mb, b_size))
            nxt.append(out.obs.to(device=device, dtype=model.dtype).reshape(n, -1))
            rewards[p, :, t] = out.reward.reshape(n)
            co_rewards[p, :, t] = out.coplayer_reward.reshape(n)
            ca = getattr(out, "coplayer_action", None)
            if ca is None:
                co_actions = None
            elif co_actions is not None:
                co_actions[p, :, t] = ca.reshape(n)
            for k, v in (getattr(out, "metrics", None) or {}).items():
                v = v.to(device=device, dtype=torch.float32).reshape(mb, b_size, -1).mean(1)  # [mb, K]
                if k not in metric_sums:
                    metric_sums[k] = torch.zeros((p_count, *v.shape), dtype=torch.float32, device=device)
                metric_sums[k][p] += v
        obs_now = torch.stack(nxt)
    if timer is not None:
        timer.sync()
    elapsed = time.perf_counter() - t0
    upd = (timer.totals.get("coplayer_update", 0.0) - start_update) if timer is not None else 0.0

    def split(x: Tensor | None) -> Tensor | None:
        return None if x is None else x.view(p_count, mb, b_size, length, *x.shape[3:])

    diag = _coplayer_diagnostics(envs)
    return Rollout(
        obs=split(obs), actions=split(actions), logp=split(logp), values=split(values),  # type: ignore[arg-type]
        rewards=split(rewards), coplayer_rewards=split(co_rewards), coplayer_actions=split(co_actions),  # type: ignore[arg-type]
        is_naive=is_naive, inner_episode_length=t_len,
        metrics={k: v / length for k, v in metric_sums.items()},
        coplayer_diagnostics=diag,
        timings={"rollout": elapsed, "coplayer_update": upd},
    )


def _is_naive(env: Any, mb: int) -> Tensor:
    """The env's per-slot naive mask (all true for a plain naive-learner co-player)."""
    mask = getattr(env, "is_naive", None)
    if mask is None:
        mask = getattr(env.coplayer, "is_naive", None)
    if mask is None:
        kind = getattr(env.coplayer, "kind", "")
        mask = torch.full((mb,), kind == "naive")
    return torch.as_tensor(mask, dtype=torch.bool).reshape(mb).cpu()


def _coplayer_diagnostics(envs: Sequence[Any]) -> dict[str, Tensor]:
    """Sums and counts of the co-player statistics the envs recorded at the inner boundaries.

    Reads ``env.last_meta_episode_stats`` (``{name: [boundaries, meta_batch, ...]}``) and, for
    the scalar-per-slot ones (co-player cooperation rate, update losses), returns ``name ->
    [len(envs), 2]`` float64 rows ``(sum, count)`` of the finite entries of each env.
    """
    out: dict[str, Tensor] = {}
    for e, env in enumerate(envs):
        stats = getattr(env, "last_meta_episode_stats", None)
        if not isinstance(stats, dict):
            continue
        for k, v in stats.items():
            if not isinstance(v, Tensor) or v.dim() != 2:
                continue
            v = v.double()
            ok = torch.isfinite(v)
            row = out.setdefault(k, torch.zeros((len(envs), 2), dtype=torch.float64))
            row[e, 0] = float(torch.where(ok, v, 0.0).sum())
            row[e, 1] = float(ok.sum())
    return out
