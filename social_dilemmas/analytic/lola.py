"""Exact LOLA with ``k`` look-ahead steps in the analytic IPD (paper §4.3, App. E, Fig. 4).

Each of two agents imagines its co-player as a naive learner that starts from the
co-player's *current* parameters and takes ``k`` exact gradient steps on its own return
while the agent's policy stays fixed; the agent ascends its return against the imagined
co-player after those ``k`` steps, differentiating through them (LOLA-DiCE with exact
gradients, Foerster et al. 2018). ``k = 0`` is the naive (partial) gradient.

The LOLA + partial-gradient variant of Fig. 4C mixes ``p_naive`` of the LOLA gradient with
``1 - p_naive`` of the partial gradient, as the mixed groups of :mod:`.learners` do.
Learning rates act on the per-round return or on ``J`` (``return_scale``, as in
:mod:`.learners`); reported returns are per round.
"""

from __future__ import annotations

import torch

from social_dilemmas.analytic.learners import _unroll, check_rate, return_factor, values
from social_dilemmas.analytic.markov import check_gamma, check_policy, reward_vectors
from social_dilemmas.core.validation import check_nonneg_int, check_probability
from social_dilemmas.envs.payoffs import PRISONERS_DILEMMA, PayoffTable


def lola_objective(
    pair: torch.Tensor,
    lookahead: int,
    lr_naive: float,
    gamma: float,
    p_naive: float = 1.0,
    table: PayoffTable = PRISONERS_DILEMMA,
    *,
    return_scale: str = "per_round",
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Surrogate objectives ``[..., 2]`` of two LOLA agents ``pair [..., 2, 5]``.

    The gradient of ``objective[..., i]`` with respect to agent ``i``'s logits is
    ``p_naive`` times its ``lookahead``-step LOLA gradient plus ``1 - p_naive`` times its
    partial gradient; nothing flows into the co-player's logits. Agent 1 sits in seat 1 of
    its own objective (the game is symmetric in the own-first view, so each agent's return
    is computed with itself in seat 1).

    Returns:
        ``(objective, info)`` with detached ``returns [..., 2]`` (the pair's actual returns
        against each other) and ``imagined [..., 2, 5]`` (each agent's imagined co-player
        after the look-ahead).
    """
    pair = check_policy("pair", pair)
    if pair.dim() < 2 or pair.shape[-2] != 2:
        raise ValueError(f"pair must have shape [..., 2, 5] (two agents' logits), got {list(pair.shape)}")
    lookahead = check_nonneg_int("lookahead", lookahead)
    lr_naive = check_rate("lr_naive", lr_naive)
    gamma = check_gamma(gamma)
    p_naive = check_probability("p_naive", p_naive)
    factor = return_factor(return_scale, gamma)
    rewards = reward_vectors(table, pair.dtype, pair.device)
    me = pair  # [..., 2, 5]: agent i in seat 1 of its own objective
    other = pair.flip(-2).detach()  # agent i's co-player, treated as given
    partial = values(me, other, gamma, rewards)[..., 0]
    imagined = _unroll(me, other, lookahead, lr_naive * factor, gamma, rewards, True)[-1]
    lola = values(me, imagined, gamma, rewards)[..., 0] if lookahead > 0 else partial
    objective = factor * (p_naive * lola + (1.0 - p_naive) * partial)
    return objective, {"returns": partial.detach(), "imagined": imagined.detach()}


__all__ = ["lola_objective"]
