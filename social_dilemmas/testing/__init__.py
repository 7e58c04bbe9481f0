"""Shipped checkers: run them on your own games the way you run Gymnasium's ``check_env``.

=====================================  ====================================================
:func:`check_game`                     the :class:`~social_dilemmas.core.game.BatchedGame`
                                       contract: spec, shapes, dtypes, devices, bounds,
                                       episode clock, same-step autoreset and ``final_obs``,
                                       purity, rejection of bad actions, rendering
:func:`check_determinism`              same seed and actions twice -> identical outputs;
                                       other seeds differ for stochastic games
:func:`check_batch_invariance`         sub-env ``i`` of a batch seeded ``s`` == a batch of
                                       one seeded ``s + i``, on every batch size and device
:func:`check_reference_match`          the batched core == a slow per-sub-environment
                                       reference fed the same random draws
                                       (interface: :mod:`social_dilemmas.testing.reference`)
:func:`check_all`                      the first three (and the fourth given a reference)
=====================================  ====================================================

Each returns ``None`` and raises ``AssertionError`` with a precise message on failure.

Example::

    import social_dilemmas
    from social_dilemmas.testing import check_all

    for env_id in social_dilemmas.registered_ids():
        check_all(env_id)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from social_dilemmas.testing._common import GameSource, as_game
from social_dilemmas.testing.conformance import check_game
from social_dilemmas.testing.determinism import check_batch_invariance, check_determinism, default_devices
from social_dilemmas.testing.reference import Reference, RefStep, SubEnvRNG, check_reference_match

__all__ = [
    "Reference",
    "RefStep",
    "SubEnvRNG",
    "check_all",
    "check_batch_invariance",
    "check_determinism",
    "check_game",
    "check_reference_match",
    "default_devices",
]


def check_all(
    game: GameSource,
    *,
    seed: int = 0,
    batch_sizes: Sequence[int] = (1, 7, 64),
    devices: Sequence[str | torch.device] | None = None,
    reference_factory: Callable[[], Any] | None = None,
) -> None:
    """Run :func:`check_game` (on every device), :func:`check_determinism`,
    :func:`check_batch_invariance` and, given ``reference_factory``,
    :func:`check_reference_match` on ``game`` (a registered id or a factory of games)."""
    from social_dilemmas.core.game import BatchedGame

    if isinstance(game, BatchedGame):
        devices = (str(game.device),)
    devices = tuple(default_devices() if devices is None else devices)
    for dev in devices:
        check_game(as_game(game, dev), seed=seed)
    check_determinism(game, seed)
    check_batch_invariance(game, seed, batch_sizes=batch_sizes, devices=devices)
    if reference_factory is not None:
        check_reference_match(as_game(game, devices[0]), reference_factory, seed=seed)
