"""Optional "learning-history" observation channels of the meta-environment.

The paper's agents see only the game observation (paper App. B.3); these channels are an
opt-in extension (default off) for games whose observation does not already reveal the
history, and for ablations. Each channel is appended to the flat game observation, in the
fixed order of :data:`CHANNELS` (whatever order they are requested in):

==========================  =====  ==========================================================
name                        size   value
==========================  =====  ==========================================================
``prev_own_action``         A      one-hot of the ego's previous action (zeros at a
                                   meta-episode start)
``prev_coplayer_action``    A      one-hot of the co-player's previous action (zeros at a
                                   meta-episode start)
``prev_reward``             1      the ego's previous reward (0 at a meta-episode start)
``inner_start``             1      1.0 on the first step of every inner episode, else 0.0
``inner_index``             1      ``m / (M - 1)``: the inner-episode index scaled to [0, 1]
                                   (0 when ``M == 1``)
==========================  =====  ==========================================================

"Previous" means previous *step*, also across an inner-episode boundary: on the first step
of inner episode ``m > 0`` the action channels show the last joint action of episode ``m - 1``
(the long history the ego is meant to exploit); ``inner_start`` marks the boundary.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
from torch import Tensor

__all__ = ["CHANNELS", "HistoryChannels", "parse_history"]

CHANNELS: tuple[str, ...] = ("prev_own_action", "prev_coplayer_action", "prev_reward", "inner_start", "inner_index")


def parse_history(history: str | Iterable[str] | bool | None) -> tuple[str, ...]:
    """Normalise the ``history`` argument to a tuple of channel names in canonical order.

    Accepts ``None``/``False``/``()`` (no channels), ``True`` or ``"all"`` (every channel), one
    name, or an iterable of names. Unknown names raise a ``ValueError`` listing the valid ones.
    """
    if history is None or history is False:
        return ()
    if history is True or history == "all":
        return CHANNELS
    names = [history] if isinstance(history, str) else list(history)
    for n in names:
        if not isinstance(n, str) or n not in CHANNELS:
            raise ValueError(f"unknown history channel {n!r}; valid channels: {', '.join(CHANNELS)} (or 'all')")
    if len(set(names)) != len(names):
        raise ValueError(f"history channels must not repeat, got {names}")
    return tuple(c for c in CHANNELS if c in names)


class HistoryChannels:
    """Computes the requested channels for a batch of ``N`` ego sub-environments.

    Args:
        channels: names from :data:`CHANNELS` (see :func:`parse_history`).
        num_actions: size of the action set (one-hot width).
        num_inner_episodes: ``M``.
        reward_bounds: ``(low, high)`` of a single-step ego reward (for the space bounds).
    """

    def __init__(
        self, channels: tuple[str, ...], num_actions: int, num_inner_episodes: int,
        reward_bounds: tuple[float, float] = (-np.inf, np.inf),
    ) -> None:
        self.channels = channels
        self.num_actions = num_actions
        self.num_inner_episodes = num_inner_episodes
        sizes = {"prev_own_action": num_actions, "prev_coplayer_action": num_actions, "prev_reward": 1,
                 "inner_start": 1, "inner_index": 1}
        self.sizes = {c: sizes[c] for c in channels}
        self.dim = sum(self.sizes.values())
        lows: list[float] = []
        highs: list[float] = []
        for c in channels:
            lo, hi = (reward_bounds if c == "prev_reward" else (0.0, 1.0))
            lows += [lo] * self.sizes[c]
            highs += [hi] * self.sizes[c]
        self.low = np.asarray(lows, dtype=np.float32)
        self.high = np.asarray(highs, dtype=np.float32)

    def __bool__(self) -> bool:
        return bool(self.channels)

    def features(
        self,
        n: int,
        device: torch.device,
        *,
        prev_own: Tensor | None,
        prev_coplayer: Tensor | None,
        prev_reward: Tensor | None,
        inner_start: bool,
        inner_index: int,
    ) -> Tensor:
        """``[n, dim]`` float32 channels; ``prev_*`` ``None`` means "no previous step" (zeros)."""
        parts: list[Tensor] = []
        a = self.num_actions
        for c in self.channels:
            if c in ("prev_own_action", "prev_coplayer_action"):
                prev = prev_own if c == "prev_own_action" else prev_coplayer
                if prev is None:
                    parts.append(torch.zeros(n, a, device=device))
                else:
                    parts.append(torch.nn.functional.one_hot(prev.reshape(n), a).to(torch.float32))
            elif c == "prev_reward":
                parts.append(torch.zeros(n, 1, device=device) if prev_reward is None
                             else prev_reward.reshape(n, 1).to(torch.float32))
            elif c == "inner_start":
                parts.append(torch.full((n, 1), float(inner_start), device=device))
            else:  # inner_index
                m = self.num_inner_episodes
                parts.append(torch.full((n, 1), inner_index / (m - 1) if m > 1 else 0.0, device=device))
        return torch.cat(parts, dim=1) if parts else torch.zeros(n, 0, device=device)
