"""The exact (analytic) iterated prisoner's dilemma: closed-form returns and learning dynamics.

Memory-1 policies are 5 cooperation logits ``[..., 5]`` (start, CC, CD, DC, DD), own action
first, batched over any leading dimensions, in float64, differentiable with autograd
(paper §4, App. C). The toolkit is the ground truth that RL results are checked against.

* :mod:`.markov` — joint Markov chain, discounted returns ``J = r^T (I - gamma M)^-1 s0``,
  the long-run average (``gamma -> 1``).
* :mod:`.learners` — exact naive learners, the shaping objective (Eq. 17), meta-vs-meta
  partial gradients, mixed groups weighted by ``p_naive``.
* :mod:`.lola` — exact LOLA with ``k`` look-ahead steps (and with partial gradients mixed in).
* :mod:`.zd` — zero-determinant strategies and a least-squares fit to them.
* :mod:`.training` — batched AdamW meta-training over many seeds.
* :mod:`.figures` — Fig. 3A/B/C, 4, 8, 9 (``social-dilemmas reproduce fig3a`` ...).

Example:
    >>> import torch
    >>> from social_dilemmas.analytic import discounted_returns
    >>> tft = torch.tensor([9.0, 9.0, -9.0, 9.0, -9.0], dtype=torch.float64)  # ~tit-for-tat
    >>> discounted_returns(tft, tft, gamma=0.9, normalize=True)  # ~1 per round each
    tensor([0.9988, 0.9988], dtype=torch.float64)
"""

from social_dilemmas.analytic.learners import mixed_objective, naive_unroll, partial_objective, shaping_objective
from social_dilemmas.analytic.lola import lola_objective
from social_dilemmas.analytic.markov import (
    average_returns,
    average_returns_from_probs,
    discounted_returns,
    discounted_returns_from_probs,
    joint_chain,
)
from social_dilemmas.analytic.training import History, train_lola, train_mixed, train_shaping
from social_dilemmas.analytic.zd import ZDFit, fit_zd, zd_policy, zd_probabilities

__all__ = [
    "History",
    "ZDFit",
    "average_returns",
    "average_returns_from_probs",
    "discounted_returns",
    "discounted_returns_from_probs",
    "fit_zd",
    "joint_chain",
    "lola_objective",
    "mixed_objective",
    "naive_unroll",
    "partial_objective",
    "shaping_objective",
    "train_lola",
    "train_mixed",
    "train_shaping",
    "zd_policy",
    "zd_probabilities",
]
