"""A stateful, torch-native handle on a batch of games (what :func:`make_batched` returns).

It keeps the explicit state of a :class:`BatchedGame` so users can write
``obs = env.reset(seed=0); out = env.step(actions)`` the way VMAS and torchrl users do, while
the dynamics stay pure functions of ``(state, actions)``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import numpy as np
import torch

from social_dilemmas.core.game import BatchedGame, StepOutput
from social_dilemmas.core.rng import seeds_for_batch
from social_dilemmas.core.validation import MAX_BATCH, allocation_guard, check_positive_int

S = TypeVar("S")


class BatchedEnv(Generic[S]):
    """``batch_size`` sub-environments of ``game`` stepped together on ``game.device``.

    Seeding: ``reset(seed=s)`` gives sub-environment ``i`` the seed ``s + i`` (Gymnasium's
    vector-env convention), so sub-environment ``i`` replays exactly what a batch-1 env
    reset with seed ``s + i`` does. ``reset(seed=[s0, s1, ...])`` sets every seed; an
    unseeded reset continues each sub-environment's random stream (or draws fresh entropy
    on the very first reset).

    Autoreset: same-step (see :mod:`social_dilemmas.core.game`) unless ``autoreset=False``.
    """

    def __init__(self, game: BatchedGame[S], batch_size: int, *, autoreset: bool = True) -> None:
        self.game = game
        self.batch_size = check_positive_int("batch_size", batch_size, MAX_BATCH)
        self.autoreset = autoreset
        self.state: S | None = None
        #: ``[N]`` bool, which episodes have ended (tracked only with ``autoreset=False``).
        self._ended: torch.Tensor | None = None

    @property
    def spec(self):
        return self.game.spec

    @property
    def device(self) -> torch.device:
        return self.game.device

    def reset(self, seed: int | list[int] | np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
        """Reset every sub-environment; returns ``obs [N, A, *obs_shape]``."""
        self._ended = None
        if seed is None and self.state is not None:
            self.state, obs = self.game.reset_from(self.state.rng)  # type: ignore[attr-defined]
            return obs
        seeds = self.seeds_for(seed)
        with allocation_guard(f"batch_size={self.batch_size} games of {self.spec.name} on {self.device}"):
            self.state, obs = self.game.reset(seeds)
        return obs

    def seeds_for(self, seed: Any) -> torch.Tensor:
        """The per-sub-environment seeds ``[N]`` that ``reset(seed)`` uses."""
        with allocation_guard(f"batch_size={self.batch_size} seeds"):
            return seeds_for_batch(seed, self.batch_size, "sub-environment")

    def step(self, actions: torch.Tensor, *, validate: bool = True) -> StepOutput:
        """Step all sub-environments with ``actions [N, A]`` (int)."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if not self.autoreset and validate and self._ended is not None and bool(self._ended.any()):
            ended = self._ended.nonzero().view(-1).tolist()
            raise RuntimeError(
                f"the episodes of sub-environments {ended[:8]}{' ...' if len(ended) > 8 else ''} have ended and "
                "autoreset=False: call reset() before stepping again"
            )
        self.state, out = self.game.step(self.state, actions, autoreset=self.autoreset, validate=validate)
        if not self.autoreset:
            self._ended = out.done if self._ended is None else self._ended | out.done
        return out

    def global_state(self) -> torch.Tensor:
        """The global state ``[N, *state_shape]``."""
        if self.state is None:
            raise RuntimeError("call reset() before global_state()")
        return self.game.global_state(self.state)

    def __repr__(self) -> str:
        return f"BatchedEnv({self.game.spec.name}, batch_size={self.batch_size}, device={self.device})"
