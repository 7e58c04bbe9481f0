"""Match a batched core step by step against a slow, obvious reference implementation.

Write the reference as plain Python that plays **one** sub-environment (lists, ``if``
statements, no batching and ideally no torch), then run::

    from social_dilemmas.testing import check_reference_match
    check_reference_match(game, lambda: MyReference(...), batch_size=4, steps=50)

The checker steps the core's ``batch_size`` sub-environments and one reference object per
sub-environment side by side on the same actions (random by default) and compares every
output: first observations, rewards, ``terminated``, ``truncated``, ``final_obs``, the
observation after autoreset, ``metrics`` and, when the reference has one, the global state.
It raises ``AssertionError`` naming the sub-environment, its seed, the step, the field and
both values.

The reference interface
=======================

A reference is any object with these methods (see :class:`Reference`)::

    class MyReference:
        def reset(self, rng: SubEnvRNG) -> Obs:
            '''Start a new episode; return the per-agent observations [A, *obs_shape].'''

        def step(self, actions: list[int], rng: SubEnvRNG) -> tuple:
            '''Apply one joint action (one int per agent, agent 0 first); return
            (obs, rewards, terminated, truncated, metrics)  -- or a RefStep.'''

        def global_state(self) -> State:        # optional
            '''The global state [*state_shape] of the current episode.'''

* ``obs`` is anything ``numpy.asarray(obs, dtype=float32)`` turns into ``[A, *obs_shape]``
  (nested lists are fine); ``rewards`` has one number per agent; ``terminated`` and
  ``truncated`` are bools; ``metrics`` maps every metric name the core emits to a number
  or nested list (the core's ``metrics[name][i]``), ``{}`` when the core emits none.
* The reference keeps its own episode clock: it reports ``truncated=True`` itself after
  ``max_steps`` steps. It never resets itself: after it reports an episode end the
  checker calls ``reset(rng)`` again, and compares that observation with the core's
  autoreset observation (and the end-of-episode ``obs`` with the core's ``final_obs``).

Randomness: the same draws as the core
--------------------------------------

``rng`` is a :class:`SubEnvRNG`, the pure-Python twin of the core's per-sub-environment
:class:`~social_dilemmas.core.rng.RNG` at that moment. ``rng.uniform(stream, *shape)`` and
``rng.bits(stream, *shape)`` return *exactly* the numbers that ``state.rng.uniform(stream,
*shape)[i]`` / ``state.rng.bits(stream, *shape)[i]`` give inside the core (Python floats /
ints; nested lists when a shape is given, row-major like the tensor). So a reference draws
the way the core does: call ``rng.uniform(stream)`` with the same stream numbers (streams
below 100 in ``step``, :data:`~social_dilemmas.core.game.INIT_STREAM` and above in
``reset``) and use the numbers in the same way (e.g. ``u < p``). The reference must not
read anything else from the core.

The checker hands out ``rng`` following the core's clock (and asserts that the core's
state follows it too):

* the first ``reset`` of a sub-environment seeded ``s`` gets ``SubEnvRNG.from_seed(s)``
  (counter 0);
* the ``k``-th ``step`` since seeding (``k = 0, 1, ...``, counting across episodes) gets
  counter ``k``, the random state ``transition`` sees;
* the ``reset`` after an episode ended at step ``k`` (the autoreset) gets counter
  ``k + 1``, the random state ``init`` sees.

Example: a reference for a game whose episode starts with a coin flip in stream
``INIT_STREAM`` would do ``heads = rng.uniform(INIT_STREAM) < 0.5`` in ``reset``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import torch

from social_dilemmas.core.game import BatchedGame
from social_dilemmas.core.rng import _GOLDEN, _M1, _M2, _M3, _M4, _MASK32
from social_dilemmas.testing._common import (
    as_game,
    default_steps,
    first_mismatch,
    random_actions,
    seed_tensor,
)

__all__ = ["Reference", "RefStep", "SubEnvRNG", "check_reference_match", "py_hash32"]


# ---------------------------------------------------------------------- pure-Python RNG twin
def _mix32(x: int) -> int:
    x ^= x >> 16
    x = (x * _M1) & _MASK32
    x ^= x >> 15
    x = (x * _M2) & _MASK32
    x ^= x >> 16
    x = (x * _M3) & _MASK32
    x ^= x >> 15
    return x


def py_hash32(*words: int) -> int:
    """Pure-Python :func:`social_dilemmas.core.rng.hash32` of Python ints."""
    h = _GOLDEN
    for w in words:
        h = _mix32((h * _M4 + (w & _MASK32) + _GOLDEN) & _MASK32)
    return h


def _nest(flat: list, shape: tuple[int, ...]) -> Any:
    if len(shape) <= 1:
        return flat
    step = len(flat) // shape[0]
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


@dataclass(frozen=True)
class SubEnvRNG:
    """The random state of one sub-environment, in plain Python.

    Attributes:
        key: the sub-environment's 32-bit key (a hash of its seed).
        counter: how many steps it has taken since it was seeded.
    """

    key: int
    counter: int = 0

    @staticmethod
    def from_seed(seed: int) -> SubEnvRNG:
        """The random state right after seeding with ``seed`` (what the first reset sees)."""
        seed = int(seed)
        return SubEnvRNG(py_hash32(seed & _MASK32, (seed >> 32) & _MASK32, 0x5EED), 0)

    def advance(self) -> SubEnvRNG:
        """The state one step later."""
        return SubEnvRNG(self.key, self.counter + 1)

    def bits(self, stream: int, *shape: int) -> Any:
        """32-bit random words: an int, or nested lists of ints of ``shape``."""
        if not shape:
            return py_hash32(self.key, self.counter, stream)
        n = int(np.prod(shape))
        return _nest([py_hash32(self.key, self.counter, stream, i) for i in range(n)], shape)

    def uniform(self, stream: int, *shape: int) -> Any:
        """Uniforms in ``[0, 1)``: a float, or nested lists of floats of ``shape``.

        Each value is ``k / 2**24`` with an integer ``k``, so it is exactly the float32 the
        core produces.
        """
        if not shape:
            return (self.bits(stream) >> 8) * (1.0 / (1 << 24))
        n = int(np.prod(shape))
        flat = [(py_hash32(self.key, self.counter, stream, i) >> 8) * (1.0 / (1 << 24)) for i in range(n)]
        return _nest(flat, shape)


# ---------------------------------------------------------------------- the interface
class RefStep(NamedTuple):
    """What :meth:`Reference.step` returns (a plain 5-tuple in this order works too)."""

    obs: Any
    rewards: Sequence[float]
    terminated: bool
    truncated: bool
    metrics: dict[str, Any]


@runtime_checkable
class Reference(Protocol):
    """A slow reference implementation of one sub-environment (see the module docstring)."""

    def reset(self, rng: SubEnvRNG) -> Any: ...

    def step(self, actions: list[int], rng: SubEnvRNG) -> RefStep | tuple: ...


# ---------------------------------------------------------------------- the checker
def check_reference_match(
    game: BatchedGame | str,
    reference_factory: Callable[[], Any],
    *,
    batch_size: int = 4,
    steps: int | None = None,
    seed: int = 0,
    actions: torch.Tensor | np.ndarray | Sequence | None = None,
    atol: float = 0.0,
) -> None:
    """Step ``game`` and one ``reference_factory()`` per sub-environment side by side.

    Args:
        game: the batched core (or a registered id).
        reference_factory: builds a fresh reference object for one sub-environment.
        batch_size: number of sub-environments, seeded ``seed, seed + 1, ...``.
        steps: number of steps (default ``3 * max_steps + 1``, crossing 3 autoresets).
        seed: the first seed.
        actions: optional joint actions ``[steps, batch_size, num_agents]``; random actions
            (a hash of each sub-environment's seed and the step) by default.
        atol: tolerance for observations, rewards, metrics and states (exact by default).

    Raises:
        AssertionError: at the first difference, naming sub-environment, seed, step and field.
    """
    game = as_game(game)
    spec = game.spec
    name = f"check_reference_match({spec.name})"
    seeds = seed_tensor(seed, batch_size)
    if actions is not None:
        actions = torch.as_tensor(np.asarray(actions), dtype=torch.int64)
        if actions.dim() != 3 or tuple(actions.shape[1:]) != (batch_size, spec.num_agents):
            raise ValueError(
                f"actions must have shape [steps, {batch_size}, {spec.num_agents}], got {list(actions.shape)}"
            )
        steps = actions.shape[0] if steps is None else steps
        if steps > actions.shape[0]:
            raise ValueError(f"steps={steps} but only {actions.shape[0]} joint actions were given")
    steps = default_steps(game, episodes=3) if steps is None else steps

    refs = [reference_factory() for _ in range(batch_size)]
    rngs = [SubEnvRNG.from_seed(int(s)) for s in seeds.tolist()]
    history: list[list[list[int]]] = [[] for _ in range(batch_size)]
    ep_t = [0] * batch_size

    def fail(i: int, k: int | None, what: str, core: Any, ref: Any, detail: str = "") -> None:
        where = "at reset" if k is None else f"at step {k} (step {ep_t[i]} of its episode)"
        recent = history[i][-12:]
        raise AssertionError(
            f"{name}: sub-env {i} (seed {int(seeds[i])}) {where}: {what} differs{detail}\n"
            f"  core:      {core}\n  reference: {ref}\n"
            f"  last joint actions of this sub-env: {recent}"
        )

    def compare(i: int, k: int | None, what: str, core: torch.Tensor, ref: Any) -> None:
        ref_arr = np.asarray(ref, dtype=np.float64)
        core_arr = core.detach().cpu().to(torch.float64).numpy()
        if ref_arr.shape != core_arr.shape:
            fail(i, k, f"{what} shape", list(core_arr.shape), list(ref_arr.shape))
        if not np.allclose(core_arr, ref_arr, atol=atol, rtol=0.0, equal_nan=False):
            detail = first_mismatch(torch.from_numpy(core_arr), torch.from_numpy(ref_arr), atol)
            fail(
                i, k, what, core_arr.tolist(), ref_arr.tolist(), detail.replace(" vs ", " (core) vs ") + " (reference)"
            )

    def compare_rng(i: int, k: int, core_rng: Any) -> None:
        key, ctr = int(core_rng.key[i]), int(core_rng.counter[i])
        if (key, ctr) != (rngs[i].key, rngs[i].counter):
            fail(
                i,
                k,
                "random state (key, counter) after the step [the core does not follow the documented clock]",
                (key, ctr),
                (rngs[i].key, rngs[i].counter),
            )

    has_state = callable(getattr(refs[0], "global_state", None))
    state, obs = game.reset(seeds.to(game.device))
    for i in range(batch_size):
        compare(i, None, "first observation", obs[i], refs[i].reset(rngs[i]))
        if has_state:
            compare(i, None, "global state", game.global_state(state)[i], refs[i].global_state())

    for k in range(steps):
        a = actions[k] if actions is not None else random_actions(seeds, k, spec.num_agents, spec.num_actions)
        state, out = game.step(state, a.to(game.device))
        gstate = game.global_state(state) if has_state else None
        for i in range(batch_size):
            joint = [int(x) for x in a[i].tolist()]
            history[i].append(joint)
            res = refs[i].step(joint, rngs[i])
            if not isinstance(res, tuple) or len(res) != 5:
                raise TypeError(
                    f"{name}: reference.step must return (obs, rewards, terminated, truncated, metrics), got {res!r}"
                )
            r_obs, r_rew, r_term, r_trunc, r_metrics = res
            ep_t[i] += 1
            compare(i, k, "reward", out.reward[i], r_rew)
            if bool(out.terminated[i]) != bool(r_term):
                fail(i, k, "terminated", bool(out.terminated[i]), bool(r_term))
            if bool(out.truncated[i]) != bool(r_trunc):
                fail(i, k, "truncated", bool(out.truncated[i]), bool(r_trunc))
            if out.final_obs is None:
                raise AssertionError(f"{name}: step returned final_obs=None with autoreset on")
            compare(i, k, "final_obs (last observation of the episode)", out.final_obs[i], r_obs)
            r_metrics = dict(r_metrics or {})
            if set(r_metrics) != set(out.metrics):
                fail(i, k, "metric names", sorted(out.metrics), sorted(r_metrics))
            for m, v in r_metrics.items():
                compare(i, k, f"metrics[{m!r}]", out.metrics[m][i], v)
            rngs[i] = rngs[i].advance()
            if r_term or r_trunc:
                compare(
                    i, k, "observation after autoreset (first of the new episode)", out.obs[i], refs[i].reset(rngs[i])
                )
                ep_t[i] = 0
            else:
                compare(i, k, "observation", out.obs[i], r_obs)
            if has_state:
                compare(i, k, "global state after the step", gstate[i], refs[i].global_state())
            compare_rng(i, k, state.rng)
