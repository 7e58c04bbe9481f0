"""Policy and value losses over whole long-context sequences (PPO clipped surrogate, A2C).

Layout: every per-step tensor is ``[*lead, mb, B, L]``: optional leading dims (the population of
learning agents ``P``), the meta-batch of co-players ``mb``, the ``B`` trajectories per
co-player, the long time axis ``L = M * T``. Per-slot tensors (``is_naive``, weights) are
``[*lead, mb]``. Every reduction keeps the leading dims apart: with a population, each agent's
loss is the mean over *its own* rollouts and the returned loss is the sum over agents, so each
agent's parameters receive exactly the gradient of its own loss.

Decisions on points the paper leaves open (paper App. A.4, Tables 4 and 7), all configurable:

* **Advantage normalisation** is *centering* (the paper's word) by default, done separately for
  the trajectories against naive learners and those against other agents (``is_naive`` mask);
  ``normalize_std=True`` also divides each group by its standard deviation.
* **Sum over b** (paper Thm 3.1, Eq. 6-7). COALA-PG and M-FOS *sum* per-trajectory terms over the
  ``B`` trajectories of a co-player, while the batch-unaware (and meta-vs-meta) gradient
  averages them. ``batch_scaling="sum"`` restores the sum by weighting the surrogate of
  naive-opponent trajectories by ``B`` (the literal reading of App. A.4, as in kay-le/pax);
  ``batch_scaling="mean"`` leaves the plain mean and relies on advantage normalisation
  (option (b)). Meta-vs-meta trajectories always get weight 1 (they use the batch-unaware
  estimator, which averages). The presets use ``"sum"`` for pure shaping (there it only sets the
  policy loss's scale against the value loss) and ``"mean"`` for mixed pools, where ``"sum"``
  leaves the meta-vs-meta gradient ~1/(3B+1) of the total at ``p_naive = 0.75`` and the agents
  did not learn to cooperate with each other (``docs/coala.md``, Fig. 5C).
* **Value clipping** uses the PPO clip range as the value clip range (PPO convention).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch

BatchScaling = Literal["sum", "mean"]


def rescale_rewards(rewards: torch.Tensor, scale: float) -> torch.Tensor:
    """Multiply rewards by a constant before any value / policy-gradient computation.

    The paper uses 0.05 (IPD) and 0.1 (CleanUp-lite); metrics stay in the original scale.
    """
    return rewards * float(scale)


def _slot_mask(is_naive: torch.Tensor | None, adv: torch.Tensor) -> torch.Tensor:
    lead = adv.shape[:-2]
    if is_naive is None:
        return torch.ones(lead, dtype=torch.bool, device=adv.device)
    if tuple(is_naive.shape) != tuple(lead):
        raise ValueError(f"is_naive must have shape {list(lead)} (the slots of adv {list(adv.shape)}), "
                         f"got {list(is_naive.shape)}")
    return is_naive.to(torch.bool)


def center_advantages(
    adv: torch.Tensor,
    is_naive: torch.Tensor | None = None,
    *,
    normalize_std: bool = False,
    eps: float = 1e-8,
    reduce_sum: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Centre (optionally standardise) advantages separately per opponent kind.

    Args:
        adv: ``[*lead, mb, B, L]``.
        is_naive: ``[*lead, mb]`` bool, which meta-batch slots face a naive learner; ``None``
            means one group. Statistics are taken over ``(mb, B, L)`` of each group, separately
            for every index of the leading dims (each agent of a population on its own).
        normalize_std: also divide each group by its (biased) standard deviation + ``eps``.
        reduce_sum: sums a tensor over the ranks of a data-parallel run (in place), so the
            statistics are those of the global meta-batch when ``adv`` holds one rank's slots.
    """
    mask = _slot_mask(is_naive, adv)
    out = adv
    shape = (*mask.shape, 1, 1)
    n_per_slot = adv.shape[-2] * adv.shape[-1]
    for group in (mask, ~mask):
        g = group.to(adv.dtype).view(shape)
        total = (adv * g).sum((-3, -2, -1))
        count = group.to(adv.dtype).sum(-1) * n_per_slot  # [*lead]
        if reduce_sum is not None:
            both = reduce_sum(torch.stack([total, count]))
            total, count = both[0], both[1]
        count = count.clamp_min(1.0)
        mean = total / count
        centred = adv - mean.view(*mean.shape, 1, 1, 1)
        if normalize_std:
            sq = (centred.square() * g).sum((-3, -2, -1))
            var = (sq if reduce_sum is None else reduce_sum(sq)) / count
            centred = centred / (var.sqrt() + eps).view(*var.shape, 1, 1, 1)
        out = torch.where(g.bool().expand_as(adv), centred, out)
    return out


def batch_scaling_weights(
    is_naive: torch.Tensor, *, estimator: str, batch_size: int, mode: BatchScaling
) -> torch.Tensor:
    """Per-slot loss weights ``[*lead, mb]`` implementing the "sum over b" of COALA / M-FOS.

    ``B`` for naive-opponent slots when ``mode == "sum"`` and the estimator sums over b
    (``"coala"``, ``"mfos"``), else 1.
    """
    if mode not in ("sum", "mean"):
        raise ValueError(f"batch_scaling must be 'sum' or 'mean', got {mode!r}")
    w = torch.ones(is_naive.shape, dtype=torch.float32, device=is_naive.device)
    if mode == "sum" and estimator in ("coala", "mfos"):
        w = torch.where(is_naive.to(torch.bool), torch.full_like(w, float(batch_size)), w)
    return w


def _weighted_mean(x: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    """Mean over ``(mb, B, L)`` per leading index, summed over the leading dims (a scalar)."""
    if weight is not None:
        x = x * weight.to(x.dtype).unsqueeze(-1).unsqueeze(-1)
    return x.mean((-3, -2, -1)).sum()


@dataclass(frozen=True)
class PolicyStats:
    """Diagnostics of a policy loss (detached scalars, averaged over the leading dims)."""

    clip_fraction: torch.Tensor
    approx_kl: torch.Tensor


def ppo_policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    adv: torch.Tensor,
    clip_eps: float,
    weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, PolicyStats]:
    """PPO clipped surrogate ``-E[w * min(rho A, clip(rho, 1-eps, 1+eps) A)]``.

    Args:
        logp, old_logp, adv: ``[*lead, mb, B, L]`` (``old_logp`` and ``adv`` are constants).
        weight: optional per-slot weights ``[*lead, mb]`` (see :func:`batch_scaling_weights`).
    """
    log_ratio = logp - old_logp.detach()
    ratio = log_ratio.exp()
    adv = adv.detach()
    surr = torch.min(ratio * adv, ratio.clamp(1.0 - clip_eps, 1.0 + clip_eps) * adv)
    loss = -_weighted_mean(surr, weight)
    with torch.no_grad():
        clip_frac = ((ratio - 1.0).abs() > clip_eps).float().mean()
        approx_kl = ((ratio - 1.0) - log_ratio).mean()  # the k3 estimator (Schulman)
    return loss, PolicyStats(clip_frac, approx_kl)


def a2c_policy_loss(
    logp: torch.Tensor, adv: torch.Tensor, weight: torch.Tensor | None = None
) -> tuple[torch.Tensor, PolicyStats]:
    """Vanilla policy-gradient surrogate ``-E[w * log pi(a|h) A]`` (one step, no ratio)."""
    loss = -_weighted_mean(logp * adv.detach(), weight)
    zero = torch.zeros((), device=logp.device)
    return loss, PolicyStats(zero, zero)


def value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    targets: torch.Tensor,
    clip_eps: float | None,
) -> torch.Tensor:
    """``0.5 * E[max((V - R)^2, (V_old + clip(V - V_old, -eps, eps) - R)^2)]`` (clip optional)."""
    targets = targets.detach()
    err = (values - targets).square()
    if clip_eps is not None:
        old = old_values.detach()
        clipped = old + (values - old).clamp(-clip_eps, clip_eps)
        err = torch.max(err, (clipped - targets).square())
    return 0.5 * _weighted_mean(err, None)


def entropy_mean(entropy: torch.Tensor) -> torch.Tensor:
    """Mean entropy per agent, summed over the leading dims."""
    return _weighted_mean(entropy, None)
