"""Determinism and batch invariance: the same seed gives the same trajectory, everywhere.

* :func:`check_determinism`: two independently built games, reset with the same seeds and
  fed the same seeded random actions, emit identical outputs (observations, rewards, flags,
  ``final_obs``, metrics, global state, random state), also after an unseeded reset that
  continues the random streams. A game that declares ``stochastic = True`` must also react
  to its seed (other seeds, same actions: something differs); one that declares
  ``stochastic = False`` must not (its seed may only feed co-players).
* :func:`check_batch_invariance`: sub-environment ``i`` of a batch reset with seed ``s``
  (so with seed ``s + i``) emits exactly what a batch of one reset with seed ``s + i`` emits,
  step by step across several autoresets, for every batch size and device asked for
  (by default CPU, plus CUDA when available).

Actions are a hash of each sub-environment's seed and the step, so sub-environment ``i``
gets the same actions whatever the batch size, its position in the batch or the device.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from social_dilemmas.testing._common import (
    GameSource,
    Rollout,
    as_game,
    compare_rollouts,
    default_steps,
    rollout,
    seed_tensor,
    tensors_equal,
)

__all__ = ["check_batch_invariance", "check_determinism", "default_devices"]

#: Offset between the seeds of the "other seed" run and the checked run.
_OTHER_SEED_OFFSET = 1_000_003


def default_devices() -> tuple[str, ...]:
    """``("cpu",)``, plus ``"cuda"`` when a CUDA device is available."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def check_determinism(
    game: GameSource,
    seed: int = 0,
    steps: int | None = None,
    *,
    batch_size: int = 8,
    continue_steps: int | None = None,
    stochastic: bool | None = None,
    device: str | torch.device | None = None,
) -> None:
    """Assert that two runs with the same seed and actions are identical.

    Args:
        game: a registered id or a factory of games (called twice, so hidden global state
            shows up), or a game instance (reused for both runs).
        seed: the first seed; sub-environment ``i`` gets ``seed + i``.
        steps: steps after the seeded reset (default ``2 * max_steps + 1``).
        batch_size: sub-environments per run.
        continue_steps: steps after an unseeded reset (``reset_from``) that follows (default
            ``max_steps + 1``).
        stochastic: whether the game's dynamics use its random streams. ``None`` reads the
            game's ``stochastic`` attribute; if that is ``None`` too, the other-seed check is
            skipped.
        device: where to build the games (default: CPU, or the instance's device).

    Raises:
        AssertionError: naming the field, step and sub-environment of the first difference.
    """
    g1 = as_game(game, device)
    g2 = as_game(game, device)
    name = f"check_determinism({g1.spec.name})"
    seeds = seed_tensor(seed, batch_size)
    steps = default_steps(g1) if steps is None else steps
    continue_steps = g1.max_steps + 1 if continue_steps is None else continue_steps
    r1 = rollout(g1, seeds, steps, continue_steps=continue_steps)
    r2 = rollout(g2, seeds, steps, continue_steps=continue_steps)
    compare_rollouts(f"{name}: two runs with seed {seed}", r2, r1)

    stochastic = getattr(g1, "stochastic", None) if stochastic is None else stochastic
    if stochastic is None:
        return
    other = rollout(g2, seeds + _OTHER_SEED_OFFSET, steps, action_seeds=seeds, continue_steps=continue_steps)
    differs = _differing_fields(r1, other)
    if stochastic and not differs:
        raise AssertionError(
            f"{name}: the game declares stochastic=True but seeds {seed}.. and {seed + _OTHER_SEED_OFFSET}.. gave "
            f"identical trajectories under the same actions ({batch_size} sub-envs, {steps + continue_steps} steps): "
            f"does it ignore its random state?"
        )
    if stochastic is False and differs:
        raise AssertionError(
            f"{name}: the game declares stochastic=False but changing the seed changed {', '.join(differs)} under "
            f"the same actions"
        )


def _differing_fields(a: Rollout, b: Rollout) -> list[str]:
    out = []
    for part_a, part_b in ((a.first, b.first), (a.fields, b.fields)):
        for k, v in part_a.items():
            if k.startswith("rng.") or k == "actions":
                continue
            if k not in part_b or not tensors_equal(v, part_b[k]):
                out.append(k)
    return sorted(set(out))


def check_batch_invariance(
    game: GameSource,
    seed: int = 0,
    batch_sizes: Sequence[int] = (1, 7, 64),
    devices: Sequence[str | torch.device] | None = None,
    *,
    episodes: int = 3,
    steps: int | None = None,
    single_runs: int = 12,
    atol: float = 0.0,
) -> None:
    """Assert that a sub-environment's trajectory depends only on its own seed.

    For every device and batch size ``N``, a batch reset with seed ``seed`` is compared
    (exactly, unless ``atol``) with:

    * batches of one reset with seed ``seed + i`` on CPU, for ``single_runs`` indices ``i``
      (the first ones, the last index of every batch size and one in the middle);
    * the first ``N`` sub-environments of the largest batch on CPU (so every index is
      checked against some other batch size);
    * the same batch size on CPU (device independence).

    Args:
        game: a registered id or a factory of games accepting ``device=`` (an instance only
            checks its own device).
        seed: the first seed.
        batch_sizes: batch sizes to compare.
        devices: devices to run on (default :func:`default_devices`).
        episodes: full episodes to play (``episodes * max_steps + 1`` steps, crossing
            ``episodes`` autoresets when episodes run to the time limit).
        steps: overrides the number of steps.
        single_runs: how many indices to check against a batch of one.
        atol: tolerance for floating-point outputs across devices.
    """
    devices = tuple(default_devices() if devices is None else devices)
    if not batch_sizes:
        raise ValueError("batch_sizes must name at least one batch size")
    cpu_game = as_game(game, "cpu") if not _is_instance(game) else game
    if _is_instance(game):
        devices = (str(game.device),)
    name = f"check_batch_invariance({cpu_game.spec.name})"
    steps = default_steps(cpu_game, episodes) if steps is None else steps
    big = max(batch_sizes)
    continue_steps = 2

    def run(dev: str | torch.device, n: int, first_seed: int) -> Rollout:
        g = cpu_game if str(dev) == "cpu" else as_game(game, dev)
        return rollout(g, seed_tensor(first_seed, n), steps, continue_steps=continue_steps)

    base_dev = "cpu" if "cpu" in [str(d) for d in devices] else devices[0]
    cpu_runs = {n: run(base_dev, n, seed) for n in sorted(set(batch_sizes))}
    largest = cpu_runs[big]
    indices = sorted(
        set(range(min(big, max(1, single_runs - len(batch_sizes) - 1)))) | {n - 1 for n in batch_sizes} | {big // 2}
    )
    for i in indices:
        single = run(base_dev, 1, seed + i)
        compare_rollouts(
            f"{name}: sub-env {i} of a batch of {big} vs a batch of 1 with seed {seed + i} on {base_dev}",
            largest.row(i),
            single,
            atol=atol,
            row_names=[f"sub-env {i}"],
        )
    for n, r in cpu_runs.items():
        if n != big:
            compare_rollouts(
                f"{name}: batch of {n} vs the first {n} sub-envs of a batch of {big} on {base_dev}",
                r,
                largest.row(slice(0, n)),
                atol=atol,
            )
    for dev in devices:
        if str(dev) == str(base_dev):
            continue
        for n in sorted(set(batch_sizes)):
            compare_rollouts(
                f"{name}: batch of {n} on {dev} vs on {base_dev}", run(dev, n, seed), cpu_runs[n], atol=atol
            )


def _is_instance(game: GameSource) -> bool:
    from social_dilemmas.core.game import BatchedGame

    return isinstance(game, BatchedGame)
