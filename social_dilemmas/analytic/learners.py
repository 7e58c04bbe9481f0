"""Exact naive learners and the objectives of learning-aware agents in the analytic IPD.

Conventions (paper §4, App. C):

* A policy is 5 cooperation logits ``[..., 5]``, own action first; the learning-aware
  ("meta") agent sits in seat 1 and its co-player in seat 2.
* Two scale choices the paper leaves open are options (``docs/analytic.md`` compares them):

  - ``return_scale``: ``"per_round"`` (default) — learning rates act on the *normalized*
    return ``(1 - gamma) J``, reward per round on the payoffs' scale, so they mean the same
    for every ``gamma``; ``"total"`` — on the discounted sum ``J`` as the paper prints it
    (Eq. 15-16), i.e. every naive step is ``1 / (1 - gamma)`` times larger (20x at
    ``gamma = 0.95``). Reported returns are per round either way.
  - ``episode_reduction`` of Eq. 17: ``"mean"`` (default) over the ``M + 1`` inner episodes
    of the naive learning trajectory, or ``"sum"`` as printed (``M + 1`` times the mean).

* A naive learner takes exact gradient-ascent steps on its *own* return,
  ``psi <- psi + eta_naive * d J_2(phi, psi) / d psi`` (Eq. 17 with ``J_2``: the naive step
  of the co-player uses the co-player's return).

Objectives (all return tensors the caller ascends with autograd):

* :func:`shaping_objective` — Eq. 17, averaged instead of summed over the ``M + 1`` inner
  episodes of a naive learner's trajectory and over a meta-batch of naive learners;
  gradients flow through the whole unrolled naive learning trajectory.
* :func:`partial_objective` — meta vs meta: ``J_1(phi_i, stopgrad(phi_j))``, whose gradient is
  the partial derivative (one meta-vs-meta episode: tabular meta agents do not adapt).
* :func:`mixed_objective` — a group of meta agents per seed; each agent's gradient is
  ``p_naive * shaping_weight * shaping gradient + (1 - p_naive) * partial gradient`` against
  the other members. Averaging (not summing) the shaping objective over episodes, with
  ``shaping_weight = 1``, puts both terms on the same per-episode scale.
"""

from __future__ import annotations

from typing import Any

import torch

from social_dilemmas.analytic.markov import _returns_from_probs, check_gamma, check_policy, reward_vectors
from social_dilemmas.core.validation import check_choice, check_nonneg_int, check_probability
from social_dilemmas.envs.payoffs import PRISONERS_DILEMMA, PayoffTable

#: What learning rates act on: the per-round return ``(1 - gamma) J`` or the discounted sum ``J``.
RETURN_SCALES = ("per_round", "total")
#: How Eq. 17 combines the ``M + 1`` inner episodes of a naive learning trajectory.
EPISODE_REDUCTIONS = ("mean", "sum")


def return_factor(return_scale: str, gamma: float) -> float:
    """``J / ((1 - gamma) J)`` for ``return_scale="total"`` (``1 / (1 - gamma)``), else 1.

    Objectives and naive steps are computed on the per-round return and multiplied by this
    factor, which is exactly the gradient of ``J`` for ``"total"``.
    """
    check_choice("return_scale", return_scale, RETURN_SCALES)
    return 1.0 / (1.0 - gamma) if return_scale == "total" else 1.0


def values(logits1: torch.Tensor, logits2: torch.Tensor, gamma: float, rewards: torch.Tensor) -> torch.Tensor:
    """Normalized returns ``[..., 2]`` of seats 1 and 2, unchecked (hot loops; see :mod:`.markov`)."""
    return (1.0 - gamma) * _returns_from_probs(torch.sigmoid(logits1), torch.sigmoid(logits2), gamma, rewards)


def check_rate(name: str, value: Any) -> float:
    """``value`` as a finite float >= 0."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not (0.0 <= v < float("inf")):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return v


def naive_unroll(
    meta: torch.Tensor,
    naive: torch.Tensor,
    steps: int,
    lr: float,
    gamma: float,
    table: PayoffTable = PRISONERS_DILEMMA,
    *,
    differentiable: bool = True,
    return_scale: str = "per_round",
) -> list[torch.Tensor]:
    """A naive learner's parameters ``[psi_0, ..., psi_steps]``, each ``[..., 5]``.

    Args:
        meta: ``[..., 5]`` the fixed co-player's logits (seat 1); if it requires grad and
            ``differentiable`` is true, every ``psi_m`` is a differentiable function of it.
        naive: ``[..., 5]`` the naive learner's initial logits ``psi_0`` (seat 2). Treated as
            a constant: gradients never flow into it.
        steps: number of gradient steps ``M``.
        lr: ``eta_naive``, the naive learning rate (on the return ``return_scale`` names).
        gamma: discount in (0, 1).
        differentiable: build the graph for second-order gradients (``create_graph``).
        return_scale: ``"per_round"`` or ``"total"`` (see the module docstring).
    """
    meta = check_policy("meta", meta)
    naive = check_policy("naive", naive)
    steps = check_nonneg_int("steps", steps)
    lr = check_rate("lr", lr)
    gamma = check_gamma(gamma)
    rewards = reward_vectors(table, meta.dtype, meta.device)
    return _unroll(meta, naive, steps, lr * return_factor(return_scale, gamma), gamma, rewards, differentiable)


def _unroll(meta, naive, steps, lr, gamma, rewards, differentiable) -> list[torch.Tensor]:
    track = differentiable and meta.requires_grad
    if not track:
        meta = meta.detach()
    psi = naive.detach()
    traj = [psi]
    for _ in range(steps):
        x = psi if psi.requires_grad else psi.detach().requires_grad_(True)
        with torch.enable_grad():
            own = values(meta, x, gamma, rewards)[..., 1]
            (g,) = torch.autograd.grad(own.sum(), x, create_graph=track)
        psi = x + lr * g if track else (x + lr * g).detach()
        traj.append(psi)
    return traj


def shaping_objective(
    meta: torch.Tensor,
    naive_init: torch.Tensor,
    steps: int,
    lr_naive: float,
    gamma: float,
    table: PayoffTable = PRISONERS_DILEMMA,
    *,
    return_scale: str = "per_round",
    episode_reduction: str = "mean",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Eq. 17: the meta agent's return over a naive learner's learning trajectory.

    Args:
        meta: ``[..., 5]`` the learning-aware agent's logits.
        naive_init: ``[..., B, 5]`` a meta-batch of ``B`` naive learners' initial logits.
        steps: naive updates ``M``; the average runs over the ``M + 1`` inner episodes.
        lr_naive, gamma, return_scale: as in :func:`naive_unroll`.
        episode_reduction: ``"mean"`` or ``"sum"`` over the ``M + 1`` episodes.

    Returns:
        ``(objective [...], info)``: the objective (episodes reduced by ``episode_reduction``,
        the meta-batch averaged, times :func:`return_factor`);
        ``info`` holds detached ``meta_return`` and ``naive_return`` ``[..., B, M + 1]`` and the
        naive learners' final logits ``naive_final [..., B, 5]``.
    """
    meta = check_policy("meta", meta)
    naive_init = check_policy("naive_init", naive_init)
    if naive_init.dim() < 2:
        raise ValueError(f"naive_init must have shape [..., B, 5] (a meta-batch of naive learners), got "
                         f"{list(naive_init.shape)}")
    steps = check_nonneg_int("steps", steps)
    lr_naive = check_rate("lr_naive", lr_naive)
    gamma = check_gamma(gamma)
    factor = return_factor(return_scale, gamma)
    reduction = check_choice("episode_reduction", episode_reduction, EPISODE_REDUCTIONS)
    rewards = reward_vectors(table, meta.dtype, meta.device)
    return _shaping(meta, naive_init, steps, lr_naive, gamma, rewards, factor, reduction)


def _shaping(meta, naive_init, steps, lr, gamma, rewards, factor=1.0, reduction="mean"):
    m = meta.unsqueeze(-2)  # [..., 1, 5] against [..., B, 5]
    traj = _unroll(m, naive_init, steps, lr * factor, gamma, rewards, True)
    vals = torch.stack([values(m, psi, gamma, rewards) for psi in traj], dim=-2)  # [..., B, M+1, 2]
    per_episode = vals[..., 0].mean(dim=-2)  # [..., M+1]: averaged over the meta-batch
    objective = factor * (per_episode.sum(-1) if reduction == "sum" else per_episode.mean(-1))
    info = {"meta_return": vals[..., 0].detach(), "naive_return": vals[..., 1].detach(),
            "naive_final": traj[-1].detach()}
    return objective, info


def partial_objective(
    agent: torch.Tensor, other: torch.Tensor, gamma: float, table: PayoffTable = PRISONERS_DILEMMA
) -> torch.Tensor:
    """Meta vs meta: ``J_1(agent, stopgrad(other))`` ``[...]``; its gradient is the partial one."""
    agent = check_policy("agent", agent)
    other = check_policy("other", other)
    gamma = check_gamma(gamma)
    return values(agent, other.detach(), gamma, reward_vectors(table, agent.dtype, agent.device))[..., 0]


def group_partial(group: torch.Tensor, gamma: float, rewards: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each member's return against every other member, ``group [..., n, 5]``.

    Returns ``(objective [..., n], pair_returns [..., n, n])``: ``objective[i]`` is the mean of
    ``J_1(phi_i, stopgrad(phi_j))`` over ``j != i`` (its gradient is the partial gradient) and
    ``pair_returns[i, j]`` the detached return of ``i`` against ``j`` (diagonal: self-play).
    """
    n = group.shape[-2]
    if n < 2:
        raise ValueError(f"a group needs at least 2 meta agents for meta-vs-meta play, got {n}")
    a = group.unsqueeze(-2)  # [..., n, 1, 5]
    b = group.detach().unsqueeze(-3)  # [..., 1, n, 5]
    pair = values(a, b, gamma, rewards)[..., 0]  # [..., n, n]
    off = 1.0 - torch.eye(n, dtype=pair.dtype, device=pair.device)
    return (pair * off).sum(-1) / (n - 1), pair.detach()


def mixed_objective(
    group: torch.Tensor,
    naive_init: torch.Tensor,
    p_naive: float,
    steps: int,
    lr_naive: float,
    gamma: float,
    table: PayoffTable = PRISONERS_DILEMMA,
    *,
    return_scale: str = "per_round",
    episode_reduction: str = "mean",
    shaping_weight: float = 1.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Mixed-group surrogate objective ``[..., n]`` of ``n`` meta agents ``group [..., n, 5]``.

    The gradient of ``objective[..., i]`` with respect to agent ``i`` is ``p_naive *
    shaping_weight`` times its shaping gradient against the naive learners ``naive_init [...,
    n, B, 5]`` (Eq. 17, episodes reduced by ``episode_reduction``) plus ``1 - p_naive`` times
    its partial gradient against the other members; both on the return ``return_scale``
    names. ``shaping_weight`` (>= 0) rescales the naive-opponent term against the
    agent-vs-agent term, as a sum over trajectories would in RL. Terms with weight 0 are
    skipped. ``info`` holds detached ``pair_returns [..., n, n]`` and, when
    ``p_naive > 0``, the shaping ``info`` of :func:`shaping_objective`.
    """
    group = check_policy("group", group)
    if group.dim() < 2:
        raise ValueError(f"group must have shape [..., n, 5], got {list(group.shape)}")
    p_naive = check_probability("p_naive", p_naive)
    steps = check_nonneg_int("steps", steps)
    lr_naive = check_rate("lr_naive", lr_naive)
    gamma = check_gamma(gamma)
    factor = return_factor(return_scale, gamma)
    reduction = check_choice("episode_reduction", episode_reduction, EPISODE_REDUCTIONS)
    shaping_weight = check_rate("shaping_weight", shaping_weight)
    if p_naive == 1 and shaping_weight == 0:
        raise ValueError("shaping_weight=0 with p_naive=1 leaves no gradient at all; use shaping_weight > 0 "
                         "or p_naive < 1")
    rewards = reward_vectors(table, group.dtype, group.device)
    partial, pair = group_partial(group, gamma, rewards)
    info: dict[str, torch.Tensor] = {"pair_returns": pair}
    objective = (1.0 - p_naive) * factor * partial if p_naive < 1 else torch.zeros_like(partial)
    if p_naive > 0 and shaping_weight > 0:
        naive_init = check_policy("naive_init", naive_init)
        if naive_init.shape[:-2] != group.shape[:-1]:
            raise ValueError(f"naive_init must have shape [..., n, B, 5] matching group {list(group.shape)}, "
                             f"got {list(naive_init.shape)}")
        shaping, s_info = _shaping(group, naive_init, steps, lr_naive, gamma, rewards, factor, reduction)
        objective = objective + p_naive * shaping_weight * shaping
        info.update(s_info)
    return objective, info


__all__ = [
    "EPISODE_REDUCTIONS",
    "RETURN_SCALES",
    "check_rate",
    "group_partial",
    "mixed_objective",
    "naive_unroll",
    "partial_objective",
    "return_factor",
    "shaping_objective",
    "values",
]
