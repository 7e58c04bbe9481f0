"""Strategies of the Axelrod library (``pip install 'social-dilemmas[axelrod]'``) as batched IPD co-players.

Axelrod's players act one match at a time and keep their own histories; :class:`AxelrodCoPlayer`
keeps one player (and one stand-in for its opponent) per game and feeds both histories from the
IPD observation, which holds the previous joint action (own first). A start-state observation
(the first round of an inner episode) resets the pair, so every inner episode is a fresh match.
Stochastic Axelrod strategies draw from the player's own generator, seeded per game from torch's
global generator (the benchmark seeds it), so a scored run is reproducible.

The IPD's payoffs (T, R, P, S) = (2, 1, 0, -1) are Axelrod's (5, 3, 1, 0) shifted and scaled by
a positive affine map, so strategies that look at scores see the same ordering. Matches have the
scenario's length (10 rounds); strategies that read the match length are told it.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["AxelrodCoPlayer", "axelrod_names", "import_axelrod"]


def import_axelrod() -> Any:
    try:
        import axelrod
    except ImportError as e:
        raise ImportError("Axelrod strategies need the axelrod package: pip install 'social-dilemmas[axelrod]'") from e
    return axelrod


def axelrod_names() -> list[str]:
    """Names of every strategy the installed Axelrod library offers."""
    return sorted(s.name for s in import_axelrod().strategies)


def _strategy_class(name: str) -> Any:
    axl = import_axelrod()
    for s in axl.all_strategies:
        if s.name == name:
            return s
    raise ValueError(f"unknown Axelrod strategy {name!r}; see social_dilemmas.benchmark.axelrod_zoo.axelrod_names()")


class AxelrodCoPlayer:
    """One Axelrod strategy playing ``N`` IPD games at once (a Python loop over the games)."""

    num_actions = 2
    resets_at_inner_boundary = True

    def __init__(self, name: str, match_length: int = 10) -> None:
        self.cls = _strategy_class(name)
        self.name = f"axelrod:{name}"
        self.match_length = int(match_length)

    def _pair(self) -> tuple[Any, Any]:
        axl = import_axelrod()
        player, other = self.cls(), axl.Player()
        seed = int(torch.randint(0, 2**31 - 1, ()).item())
        match_attrs = {"length": self.match_length, "game": axl.Game(), "noise": 0}
        for p in (player, other):
            p.set_match_attributes(**match_attrs)
            p.set_seed(seed)
        return player, other

    def initial_memory(self, batch_size: int, device: Any) -> list[tuple[Any, Any]]:
        return [self._pair() for _ in range(batch_size)]

    def reset_memory(self, memory: list[tuple[Any, Any]], mask: Tensor) -> list[tuple[Any, Any]]:
        for i in torch.nonzero(mask.cpu()).flatten().tolist():
            memory[i] = self._pair()
        return memory

    def action_probs(self, obs: Tensor, memory: list[tuple[Any, Any]]) -> tuple[Tensor, Any]:
        axl = import_axelrod()
        c, d = axl.Action.C, axl.Action.D
        if obs.shape[-1] != 5:
            raise ValueError(f"{self.name} plays the IPD: it needs 5-dim one-hot obs, got {list(obs.shape)}")
        state = obs.argmax(1).tolist()  # 0 start, 1 CC, 2 CD, 3 DC, 4 DD (own first)
        coop = torch.zeros(obs.shape[0], dtype=obs.dtype)
        for i, s in enumerate(state):
            player, other = memory[i]
            if s == 0 and len(player.history):
                player, other = memory[i] = self._pair()
            elif s > 0:
                own, theirs = (c if s in (1, 2) else d), (c if s in (1, 3) else d)
                player.update_history(own, theirs)
                other.update_history(theirs, own)
            coop[i] = 1.0 if player.strategy(other) == c else 0.0
        coop = coop.to(obs.device)
        return torch.stack((coop, 1.0 - coop), dim=-1), memory

    def __repr__(self) -> str:
        return f"AxelrodCoPlayer({self.name})"
