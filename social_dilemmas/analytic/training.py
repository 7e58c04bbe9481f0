"""Batched meta-training loops of the analytic IPD: many seeds at once, AdamW.

All seeds live in one parameter tensor (``[S, ..., 5]``); AdamW acts elementwise, so one
optimizer over the stacked tensor is exactly ``S`` independent runs. Objectives are
*ascended*. Randomness (the naive learners' initial logits, drawn afresh at every step)
comes from one seeded ``torch.Generator``, so a run is reproducible from its ``seed``.

Defaults follow the paper where it gives a value (AdamW with Optax's defaults — weight decay
1e-4 — and ``lr = eta_meta = 0.005``) and are documented choices otherwise (see
``docs/analytic.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from social_dilemmas.analytic.learners import mixed_objective, shaping_objective
from social_dilemmas.analytic.lola import lola_objective
from social_dilemmas.analytic.markov import check_policy
from social_dilemmas.core.validation import check_nonneg_int, check_positive_int

Objective = Callable[[torch.Tensor, int], tuple[torch.Tensor, dict[str, torch.Tensor]]]


@dataclass
class History:
    """What a training run logged every ``log_every`` steps (and at the last step).

    Attributes:
        steps: ``[L]`` the step index of each record (0 = before any update).
        params: ``[L, *param_shape]`` logits at those steps.
        metrics: name -> ``[L, ...]`` detached metrics returned by the objective.
    """

    steps: torch.Tensor
    params: torch.Tensor
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def final(self) -> torch.Tensor:
        """The logits after the last step."""
        return self.params[-1]


def ascend(
    init: torch.Tensor,
    objective: Objective,
    steps: int,
    *,
    lr: float = 0.005,
    weight_decay: float = 1e-4,
    log_every: int = 10,
    keep: tuple[str, ...] = (),
) -> History:
    """Gradient ascent on ``objective(params, step).sum()`` with AdamW.

    Args:
        init: initial logits, any shape ``[..., 5]`` (copied, float64).
        objective: ``(params, step) -> (objective, metrics)``; ``objective`` is summed, so
            independent seeds must not share parameters.
        steps: number of AdamW updates.
        lr, weight_decay: AdamW settings (Optax defaults otherwise).
        log_every: record params and the metrics named in ``keep`` every this many steps.
    """
    steps = check_nonneg_int("steps", steps)
    log_every = check_positive_int("log_every", log_every)
    params = check_policy("init", init).detach().to(torch.float64).clone().requires_grad_(True)
    opt = torch.optim.AdamW([params], lr=lr, weight_decay=weight_decay, betas=(0.9, 0.999), eps=1e-8)
    rec_steps: list[int] = []
    rec_params: list[torch.Tensor] = []
    rec_metrics: dict[str, list[torch.Tensor]] = {k: [] for k in keep}
    for step in range(steps + 1):
        obj, metrics = objective(params, step)
        if step % log_every == 0 or step == steps:
            rec_steps.append(step)
            rec_params.append(params.detach().clone())
            for k in keep:
                rec_metrics[k].append(metrics[k].detach().clone())
        if step == steps:
            break
        opt.zero_grad(set_to_none=True)
        (-obj.sum()).backward()
        opt.step()
    return History(
        steps=torch.tensor(rec_steps),
        params=torch.stack(rec_params),
        metrics={k: torch.stack(v) for k, v in rec_metrics.items()},
    )


def naive_sampler(shape: tuple[int, ...], seed: int, scale: float = 1.0) -> Callable[[int], torch.Tensor]:
    """``step -> [*shape, 5]`` fresh naive-learner logits ``N(0, scale^2)``, reproducible from ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))

    def sample(step: int) -> torch.Tensor:
        return scale * torch.randn(*shape, 5, generator=gen, dtype=torch.float64)

    return sample


def train_shaping(
    init: torch.Tensor,
    steps: int,
    *,
    naive_steps: int = 20,
    naive_batch: int = 16,
    lr_naive: float = 5.0,
    gamma: float = 0.95,
    naive_scale: float = 1.0,
    seed: int = 0,
    lr: float = 0.005,
    log_every: int = 10,
    return_scale: str = "per_round",
    episode_reduction: str = "mean",
) -> History:
    """Train learning-aware agents ``init [S, 5]`` against naive learners only (Fig. 3A, 9).

    Every step draws ``naive_batch`` fresh naive learners per seed. Logged metrics:
    ``meta_return`` and ``naive_return`` ``[L, S]`` (averaged over the learning trajectory and
    the meta-batch).
    """
    sample = naive_sampler((init.shape[0], naive_batch), seed, naive_scale)

    def objective(params: torch.Tensor, step: int):
        obj, info = shaping_objective(params, sample(step), naive_steps, lr_naive, gamma,
                                      return_scale=return_scale, episode_reduction=episode_reduction)
        return obj, {"meta_return": info["meta_return"].mean((-1, -2)),
                      "naive_return": info["naive_return"].mean((-1, -2))}

    return ascend(init, objective, steps, lr=lr, log_every=log_every, keep=("meta_return", "naive_return"))


def train_mixed(
    init: torch.Tensor,
    p_naive: float,
    steps: int,
    *,
    naive_steps: int = 20,
    naive_batch: int = 16,
    lr_naive: float = 5.0,
    gamma: float = 0.95,
    naive_scale: float = 1.0,
    seed: int = 0,
    lr: float = 0.005,
    log_every: int = 10,
    return_scale: str = "per_round",
    episode_reduction: str = "mean",
    shaping_weight: float = 1.0,
) -> History:
    """Train groups of meta agents ``init [S, n, 5]`` with the mixed-group gradient (Fig. 3B, 3C).

    ``p_naive = 0`` is a pure learning-aware group (partial gradients only); ``return_scale``,
    ``episode_reduction`` and ``shaping_weight`` as in :func:`.learners.mixed_objective`.
    Logged metrics: ``pair_returns [L, S, n, n]``, each member's return against each other
    member, and, when naive learners are met, ``vs_naive [L, S]`` and ``naive_return [L, S]``,
    the members' and the naive learners' per-round returns averaged over the naive learning
    trajectory, the meta-batch and the members.
    """
    n = init.shape[-2]
    sample = naive_sampler((init.shape[0], n, naive_batch), seed, naive_scale)

    meets_naive = p_naive > 0 and shaping_weight > 0
    keep = ("pair_returns", "vs_naive", "naive_return") if meets_naive else ("pair_returns",)

    def objective(params: torch.Tensor, step: int):
        naive = sample(step) if p_naive > 0 else params.new_zeros(params.shape[:-1] + (1, 5))
        obj, info = mixed_objective(params, naive, p_naive, naive_steps, lr_naive, gamma, return_scale=return_scale,
                                    episode_reduction=episode_reduction, shaping_weight=shaping_weight)
        if meets_naive:
            info["vs_naive"] = info["meta_return"].mean((-1, -2, -3))
            info["naive_return"] = info["naive_return"].mean((-1, -2, -3))
        return obj, info

    return ascend(init, objective, steps, lr=lr, log_every=log_every, keep=keep)


def train_lola(
    init: torch.Tensor,
    lookahead: int,
    steps: int,
    *,
    lr_naive: float = 5.0,
    gamma: float = 0.95,
    p_naive: float = 1.0,
    lr: float = 0.005,
    log_every: int = 10,
    return_scale: str = "per_round",
) -> History:
    """Train pairs of exact LOLA agents ``init [S, 2, 5]`` (Fig. 4). Logs ``returns [L, S, 2]``."""

    def objective(params: torch.Tensor, step: int):
        return lola_objective(params, lookahead, lr_naive, gamma, p_naive, return_scale=return_scale)

    return ascend(init, objective, steps, lr=lr, log_every=log_every, keep=("returns",))


__all__ = ["History", "ascend", "naive_sampler", "train_lola", "train_mixed", "train_shaping"]
