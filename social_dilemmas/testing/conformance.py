"""``check_game``: does a :class:`~social_dilemmas.core.game.BatchedGame` keep its contract?

The batched analogue of ``gymnasium.utils.env_checker.check_env``, for users who write their
own games. It checks, on a batch of seeded sub-environments stepped with random actions:

* the spec: types and ranges of every :class:`~social_dilemmas.core.game.GameSpec` field;
* what is emitted matches the spec: observations ``[N, A, *obs_shape]`` float32 on the
  game's device, finite and within ``[obs_low, obs_high]``; rewards ``[N, A]`` float32 and
  finite; ``terminated`` / ``truncated`` ``[N]`` bool and never both; the global state
  ``[N, *state_shape]`` float32; metrics tensors with the batch as leading dimension, the
  same names and shapes at every step;
* the episode clock: ``state.t`` counts steps in the episode, the random counter advances by
  one per step, an episode is truncated exactly at ``max_steps`` (never later) and only
  there;
* same-step autoreset: ``final_obs`` is the observation the step reaches before any reset
  (what ``autoreset=False`` returns), ``obs`` equals it where nothing ended and is the first
  observation of a fresh episode (``t == 0``, the state ``init`` builds from the
  sub-environment's random state) where the episode ended; rewards and flags do not depend
  on ``autoreset``;
* purity: ``step`` does not modify its input state and is a function of ``(state, actions)``;
  observations and the global state agree with the state (``observe(state)``);
* ``check_actions`` (and therefore ``step``) rejects actions that are not tensors, have the
  wrong shape, a float / bool dtype, a wrong device, or values out of range;
* the advertised render modes work on every sub-environment index.

Every failure is an ``AssertionError`` whose message names the game, the step and what was
expected.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np
import torch

from social_dilemmas.core.game import BatchedGame, GameSpec, StepOutput
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.tree import tree_index, tree_map
from social_dilemmas.testing._common import GameSource, as_game, first_mismatch, random_actions, seed_tensor

__all__ = ["check_game"]


def check_game(game: GameSource, batch_size: int = 8, steps: int | None = None, *, seed: int = 0) -> None:
    """Check that ``game`` keeps the :class:`BatchedGame` contract; raise ``AssertionError`` if not.

    Args:
        game: a :class:`BatchedGame`, a registered id or a factory of games.
        batch_size: sub-environments to step together (seeds ``seed, seed + 1, ...``).
        steps: steps to take (default ``2 * max_steps + 2``: two full episodes and more).
        seed: the first seed.
    """
    game = as_game(game)
    name = f"check_game({getattr(getattr(game, 'spec', None), 'name', type(game).__name__)})"
    _check_spec(name, game)
    spec = game.spec
    steps = 2 * spec.max_steps + 2 if steps is None else steps
    seeds = seed_tensor(seed, batch_size)
    n = batch_size

    state, obs = game.reset(seeds.to(game.device))
    _check_state_basics(name, "after reset", game, state, n)
    _check(bool((state.t == 0).all()), f"{name}: after reset state.t must be 0, got {state.t.tolist()}")
    _check(
        bool((state.rng.counter == 0).all()),
        f"{name}: after a seeded reset the random counter must be 0, got {state.rng.counter.tolist()}",
    )
    want_key = RNG.from_seeds(seeds.to(game.device)).key
    _check(
        bool(torch.equal(state.rng.key, want_key)),
        f"{name}: after reset(seeds) the random key must be RNG.from_seeds(seeds).key (sub-environment i "
        f"depends only on seeds[i]); got {state.rng.key.tolist()}, expected {want_key.tolist()}",
    )
    _check_obs(name, "after reset", game, obs, n)
    _check_matches_observe(name, "after reset", game, state, obs)
    _check_global_state(name, "after reset", game, state, n)
    _check_render(name, game, state, n)
    _check_actions_rejected(name, game, state, n)

    metric_shapes: dict[str, tuple[int, ...]] | None = None
    ep_len = torch.zeros(n, dtype=torch.int64)
    for k in range(steps):
        where = f"step {k}"
        a = random_actions(seeds, k, spec.num_agents, spec.num_actions).to(game.device)
        before = _snapshot(state)
        nr_state, nr_out = game.step(state, a, autoreset=False)
        _check_unchanged(name, where, "step(autoreset=False)", before, state)
        state2, out = game.step(state, a)
        _check_unchanged(name, where, "step", before, state)
        _check(isinstance(out, StepOutput), f"{name}: {where}: step must return a StepOutput, got {type(out).__name__}")
        _check_state_basics(name, where, game, state2, n)

        # ---- shapes, dtypes, devices, bounds
        _check_obs(name, f"{where} (obs)", game, out.obs, n)
        _check(out.final_obs is not None, f"{name}: {where}: final_obs is None although autoreset=True")
        _check_obs(name, f"{where} (final_obs)", game, out.final_obs, n)
        _check_tensor(name, f"{where}: reward", out.reward, (n, spec.num_agents), torch.float32, game.device)
        _check(
            bool(torch.isfinite(out.reward).all()),
            f"{name}: {where}: rewards must be finite, got {out.reward.tolist()}",
        )
        _check_tensor(name, f"{where}: terminated", out.terminated, (n,), torch.bool, game.device)
        _check_tensor(name, f"{where}: truncated", out.truncated, (n,), torch.bool, game.device)
        both = out.terminated & out.truncated
        _check(not bool(both.any()), f"{name}: {where}: sub-envs {_idx(both)} are both terminated and truncated")
        metric_shapes = _check_metrics(name, where, game, out.metrics, n, metric_shapes)
        state3, out3 = game.step(state, a)
        _check(
            _same_output(out, out3) and _same_tree(state2, state3),
            f"{name}: {where}: stepping the same state with the same actions twice gave different results "
            f"(step must be a pure function of (state, actions))",
        )

        # ---- the episode clock
        ep_len += 1
        done = (out.terminated | out.truncated).cpu()
        at_limit = ep_len >= spec.max_steps
        _check(
            bool((nr_state.t.cpu() == ep_len).all()),
            f"{name}: {where}: state.t after the step must count the steps of the episode "
            f"{ep_len.tolist()}, got {nr_state.t.tolist()}",
        )
        _check(
            bool(torch.equal(nr_state.rng.counter.cpu(), state.rng.counter.cpu() + 1))
            and bool(torch.equal(nr_state.rng.key, state.rng.key)),
            f"{name}: {where}: each step must advance the random counter by exactly one and keep the key",
        )
        want_trunc = at_limit & ~out.terminated.cpu()
        _check(
            bool(torch.equal(out.truncated.cpu(), want_trunc)),
            f"{name}: {where}: truncated must be true exactly when an episode that did not terminate reaches "
            f"max_steps={spec.max_steps}; episode lengths {ep_len.tolist()}, truncated {out.truncated.tolist()}",
        )

        # ---- autoreset semantics, against the same step without autoreset
        _check(nr_out.final_obs is None, f"{name}: {where}: final_obs must be None when autoreset=False")
        for field in ("reward", "terminated", "truncated"):
            g, w = getattr(out, field), getattr(nr_out, field)
            _check(
                bool(torch.equal(g, w)),
                f"{name}: {where}: {field} differs between autoreset=True and autoreset=False"
                f"{first_mismatch(g.cpu(), w.cpu())}",
            )
        _check(
            bool(torch.equal(out.final_obs, nr_out.obs)),
            f"{name}: {where}: final_obs must be the observation the step reached before any reset (what "
            f"autoreset=False returns){first_mismatch(out.final_obs.cpu(), nr_out.obs.cpu())}",
        )
        _check_matches_observe(name, f"{where} (autoreset=False)", game, nr_state, nr_out.obs)
        _check_matches_observe(name, where, game, state2, out.obs)
        keep = ~done
        if bool(keep.any()):
            ki = keep.nonzero().view(-1).to(game.device)
            _check(
                bool(torch.equal(out.obs[ki], nr_out.obs[ki])),
                f"{name}: {where}: where no episode ended obs must equal final_obs"
                f"{first_mismatch(out.obs[ki].cpu(), nr_out.obs[ki].cpu())}",
            )
            _check(
                _same_tree(tree_index(state2, ki), tree_index(nr_state, ki)),
                f"{name}: {where}: where no episode ended the state must not depend on autoreset",
            )
        if bool(done.any()):
            di = done.nonzero().view(-1).to(game.device)
            _check(
                bool((state2.t[di] == 0).all()),
                f"{name}: {where}: after an autoreset state.t must be 0, got {state2.t[di].tolist()} for sub-envs "
                f"{di.tolist()}",
            )
            fresh = game.init(nr_state.rng)
            _check(
                _same_tree(tree_index(state2, di), tree_index(fresh, di)),
                f"{name}: {where}: after an autoreset the state of sub-envs {di.tolist()} must be the fresh "
                f"episode init(rng) builds from their random state after the step",
            )
            _check(
                bool(torch.equal(out.obs[di], game.observe(fresh)[di])),
                f"{name}: {where}: after an autoreset obs must be the first observation of the new episode",
            )
        _check_global_state(name, where, game, state2, n)
        ep_len[done] = 0
        state = state2
    _check_render(name, game, state, n)


# ---------------------------------------------------------------------- pieces
def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise AssertionError(msg)


def _idx(mask: torch.Tensor) -> list[int]:
    return mask.nonzero().view(-1).tolist()


def _check_spec(name: str, game: Any) -> None:
    _check(isinstance(game, BatchedGame), f"{name}: expected a BatchedGame, got {type(game).__name__}")
    spec = getattr(game, "spec", None)
    _check(isinstance(spec, GameSpec), f"{name}: game.spec must be a GameSpec, got {type(spec).__name__}")

    def pos_int(field: str) -> int:
        v = getattr(spec, field)
        _check(
            isinstance(v, int) and not isinstance(v, bool) and v >= 1,
            f"{name}: spec.{field} must be a positive int, got {v!r}",
        )
        return v

    def shape(field: str) -> None:
        v = getattr(spec, field)
        _check(
            isinstance(v, tuple) and all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in v),
            f"{name}: spec.{field} must be a tuple of positive ints, got {v!r}",
        )

    _check(
        isinstance(spec.name, str) and spec.name != "", f"{name}: spec.name must be a non-empty str, got {spec.name!r}"
    )
    pos_int("num_agents")
    na = pos_int("num_actions")
    pos_int("max_steps")
    shape("obs_shape")
    shape("state_shape")
    _check(
        spec.max_steps == game.max_steps,
        f"{name}: spec.max_steps={spec.max_steps} differs from game.max_steps={game.max_steps}",
    )
    for field in ("obs_low", "obs_high"):
        v = getattr(spec, field)
        _check(
            isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v),
            f"{name}: spec.{field} must be a number, got {v!r}",
        )
    _check(spec.obs_low <= spec.obs_high, f"{name}: spec.obs_low={spec.obs_low} > spec.obs_high={spec.obs_high}")
    am = spec.action_meanings
    _check(
        isinstance(am, tuple) and len(am) == na and all(isinstance(s, str) and s for s in am),
        f"{name}: spec.action_meanings must be a tuple of {na} non-empty strings, got {am!r}",
    )
    modes = getattr(game, "render_modes", ())
    _check(
        isinstance(modes, tuple) and set(modes) <= {"ansi", "rgb_array"},
        f"{name}: render_modes must be a tuple drawn from ('ansi', 'rgb_array'), got {modes!r}",
    )
    _check(isinstance(game.device, torch.device), f"{name}: game.device must be a torch.device, got {game.device!r}")


def _check_tensor(
    name: str, what: str, x: Any, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device
) -> None:
    _check(isinstance(x, torch.Tensor), f"{name}: {what} must be a torch.Tensor, got {type(x).__name__}")
    _check(tuple(x.shape) == shape, f"{name}: {what} must have shape {list(shape)}, got {list(x.shape)}")
    _check(x.dtype == dtype, f"{name}: {what} must have dtype {dtype}, got {x.dtype}")
    _check(x.device == device, f"{name}: {what} must be on the game's device {device}, got {x.device}")


def _check_obs(name: str, where: str, game: BatchedGame, obs: Any, n: int) -> None:
    spec = game.spec
    _check_tensor(name, f"{where}: observation", obs, (n, spec.num_agents, *spec.obs_shape), torch.float32, game.device)
    _check(bool(torch.isfinite(obs).all()), f"{name}: {where}: observations must be finite")
    lo, hi = obs.min().item(), obs.max().item()
    _check(
        spec.obs_low <= lo and hi <= spec.obs_high,
        f"{name}: {where}: observations must lie in [obs_low, obs_high] = [{spec.obs_low}, {spec.obs_high}], "
        f"got values in [{lo}, {hi}]",
    )


def _check_global_state(name: str, where: str, game: BatchedGame, state: Any, n: int) -> None:
    gs = game.global_state(state)
    _check_tensor(name, f"{where}: global_state", gs, (n, *game.spec.state_shape), torch.float32, game.device)
    _check(bool(torch.isfinite(gs).all()), f"{name}: {where}: global_state must be finite")


def _check_matches_observe(name: str, where: str, game: BatchedGame, state: Any, obs: torch.Tensor) -> None:
    again = game.observe(state)
    _check(
        bool(torch.equal(again, obs)),
        f"{name}: {where}: the emitted observation differs from observe(state){first_mismatch(obs.cpu(), again.cpu())}",
    )


def _check_state_basics(name: str, where: str, game: BatchedGame, state: Any, n: int) -> None:
    _check(
        dataclasses.is_dataclass(state), f"{name}: {where}: the state must be a dataclass, got {type(state).__name__}"
    )
    t = getattr(state, "t", None)
    _check_tensor(name, f"{where}: state.t", t, (n,), torch.int64, game.device)
    rng = getattr(state, "rng", None)
    _check(isinstance(rng, RNG), f"{name}: {where}: state.rng must be an RNG, got {type(rng).__name__}")
    _check_tensor(name, f"{where}: state.rng.key", rng.key, (n,), torch.int64, game.device)
    _check_tensor(name, f"{where}: state.rng.counter", rng.counter, (n,), torch.int64, game.device)

    def leaf(x: torch.Tensor) -> torch.Tensor:
        _check(
            x.dim() >= 1 and x.shape[0] == n,
            f"{name}: {where}: every state tensor needs the batch ({n}) as leading dimension, got {list(x.shape)}",
        )
        _check(x.device == game.device, f"{name}: {where}: a state tensor is on {x.device}, not {game.device}")
        return x

    tree_map(leaf, state)


def _check_metrics(
    name: str, where: str, game: BatchedGame, metrics: Any, n: int, shapes: dict[str, tuple[int, ...]] | None
) -> dict[str, tuple[int, ...]]:
    _check(isinstance(metrics, dict), f"{name}: {where}: metrics must be a dict, got {type(metrics).__name__}")
    now = {}
    for k, v in metrics.items():
        _check(isinstance(k, str), f"{name}: {where}: metric names must be strings, got {k!r}")
        _check(isinstance(v, torch.Tensor), f"{name}: {where}: metrics[{k!r}] must be a tensor, got {type(v).__name__}")
        _check(
            v.dim() >= 1 and v.shape[0] == n,
            f"{name}: {where}: metrics[{k!r}] needs the batch ({n}) as leading dimension, got {list(v.shape)}",
        )
        _check(v.device == game.device, f"{name}: {where}: metrics[{k!r}] is on {v.device}, not {game.device}")
        now[k] = (tuple(v.shape), v.dtype)
    if shapes is not None:
        _check(
            now == shapes,
            f"{name}: {where}: metric names/shapes/dtypes changed between steps: {shapes} -> {now}",
        )
    return now


def _check_actions_rejected(name: str, game: BatchedGame, state: Any, n: int) -> None:
    spec = game.spec
    a_n, k = spec.num_agents, spec.num_actions
    good = torch.zeros(n, a_n, dtype=torch.int64, device=game.device)
    try:
        game.check_actions(good, batch_size=n)
    except Exception as e:  # noqa: BLE001 - reported as a failure below
        raise AssertionError(f"{name}: check_actions rejected valid actions (zeros [{n}, {a_n}] int64): {e!r}") from e
    bad: dict[str, Any] = {
        "a list instead of a tensor": [[0] * a_n] * n,
        "a wrong batch size": torch.zeros(n + 1, a_n, dtype=torch.int64, device=game.device),
        "a missing agent dimension": torch.zeros(n, dtype=torch.int64, device=game.device),
        "too many agents": torch.zeros(n, a_n + 1, dtype=torch.int64, device=game.device),
        "a float dtype": torch.zeros(n, a_n, dtype=torch.float32, device=game.device),
        "NaN float actions": torch.full((n, a_n), float("nan"), device=game.device),
        "a bool dtype": torch.zeros(n, a_n, dtype=torch.bool, device=game.device),
        f"an action equal to num_actions={k}": torch.full((n, a_n), k, dtype=torch.int64, device=game.device),
        "a negative action": torch.full((n, a_n), -1, dtype=torch.int64, device=game.device),
        "a tensor on the meta device": torch.zeros(n, a_n, dtype=torch.int64, device="meta"),
    }
    for what, actions in bad.items():
        for via in ("check_actions", "step"):
            try:
                if via == "check_actions":
                    game.check_actions(actions, batch_size=n)
                else:
                    game.step(state, actions)
            except (ValueError, TypeError):
                continue
            except Exception as e:  # noqa: BLE001
                raise AssertionError(
                    f"{name}: {via} must raise ValueError or TypeError for actions with {what}, raised {e!r}"
                ) from e
            raise AssertionError(f"{name}: {via} accepted actions with {what}")


def _check_render(name: str, game: BatchedGame, state: Any, n: int) -> None:
    for i in sorted({0, n - 1}):
        if "ansi" in game.render_modes:
            text = game.render_ansi(state, i)
            _check(isinstance(text, str) and text, f"{name}: render_ansi must return a non-empty str, got {text!r}")
        if "rgb_array" in game.render_modes:
            img = game.render_rgb(state, i)
            _check(
                isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3,
                f"{name}: render_rgb must return an [H, W, 3] uint8 numpy array, got "
                f"{type(img).__name__} {getattr(img, 'shape', None)} {getattr(img, 'dtype', None)}",
            )


def _snapshot(state: Any) -> Any:
    return tree_map(lambda x: x.clone(), state)


def _check_unchanged(name: str, where: str, via: str, before: Any, state: Any) -> None:
    _check(
        _same_tree(before, state),
        f"{name}: {where}: {via} modified its input state in place (states must be treated as immutable)",
    )


def _same_tree(a: Any, b: Any) -> bool:
    out = []

    def eq(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out.append(x.shape == y.shape and x.dtype == y.dtype and bool(torch.equal(x, y)))
        return x

    try:
        tree_map(eq, a, b)
    except (TypeError, AttributeError, KeyError):
        return False
    return all(out)


def _same_output(a: StepOutput, b: StepOutput) -> bool:
    pairs = [(a.obs, b.obs), (a.reward, b.reward), (a.terminated, b.terminated), (a.truncated, b.truncated)]
    if (a.final_obs is None) != (b.final_obs is None) or set(a.metrics) != set(b.metrics):
        return False
    if a.final_obs is not None:
        pairs.append((a.final_obs, b.final_obs))
    pairs += [(a.metrics[k], b.metrics[k]) for k in a.metrics]
    return all(x.shape == y.shape and bool(torch.equal(x, y)) for x, y in pairs)
