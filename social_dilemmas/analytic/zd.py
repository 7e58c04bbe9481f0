"""Zero-determinant (ZD) strategies and a least-squares fit of memory-1 policies to them.

Press & Dyson (2012) extortion family, written as in the paper's App. C.1 with the game's
``(T, R, P, S)``, extortion factor ``chi >= 1`` and ``0 < phi <= (P - S) / ((P - S) + chi (T - P))``.
P(cooperate) after (CC, CD, DC, DD), own action first::

    [1 - phi (chi - 1) (R - P)/(P - S),  1 - phi (1 + chi (T - P)/(P - S)),
     phi (chi + (T - P)/(P - S)),        0]

A player X using it enforces ``s_X - P = chi (s_Y - P)`` on the long-run average rewards of
itself and any co-player Y; ``chi = 1`` gives tit-for-tat-like strategies (``phi`` at its
maximum is exactly tit-for-tat). This module holds the one implementation of the formula;
:func:`social_dilemmas.coplayers.fixed.zd_strategy` builds its co-player from it.

For a fixed ``chi`` the family is a segment ``a + phi v(chi)`` in probability space, so the
best ``phi`` is a clipped projection; :func:`fit_zd` searches ``chi`` on a log grid and then
refines it, batched over any leading dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from social_dilemmas.analytic.markov import check_policy
from social_dilemmas.envs.payoffs import PRISONERS_DILEMMA

#: The paper's IPD (T, R, P, S).
PD_TRPS = PRISONERS_DILEMMA.trps


def _check_trps(trps: Any) -> tuple[float, float, float, float]:
    T, R, P, S = (float(x) for x in trps)
    if not (T > R > P > S):
        raise ValueError(f"trps must be a prisoner's dilemma (T > R > P > S), got {trps!r}")
    return T, R, P, S


def zd_direction(chi: Any, trps: Any = PD_TRPS) -> torch.Tensor:
    """``v(chi) [..., 4]``: the ZD probabilities are ``[1, 1, 0, 0] + phi * v(chi)``."""
    T, R, P, S = _check_trps(trps)
    chi = torch.as_tensor(chi, dtype=torch.float64)
    d = P - S
    return torch.stack(
        (-(chi - 1) * (R - P) / d, -(1 + chi * (T - P) / d), chi + (T - P) / d, torch.zeros_like(chi)), dim=-1
    )


def phi_max(chi: Any, trps: Any = PD_TRPS) -> torch.Tensor:
    """The largest admissible ``phi`` for extortion factor ``chi``: ``(P - S) / ((P - S) + chi (T - P))``."""
    T, R, P, S = _check_trps(trps)
    chi = torch.as_tensor(chi, dtype=torch.float64)
    return (P - S) / ((P - S) + chi * (T - P))


def zd_probabilities(chi: Any, phi: Any, trps: Any = PD_TRPS) -> torch.Tensor:
    """P(cooperate) ``[..., 4]`` after (CC, CD, DC, DD) of the ZD strategy ``(chi, phi)``.

    Differentiable and broadcasting; no range check (see :func:`zd_policy` for a checked one).
    """
    phi = torch.as_tensor(phi, dtype=torch.float64)
    base = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    return base + phi.unsqueeze(-1) * zd_direction(chi, trps)


def zd_policy(chi: float, phi: float, p_start: float = 1.0, trps: Any = PD_TRPS) -> torch.Tensor:
    """A checked ZD strategy as 5 cooperation probabilities (start, CC, CD, DC, DD), float64.

    Raises ``ValueError`` for ``chi < 1``, ``phi`` outside ``(0, phi_max(chi)]`` or ``p_start``
    outside ``[0, 1]``.
    """
    if not float(chi) >= 1.0:
        raise ValueError(f"chi must be >= 1 (extortion factor), got {chi!r}")
    top = float(phi_max(chi, trps))
    if not (0.0 < float(phi) <= top + 1e-12):
        raise ValueError(f"phi must lie in (0, {top:.6g}] for chi={chi}, got {phi!r}")
    if not (0.0 <= float(p_start) <= 1.0):
        raise ValueError(f"p_start must be a probability in [0, 1], got {p_start!r}")
    p = zd_probabilities(float(chi), float(phi), trps).clamp(0.0, 1.0)  # snap round-off at phi_max
    return torch.cat((torch.tensor([float(p_start)], dtype=torch.float64), p))


@dataclass(frozen=True)
class ZDFit:
    """Result of :func:`fit_zd`, each field ``[...]`` (the fitted policies' batch shape).

    Attributes:
        chi: best extortion factor (>= 1).
        phi: best ``phi`` in ``[0, phi_max(chi)]``.
        loss: the regression loss, mean squared error over the 4 repeated-game probabilities.
    """

    chi: torch.Tensor
    phi: torch.Tensor
    loss: torch.Tensor


def _best_phi(p: torch.Tensor, chi: torch.Tensor, trps: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Best phi and its loss for every chi: ``p [..., 1, 4]``, ``chi [..., G]`` -> ``[..., G]`` each."""
    v = zd_direction(chi, trps)  # [..., G, 4]
    base = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    resid = p - base
    phi = ((resid * v).sum(-1) / (v * v).sum(-1)).clamp(min=0.0)
    phi = torch.minimum(phi, phi_max(chi, trps))
    loss = ((resid - phi.unsqueeze(-1) * v) ** 2).mean(-1)
    return phi, loss


def fit_zd(policy: Any, trps: Any = PD_TRPS, *, chi_max: float = 1e3, grid: int = 400, rounds: int = 3) -> ZDFit:
    """Least-squares fit of memory-1 policies to the ZD family.

    Args:
        policy: P(cooperate) ``[..., 5]`` (start, CC, CD, DC, DD) or ``[..., 4]`` (no start);
            the start entry is ignored (the ZD relation concerns the repeated game).
        trps: the game's ``(T, R, P, S)``.
        chi_max: upper end of the searched ``chi`` range ``[1, chi_max]``.
        grid, rounds: ``chi`` is searched on a log grid of ``grid`` points, then ``rounds``
            times on a finer grid around the best point.

    Returns:
        :class:`ZDFit` with the best ``chi``, ``phi`` and the loss ``mean_k (p_k - zd_k)^2``.
    """
    p = torch.as_tensor(policy, dtype=torch.float64)
    if p.dim() == 0 or p.shape[-1] not in (4, 5):
        raise ValueError(
            f"policy must have shape [..., 5] or [..., 4] (cooperation probabilities), got {list(p.shape)}"
        )
    if p.shape[-1] == 5:
        p = check_policy("policy", p, probabilities=True)[..., 1:]
    elif not bool(((p >= 0) & (p <= 1)).all()):
        raise ValueError("policy holds cooperation probabilities and must lie in [0, 1]")
    batch = p.shape[:-1]
    p = p.unsqueeze(-2)  # [..., 1, 4]
    lo = torch.zeros(batch, dtype=torch.float64)
    hi = torch.full(batch, float(torch.log(torch.tensor(chi_max))), dtype=torch.float64)
    for _ in range(rounds + 1):
        t = torch.linspace(0, 1, grid, dtype=torch.float64)
        log_chi = lo.unsqueeze(-1) + (hi - lo).unsqueeze(-1) * t  # [..., G]
        _, loss = _best_phi(p, log_chi.exp(), trps)
        best = loss.argmin(-1, keepdim=True)
        step = (hi - lo) / (grid - 1)
        centre = log_chi.gather(-1, best).squeeze(-1)
        lo = (centre - step).clamp(min=0.0)
        hi = centre + step
    chi = centre.exp()
    phi, loss = _best_phi(p, chi.unsqueeze(-1), trps)
    return ZDFit(chi=chi, phi=phi.squeeze(-1), loss=loss.squeeze(-1))


__all__ = ["PD_TRPS", "ZDFit", "fit_zd", "phi_max", "zd_direction", "zd_policy", "zd_probabilities"]
