"""Plumbing shared by the shipped checkers: resolving games, seeded actions, rollouts, diffs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from social_dilemmas.core.game import BatchedGame
from social_dilemmas.core.rng import hash32

#: What the checkers accept as "a game": a registered id, a game, or a factory of games.
GameSource = str | BatchedGame | Callable[..., BatchedGame]

_ACTION_SALT = 0xAC7105


def as_game(source: GameSource, device: torch.device | str | None = None) -> BatchedGame:
    """Build (or return) a :class:`BatchedGame` from an id, an instance or a factory.

    A factory is called with ``device=...`` when it accepts that keyword (any
    :class:`BatchedGame` subclass or ``functools.partial`` of one does), else with no
    arguments. An instance is returned as is (it must already live on ``device``).
    """
    if isinstance(source, BatchedGame):
        if device is not None and source.device != torch.device(device):
            raise ValueError(
                f"the game instance lives on {source.device}, {device} was asked for: pass an env id or a "
                f"factory accepting device= to check other devices"
            )
        return source
    if isinstance(source, str):
        from social_dilemmas.registration import make_game

        return make_game(source, device=device or "cpu")
    if callable(source):
        game = source(device=device) if device is not None and _accepts_device(source) else source()
        if not isinstance(game, BatchedGame):
            raise TypeError(f"the game factory must return a BatchedGame, got {type(game).__name__}")
        if device is not None and game.device != torch.device(device):
            raise ValueError(f"the game factory ignored device={device!r} (its game lives on {game.device})")
        return game
    raise TypeError(f"expected an env id, a BatchedGame or a factory of BatchedGames, got {source!r}")


def _accepts_device(fn: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    return "device" in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def seed_tensor(seed: int, batch_size: int) -> torch.Tensor:
    """Seeds ``seed, seed + 1, ...`` (Gymnasium's vector-env convention), int64 on CPU."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    return torch.arange(batch_size, dtype=torch.int64) + seed


def random_actions(action_seeds: torch.Tensor, step: int, num_agents: int, num_actions: int) -> torch.Tensor:
    """Pseudo-random joint actions ``[N, A]`` int64 (CPU) for step ``step``.

    Row ``i`` depends only on ``action_seeds[i]`` and ``step``, so sub-environment ``i``
    receives the same actions whatever the batch size, its position or the device.
    """
    s = action_seeds.to(torch.int64).cpu().view(-1, 1)
    agent = torch.arange(num_agents, dtype=torch.int64).view(1, -1)
    return hash32(s & 0xFFFFFFFF, s >> 32, step, agent, _ACTION_SALT) % num_actions


def default_steps(game: BatchedGame, episodes: int = 2) -> int:
    """Enough steps to finish ``episodes`` episodes of ``max_steps`` and start the next."""
    return episodes * game.max_steps + 1


@dataclass
class Rollout:
    """Everything a batch emitted, stacked over steps, on CPU.

    ``fields[name]`` is ``[steps, N, ...]``; ``first`` holds the reset outputs ``[N, ...]``.
    """

    first: dict[str, torch.Tensor] = field(default_factory=dict)
    fields: dict[str, torch.Tensor] = field(default_factory=dict)

    def row(self, i: int | slice) -> Rollout:
        return Rollout(
            {k: v[i : i + 1] if isinstance(i, int) else v[i] for k, v in self.first.items()},
            {k: v[:, i : i + 1] if isinstance(i, int) else v[:, i] for k, v in self.fields.items()},
        )


def rollout(
    game: BatchedGame,
    seeds: torch.Tensor,
    steps: int,
    *,
    action_seeds: torch.Tensor | None = None,
    continue_steps: int = 0,
) -> Rollout:
    """Reset ``game`` with ``seeds``, play ``steps`` steps of seeded random actions (with
    same-step autoreset), then an unseeded reset (continuing the random streams) and
    ``continue_steps`` more steps. Records obs, rewards, flags, final_obs, metrics, global
    state and the random state."""
    spec = game.spec
    action_seeds = seeds if action_seeds is None else action_seeds
    state, obs = game.reset(seeds.to(game.device))
    first = {"obs": obs.cpu(), "global_state": game.global_state(state).cpu()}
    rec: dict[str, list[torch.Tensor]] = {}

    def put(k: str, v: torch.Tensor | None) -> None:
        if v is not None:
            rec.setdefault(k, []).append(v.detach().cpu())

    total = steps + continue_steps
    for k in range(total):
        if k == steps and continue_steps:
            state, obs = game.reset_from(state.rng)
            put("obs_after_unseeded_reset", obs)
        a = random_actions(action_seeds, k, spec.num_agents, spec.num_actions)
        state, out = game.step(state, a.to(game.device))
        put("actions", a)
        put("obs", out.obs)
        put("reward", out.reward)
        put("terminated", out.terminated)
        put("truncated", out.truncated)
        put("final_obs", out.final_obs)
        put("global_state", game.global_state(state))
        put("rng.key", state.rng.key)
        put("rng.counter", state.rng.counter)
        for m, v in out.metrics.items():
            put(f"metrics[{m!r}]", v)
    fields = {}
    for k, vs in rec.items():
        if len({tuple(v.shape) for v in vs}) != 1:
            raise AssertionError(
                f"{spec.name}: {k} changes shape between steps: {sorted({tuple(v.shape) for v in vs})}"
            )
        fields[k] = torch.stack(vs)
    return Rollout(first, fields)


def first_mismatch(a: torch.Tensor, b: torch.Tensor, atol: float = 0.0) -> str:
    """A short ``" at index [...]: x vs y"`` describing the first differing entry."""
    if a.shape != b.shape:
        return f" (shapes {list(a.shape)} vs {list(b.shape)})"
    if a.dtype.is_floating_point or b.dtype.is_floating_point:
        a64, b64 = a.to(torch.float64), b.to(torch.float64)
        bad = (a64 - b64).abs() > atol
        bad |= torch.isnan(a64) != torch.isnan(b64)
    else:
        bad = a != b
    idx = bad.nonzero()
    if idx.numel() == 0:
        return ""
    j = tuple(idx[0].tolist())
    return f" at index {list(j)}: {a[j].item()} vs {b[j].item()}"


def tensors_equal(a: torch.Tensor, b: torch.Tensor, atol: float = 0.0) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if atol and a.dtype.is_floating_point:
        return bool(torch.allclose(a, b, atol=atol, rtol=0.0, equal_nan=True))
    return bool(torch.equal(a, b)) or (
        a.dtype.is_floating_point and bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    )


def compare_rollouts(
    what: str, got: Rollout, want: Rollout, *, atol: float = 0.0, row_names: list[str] | None = None
) -> None:
    """Raise ``AssertionError`` at the first field/step/sub-environment where they differ."""
    for part, g_all, w_all in (("reset", got.first, want.first), ("step", got.fields, want.fields)):
        if set(g_all) != set(w_all):
            raise AssertionError(f"{what}: different fields after {part}: {sorted(g_all)} vs {sorted(w_all)}")
        for key in g_all:
            g, w = g_all[key], w_all[key]
            if g.shape != w.shape or g.dtype != w.dtype:
                raise AssertionError(
                    f"{what}: {key} has shape/dtype {list(g.shape)}/{g.dtype} vs {list(w.shape)}/{w.dtype}"
                )
            if tensors_equal(g, w, atol):
                continue
            if part == "reset":
                rows = _bad_rows(g, w, atol, dim=0)
                i = rows[0]
                who = row_names[i] if row_names else f"sub-env {i}"
                raise AssertionError(f"{what}: {key} after reset differs for {who}{first_mismatch(g[i], w[i], atol)}")
            for k in range(g.shape[0]):
                if not tensors_equal(g[k], w[k], atol):
                    i = _bad_rows(g[k], w[k], atol, dim=0)[0]
                    who = row_names[i] if row_names else f"sub-env {i}"
                    raise AssertionError(
                        f"{what}: {key} differs at step {k} for {who}{first_mismatch(g[k][i], w[k][i], atol)}"
                    )


def _bad_rows(g: torch.Tensor, w: torch.Tensor, atol: float, dim: int) -> list[int]:
    return [i for i in range(g.shape[dim]) if not tensors_equal(g[i], w[i], atol)] or [0]
