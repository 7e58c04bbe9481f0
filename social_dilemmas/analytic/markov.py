"""Closed-form returns of memory-1 policy pairs in the iterated prisoner's dilemma.

Two memory-1 policies define a Markov chain over the joint outcome of the previous round,
ordered ``(CC, CD, DC, DD)`` from player 1's side (paper App. C). Each policy is
5 numbers in its owner's own-action-first order ``(start, CC, CD, DC, DD)`` — the order the
batched environment's observations use — so player 2's table is read with CD and DC swapped.

With ``M[s', s] = P(next outcome s' | outcome s)`` (columns sum to 1) and ``s0`` the
distribution of the first round's outcome, the discounted return of player ``i`` is

    J_i = r_i^T (I - gamma M)^{-1} s0 = sum_t gamma^t E[reward_i at round t],

the expected discounted sum over an infinitely repeated game, first round undiscounted.
``(1 - gamma) J_i`` is the discounted *average* reward per round; its limit ``gamma -> 1``
is the long-run average reward (:func:`average_returns`).

Every function broadcasts over leading batch dimensions (``[..., 5]``) and is differentiable
with autograd. Policies given as logits go through a sigmoid; probabilities may be exactly 0
or 1 (pure strategies such as ALLD or tit-for-tat).
"""

from __future__ import annotations

from typing import Any

import torch

from social_dilemmas.envs.payoffs import PRISONERS_DILEMMA, PayoffTable

#: Player 2's own-first table read in player 1's outcome order: swap CD and DC.
SWAP_P2 = (0, 1, 3, 2, 4)
#: Step used by the Richardson extrapolation of :func:`average_returns`.
AVERAGE_EPS = 1e-5


def check_policy(name: str, x: Any, *, probabilities: bool = False) -> torch.Tensor:
    """``x`` as a float tensor ``[..., 5]``; a ``ValueError`` naming ``name`` otherwise.

    Logits must be finite; probabilities must lie in ``[0, 1]``. Integer input is cast to
    float64; float32/float64 keep their dtype.
    """
    if not isinstance(x, torch.Tensor):
        try:
            x = torch.as_tensor(x, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as e:
            raise ValueError(f"{name} must be a tensor of shape [..., 5], got {x!r}") from e
    if not x.is_floating_point():
        x = x.to(torch.float64)
    if x.dim() == 0 or x.shape[-1] != 5:
        raise ValueError(
            f"{name} must have shape [..., 5] (start, CC, CD, DC, DD, own action first), got {list(x.shape)}"
        )
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite, got non-finite entries in a tensor of shape {list(x.shape)}")
    if probabilities and not bool(((x >= 0) & (x <= 1)).all()):
        raise ValueError(f"{name} holds cooperation probabilities and must lie in [0, 1]")
    return x


def check_gamma(gamma: Any) -> float:
    """``gamma`` as a float in the open interval (0, 1)."""
    try:
        g = float(gamma)
    except (TypeError, ValueError):
        raise ValueError(f"gamma must be a number in (0, 1), got {gamma!r}") from None
    if not (0.0 < g < 1.0):  # also false for NaN
        raise ValueError(f"gamma must lie in the open interval (0, 1), got {gamma!r}")
    return g


def reward_vectors(
    table: PayoffTable = PRISONERS_DILEMMA, dtype: torch.dtype = torch.float64, device: Any = "cpu"
) -> torch.Tensor:
    """Rewards ``[2, 4]`` of player 1 and player 2 over outcomes ``(CC, CD, DC, DD)``."""
    r1, r2 = table.joint_rewards()
    return torch.tensor([r1, r2], dtype=dtype, device=device)


def joint_chain(p1: torch.Tensor, p2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The Markov chain of two memory-1 policies given as cooperation probabilities.

    Args:
        p1: ``[..., 5]`` player 1's P(cooperate) after (start, CC, CD, DC, DD), own first.
        p2: ``[..., 5]`` player 2's table, also own first (broadcasts against ``p1``).

    Returns:
        ``(M, s0)``: ``M [..., 4, 4]`` with ``M[..., s', s] = P(s' | s)`` and the first-round
        outcome distribution ``s0 [..., 4]``, outcomes ordered (CC, CD, DC, DD) from player
        1's side.
    """
    return _chain(check_policy("p1", p1, probabilities=True), check_policy("p2", p2, probabilities=True))


def _chain(p1: torch.Tensor, p2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = torch.broadcast_tensors(p1, p2[..., list(SWAP_P2)])
    outcome = torch.stack((x * y, x * (1 - y), (1 - x) * y, (1 - x) * (1 - y)), dim=-2)  # [..., 4, 5]
    return outcome[..., 1:], outcome[..., 0]


def _returns_from_probs(p1: torch.Tensor, p2: torch.Tensor, gamma: float, rewards: torch.Tensor) -> torch.Tensor:
    m, s0 = _chain(p1, p2)
    eye = torch.eye(4, dtype=m.dtype, device=m.device)
    visits = torch.linalg.solve(eye - gamma * m, s0.unsqueeze(-1)).squeeze(-1)  # [..., 4] discounted visits
    return visits @ rewards.to(visits).T  # [..., 2]


def discounted_returns_from_probs(
    p1: Any, p2: Any, gamma: float, table: PayoffTable = PRISONERS_DILEMMA
) -> torch.Tensor:
    """``J [..., 2]``: both players' discounted returns, policies as cooperation probabilities."""
    gamma = check_gamma(gamma)
    p1 = check_policy("p1", p1, probabilities=True)
    p2 = check_policy("p2", p2, probabilities=True)
    return _returns_from_probs(p1, p2, gamma, reward_vectors(table, p1.dtype, p1.device))


def discounted_returns(
    logits1: Any, logits2: Any, gamma: float, table: PayoffTable = PRISONERS_DILEMMA, *, normalize: bool = False
) -> torch.Tensor:
    """``J [..., 2]``: discounted returns of two policies given as cooperation logits ``[..., 5]``.

    ``normalize=True`` multiplies by ``1 - gamma`` (reward per round, on the payoffs' scale);
    the learners in this package use that scale so learning rates do not depend on ``gamma``.
    """
    gamma = check_gamma(gamma)
    logits1 = check_policy("logits1", logits1)
    logits2 = check_policy("logits2", logits2)
    j = _returns_from_probs(torch.sigmoid(logits1), torch.sigmoid(logits2), gamma,
                            reward_vectors(table, logits1.dtype, logits1.device))
    return j * (1.0 - gamma) if normalize else j


def average_returns_from_probs(p1: Any, p2: Any, table: PayoffTable = PRISONERS_DILEMMA) -> torch.Tensor:
    """``[..., 2]`` long-run average reward per round (the limit ``gamma -> 1`` of ``(1 - gamma) J``).

    Computed by Richardson extrapolation of ``f(e) = e J(1 - e)``, which is analytic in ``e``
    for any stochastic matrix: ``2 f(e) - f(2e)`` with ``e = 1e-5`` is exact to ~1e-9 in
    float64 and stays differentiable. It equals the stationary-distribution average when the
    chain is ergodic and the start-dependent Cesàro average otherwise (e.g. TFT vs TFT).
    """
    p1 = check_policy("p1", p1, probabilities=True)
    p2 = check_policy("p2", p2, probabilities=True)
    dtype = p1.dtype
    p1, p2 = p1.to(torch.float64), p2.to(torch.float64)  # the solve is ill-conditioned (~1/e): float64 always
    rewards = reward_vectors(table, torch.float64, p1.device)
    e = AVERAGE_EPS
    f1 = e * _returns_from_probs(p1, p2, 1.0 - e, rewards)
    f2 = 2 * e * _returns_from_probs(p1, p2, 1.0 - 2 * e, rewards)
    return (2 * f1 - f2).to(dtype)


def average_returns(logits1: Any, logits2: Any, table: PayoffTable = PRISONERS_DILEMMA) -> torch.Tensor:
    """:func:`average_returns_from_probs` for policies given as logits ``[..., 5]``."""
    logits1 = check_policy("logits1", logits1)
    logits2 = check_policy("logits2", logits2)
    return average_returns_from_probs(torch.sigmoid(logits1), torch.sigmoid(logits2), table)


def logit(p: Any, eps: float = 0.0) -> torch.Tensor:
    """Cooperation logits of probabilities ``p`` (clipped to ``[eps, 1 - eps]`` when ``eps > 0``)."""
    p = torch.as_tensor(p, dtype=torch.float64)
    if eps > 0:
        p = p.clamp(eps, 1 - eps)
    return torch.log(p) - torch.log1p(-p)


__all__ = [
    "SWAP_P2",
    "average_returns",
    "average_returns_from_probs",
    "check_gamma",
    "check_policy",
    "discounted_returns",
    "discounted_returns_from_probs",
    "joint_chain",
    "logit",
    "reward_vectors",
]
