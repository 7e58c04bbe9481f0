"""Fixed (non-learning) co-player strategies, as batched policies.

For the iterated 2x2 games every classic strategy here is *memory-1*: its probability of
playing action 0 ("cooperate") depends only on the observation, i.e. on the previous joint
action seen own-action-first, ``(start, CC, CD, DC, DD)``. A memory-1 strategy is therefore
just 5 probabilities, which is also how zero-determinant strategies (Press & Dyson 2012) are
written.

=====================  ==============================  =================================
name                   P(cooperate) over               meaning
                       (start, CC, CD, DC, DD)
=====================  ==============================  =================================
always_cooperate       (1, 1, 1, 1, 1)                 ALLC
always_defect          (0, 0, 0, 0, 0)                 ALLD
random                 (.5, .5, .5, .5, .5)            uniform over both actions
tit_for_tat            (1, 1, 0, 1, 0)                 copy the co-player's last move
grim_trigger           (1, 1, 0, 0, 0)                 defect forever once defected on
win_stay_lose_shift    (1, 1, 0, 0, 1)                 Pavlov: repeat after R or T
=====================  ==============================  =================================

Grim trigger is exactly memory-1 because its own last action records whether it has been
triggered. For games other than the 2x2 ones, :class:`UniformRandom` plays any action set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from social_dilemmas.core.validation import check_choice, check_finite, check_positive_int, check_probability

NAMED_MEMORY1: dict[str, tuple[float, float, float, float, float]] = {
    "always_cooperate": (1.0, 1.0, 1.0, 1.0, 1.0),
    "always_defect": (0.0, 0.0, 0.0, 0.0, 0.0),
    "random": (0.5, 0.5, 0.5, 0.5, 0.5),
    "tit_for_tat": (1.0, 1.0, 0.0, 1.0, 0.0),
    "grim_trigger": (1.0, 1.0, 0.0, 0.0, 0.0),
    "win_stay_lose_shift": (1.0, 1.0, 0.0, 0.0, 1.0),
}
ALIASES = {"allc": "always_cooperate", "alld": "always_defect", "tft": "tit_for_tat", "grim": "grim_trigger",
           "wsls": "win_stay_lose_shift", "pavlov": "win_stay_lose_shift"}


class _Memoryless:
    """Shared plumbing of policies that only look at the current observation."""

    resets_at_inner_boundary = True

    def initial_memory(self, batch_size: int, device: torch.device) -> None:
        return None

    def reset_memory(self, memory: Any, mask: torch.Tensor) -> None:
        return None


class Memory1Strategy(_Memoryless):
    """A memory-1 strategy of an iterated 2x2 game, given as 5 cooperation probabilities.

    Args:
        p_cooperate: P(action 0) after ``(start, CC, CD, DC, DD)``, own action first.
        name: a label for logs and ``repr``.
    """

    num_actions = 2

    def __init__(self, p_cooperate: Sequence[float] | torch.Tensor, name: str = "memory1") -> None:
        try:
            p = torch.as_tensor(p_cooperate, dtype=torch.float32).flatten()
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"p_cooperate must be 5 probabilities in [0, 1] (start, CC, CD, DC, DD), "
                             f"got {p_cooperate!r}") from None
        if p.numel() != 5:
            raise ValueError(
                f"p_cooperate must hold 5 probabilities (start, CC, CD, DC, DD), got {p.numel()}: {p_cooperate!r}"
            )
        for i, v in enumerate(p.tolist()):
            check_probability(f"p_cooperate[{i}]", v)
        self.p_cooperate = p
        self.name = name

    def action_probs(self, obs: torch.Tensor, memory: Any = None) -> tuple[torch.Tensor, None]:
        if obs.shape[-1] != 5:
            raise ValueError(
                f"{self.name} is a memory-1 strategy of a 2x2 game: it needs 5-dim one-hot obs, got {list(obs.shape)}"
            )
        p = obs @ self.p_cooperate.to(obs.device)  # [N]
        return torch.stack((p, 1.0 - p), dim=-1), None

    def __repr__(self) -> str:
        return f"Memory1Strategy({self.name}, p_cooperate={[round(x, 4) for x in self.p_cooperate.tolist()]})"


class UniformRandom(_Memoryless):
    """Plays every one of ``num_actions`` actions with equal probability (any game)."""

    def __init__(self, num_actions: int) -> None:
        self.num_actions = check_positive_int("num_actions", num_actions)
        self.name = "random"

    def action_probs(self, obs: torch.Tensor, memory: Any = None) -> tuple[torch.Tensor, None]:
        return torch.full((obs.shape[0], self.num_actions), 1.0 / self.num_actions, device=obs.device), None

    def __repr__(self) -> str:
        return f"UniformRandom({self.num_actions})"


def check_pd_payoffs(trps: Any) -> tuple[float, float, float, float]:
    """``(T, R, P, S)`` as floats, checked: four finite payoffs with ``T > R > P > S``."""
    if len(trps) != 4:
        raise ValueError(f"trps must be the 4 payoffs (T, R, P, S), got {trps!r}")
    T, R, P, S = (check_finite(f"trps[{i}]", x) for i, x in enumerate(trps))
    if not T > R > P > S:
        raise ValueError(f"trps must satisfy T > R > P > S (a prisoner's dilemma), got {trps!r}")
    return T, R, P, S


def zd_strategy(
    chi: float, phi: float, trps: tuple[float, float, float, float] = (2.0, 1.0, 0.0, -1.0), p_start: float = 1.0
) -> Memory1Strategy:
    """A zero-determinant strategy in Press & Dyson's (2012) extortion family.

    With ``(T, R, P, S)`` the game's payoffs, ``chi >= 1`` the extortion factor and
    ``0 < phi <= (P - S) / ((P - S) + chi * (T - P))``, the cooperation probabilities after
    (CC, CD, DC, DD) are (Press & Dyson 2012; the paper's §4)::

        [1 - phi (chi - 1) (R - P)/(P - S),  1 - phi (1 + chi (T - P)/(P - S)),
         phi (chi + (T - P)/(P - S)),        0]

    ``chi = 1`` gives tit-for-tat-like strategies. ``p_start`` is the first-move cooperation
    probability (the ZD relation concerns the repeated part of the game only).
    """
    T, R, P, S = check_pd_payoffs(trps)
    chi, phi = check_finite("chi", chi), check_finite("phi", phi)
    if not chi >= 1.0:
        raise ValueError(f"chi must be >= 1 (extortion factor), got {chi!r}")
    phi_max = (P - S) / ((P - S) + chi * (T - P))
    if not (0.0 < phi <= phi_max + 1e-12):
        raise ValueError(f"phi must lie in (0, {phi_max:.6g}] for chi={chi}, got {phi!r}")
    check_probability("p_start", p_start)
    from social_dilemmas.analytic.zd import zd_probabilities  # the one implementation of the formula

    p = [p_start, *zd_probabilities(chi, phi, (T, R, P, S)).tolist()]
    # Round-off at the boundary of the admissible phi range may leave 1 + 1e-16: snap it.
    p = [min(max(x, 0.0), 1.0) if -1e-9 < x < 1.0 + 1e-9 else x for x in p]
    return Memory1Strategy(p, name=f"zd(chi={chi:g}, phi={phi:g})")


def make_strategy(
    spec: str | Sequence[float] | Any, num_actions: int = 2, obs_dim: int = 5, *, name: str = "opponent"
) -> Any:
    """Resolve a co-player given by name, as 5 probabilities, or as a policy object.

    Names: the keys of :data:`NAMED_MEMORY1` and :data:`ALIASES`. ``"random"`` resolves to a
    uniform policy over ``num_actions`` for games that are not 2x2 iterated games. ``name`` is
    the argument named in errors (e.g. ``"--player0"``).
    """
    if isinstance(spec, str):
        key = ALIASES.get(spec, spec)
        if key == "random" and (num_actions != 2 or obs_dim != 5):
            return UniformRandom(num_actions)
        if num_actions != 2 or obs_dim != 5:
            check_choice(name, key, ["random"])
        check_choice(name, key, list(NAMED_MEMORY1) + list(ALIASES))
        return Memory1Strategy(NAMED_MEMORY1[key], name=key)
    if hasattr(spec, "action_probs"):
        return spec
    if isinstance(spec, (list, tuple, torch.Tensor)):
        return Memory1Strategy(spec)
    raise TypeError(
        f"{name} must be a strategy name ({', '.join(NAMED_MEMORY1)}), 5 cooperation probabilities, "
        f"or a policy with action_probs(); got {spec!r}"
    )
