"""The contract every policy network follows: a *population* of independent networks in one module.

A :class:`PolicyValueModel` holds ``P`` independent parameter sets ("members"); every parameter
has a leading dimension ``P`` and every input and output a leading ``[P, N]`` (members, batch of
sub-environments per member). 128 naive learners are therefore one batched computation
(``torch.baddbmm`` / ``torch.einsum`` over stacked weights), not a Python loop, and member ``i``
sees only its own slice, so gradients of different members never mix.

Two modes, which agree to float32 round-off:

* :meth:`PolicyValueModel.step` — acting, one step: ``obs [P, N, obs_dim]``.
* :meth:`PolicyValueModel.forward` — training, a whole sequence ``obs [P, N, L, obs_dim]``, with
  an optional ``reset [P, N, L]`` mask: ``reset[..., l]`` true zeroes the carry *before* step
  ``l`` (naive learners reset at every inner-episode start; meta agents only at the start of a
  meta-episode).

Carry (recurrent memory): a tuple of float tensors, each ``[P, N, ...]``; ``()`` for memoryless
models. **The initial carry is all zeros and resetting means zeroing**, so a carry you zero
yourself (``torch.zeros_like``) is exactly a fresh one; still, prefer :meth:`reset_carry`.

Initialisation is reproducible and independent of ``P``: member ``i`` of a model built with
``seed=s`` is initialised from its own generator seeded with ``s + i`` (:func:`member_seed`), on
the CPU, then moved to the model's device. So member ``i`` is the same whatever ``P`` is and on
every device, and member ``i`` of ``seed=s`` equals member ``0`` of ``seed=s + i``. All policy and
value readouts are zero-initialised (paper App. B.3): a fresh model plays uniformly with value 0.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import Tensor, nn

from social_dilemmas.core.validation import MAX_BATCH, check_int, check_positive_int

#: A carry: a (possibly empty) tuple of float tensors, each with leading dims ``[P, N]``.
Carry = tuple[Tensor, ...]
#: An initialiser: ``(generator, shape) -> float32 CPU tensor of that shape``.
Init = Callable[[torch.Generator, tuple[int, ...]], Tensor]

_SEED_MOD = 2**63 - 1


def member_seed(seed: int, i: int) -> int:
    """The seed member ``i`` of a population built with ``seed`` is initialised from."""
    return (int(seed) + int(i)) % _SEED_MOD


def resolve_seed(seed: int | None = None, generator: torch.Generator | None = None) -> int:
    """One integer seed from an explicit ``seed``, a ``generator``, or torch's global RNG.

    ``generator`` advances by one draw; with neither, the draw comes from torch's global RNG
    (so ``torch.manual_seed`` makes it reproducible).
    """
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if seed is not None:
        return check_int("seed", seed) % _SEED_MOD
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
    draw = torch.randint(0, 2**31 - 1, (1,), generator=generator, device=generator.device if generator else "cpu")
    return int(draw.item())


# ----------------------------------------------------------------------------- initialisers


def _zeros(g: torch.Generator, shape: tuple[int, ...]) -> Tensor:
    return torch.zeros(shape)


def _normal(std: float, g: torch.Generator, shape: tuple[int, ...]) -> Tensor:
    return torch.randn(shape, generator=g) * std


def _uniform(bound: float, g: torch.Generator, shape: tuple[int, ...]) -> Tensor:
    return (torch.rand(shape, generator=g) * 2.0 - 1.0) * bound


# Initialisers are partials of module-level functions (not lambdas) so that models pickle.


def zeros_init() -> Init:
    """All zeros (biases, readouts, RMSNorm scales)."""
    return _zeros


def normal_init(std: float) -> Init:
    """Normal with standard deviation ``std``."""
    return partial(_normal, float(std))


def fan_in_normal(fan_in: int, scale: float = 1.0) -> Init:
    """Normal with variance ``scale / fan_in`` (the Hawk/LeCun initialisation)."""
    return normal_init(math.sqrt(scale / fan_in))


def uniform_init(bound: float) -> Init:
    """Uniform on ``[-bound, bound]`` (PyTorch's default for RNN cells)."""
    return partial(_uniform, float(bound))


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a member: its name, per-member shape and initialiser."""

    name: str
    shape: tuple[int, ...]
    init: Init


# ----------------------------------------------------------------------------- batched maths


def batched_linear(x: Tensor, w: Tensor, b: Tensor | None = None) -> Tensor:
    """``x [P, ..., in] @ w [P, in, out] + b [P, out]`` -> ``[P, ..., out]``, one matmul per member."""
    p, d_in = x.shape[0], x.shape[-1]
    lead = x.shape[1:-1]
    x2 = x.reshape(p, -1, d_in)
    y = torch.bmm(x2, w) if b is None else torch.baddbmm(b.unsqueeze(1), x2, w)
    return y.reshape(p, *lead, w.shape[-1])


class _RMSNorm(torch.autograd.Function):
    """``x * rsqrt(mean(x^2) + eps) * (1 + scale)`` with a hand-written backward.

    The forward is the same arithmetic as the obvious expression; the backward needs about half
    of the full-size passes autograd would make through ``pow``, ``mean``, ``rsqrt`` and the
    two products (it is differentiable, so second-order gradients still work).
    """

    @staticmethod
    def forward(ctx, x: Tensor, scale: Tensor, eps: float) -> Tensor:  # type: ignore[override]
        shape = (scale.shape[0],) + (1,) * (x.dim() - 2) + (scale.shape[-1],)
        w = 1.0 + scale.view(shape)
        r = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)
        ctx.save_for_backward(x, scale, r)
        ctx.eps = eps
        return x * r * w

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor, Tensor, None]:  # type: ignore[override]
        x, scale, r = ctx.saved_tensors
        if torch.is_grad_enabled():  # double backward: r must be a function of x in the graph
            r = torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + ctx.eps)
        shape = (scale.shape[0],) + (1,) * (x.dim() - 2) + (scale.shape[-1],)
        gw = grad * (1.0 + scale.view(shape))
        # d/dx_j of x_i r w_i: r gw_j - x_j r^3 mean_i(gw_i x_i)
        coef = (gw * x).mean(dim=-1, keepdim=True) * r.pow(3)
        grad_x = torch.addcmul(gw * r, x, coef, value=-1.0)
        grad_scale = (grad * x * r).reshape(scale.shape[0], -1, scale.shape[-1]).sum(1)
        return grad_x, grad_scale, None


def rms_norm(x: Tensor, scale: Tensor, eps: float = 1e-6) -> Tensor:
    """Hawk's RMSNorm: ``x / rms(x) * (1 + scale)``; ``scale [P, d]`` (zero-initialised).

    Under ``torch.compile`` the plain expression is traced instead of the hand-written backward
    (the compiler fuses it, and dynamic-shape tracing does not take the custom function).
    """
    if torch.compiler.is_compiling():
        shape = (scale.shape[0],) + (1,) * (x.dim() - 2) + (scale.shape[-1],)
        return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * (1.0 + scale.view(shape))
    return _RMSNorm.apply(x, scale, eps)


def broadcast_mask(mask: Tensor, like: Tensor) -> Tensor:
    """View a ``[P, N]`` (or ``[P, N, L]``) mask so that it broadcasts against ``like``."""
    return mask.view(*mask.shape, *([1] * (like.dim() - mask.dim())))


# ----------------------------------------------------------------------------- the contract


@functools.cache
def _compiled_step(cls: type) -> Callable[..., Any]:
    """``cls._step`` through ``torch.compile`` (one compiled function per model class)."""
    return torch.compile(cls._step)


class PolicyValueModel(nn.Module):
    """``P`` independent policy-value networks in one module (abstract).

    Subclasses declare their per-member parameters with :meth:`_declare` and implement
    :meth:`_step` (one step on validated inputs) and, optionally, a faster :meth:`_sequence`
    (the default loops :meth:`_step` over time). Memoryless models set ``carry_shapes = ()``.

    Attributes:
        population: ``P``, the number of independent parameter sets.
        obs_dim: size of a flat observation vector.
        num_actions: number of discrete actions (policy logits per step).
        seed: the seed member 0 was initialised from (member ``i`` used ``seed + i``).
        kind: the :func:`~social_dilemmas.models.make_model` name of the architecture.
        compile_step: run :meth:`step` through ``torch.compile`` (default ``False``).
    """

    kind: str = "abstract"

    def __init__(self, obs_dim: int, num_actions: int, population: int = 1) -> None:
        super().__init__()
        self.obs_dim = check_positive_int("obs_dim", obs_dim)
        self.num_actions = check_positive_int("num_actions", num_actions)
        self.population = check_positive_int("population", population, MAX_BATCH)
        self.compile_step = False
        self.seed: int = 0
        self._specs: list[ParamSpec] = []

    # -- parameters ------------------------------------------------------------------------

    def _declare(self, specs: Sequence[ParamSpec], seed: int, dtype: torch.dtype | None = None) -> None:
        """Create ``[P, *shape]`` parameters for ``specs`` and initialise every member."""
        dtype = dtype or torch.get_default_dtype()
        self._specs = list(specs)
        for spec in self._specs:
            self.register_parameter(spec.name, nn.Parameter(torch.empty((self.population, *spec.shape), dtype=dtype)))
        self.seed = seed
        for i in range(self.population):
            self.reinitialize_member(i, member_seed(seed, i))

    def param_names(self) -> list[str]:
        """Names of the per-member parameters, in declaration order."""
        return [s.name for s in self._specs]

    def _check_member(self, i: int) -> int:
        i = check_int("member index", i)
        if not 0 <= i < self.population:
            raise IndexError(f"member index {i} out of range for a population of {self.population}")
        return i

    @torch.no_grad()
    def reinitialize_member(self, i: int, seed: int) -> None:
        """Re-initialise member ``i`` from ``seed`` (as a fresh member built with that seed)."""
        i = self._check_member(i)
        g = torch.Generator(device="cpu").manual_seed(int(seed) % _SEED_MOD)
        for spec in self._specs:
            p = getattr(self, spec.name)
            p[i].copy_(spec.init(g, spec.shape).to(dtype=p.dtype))

    def member_state(self, i: int) -> dict[str, Tensor]:
        """A detached copy of member ``i``'s parameters (no leading population dim)."""
        i = self._check_member(i)
        return {s.name: getattr(self, s.name)[i].detach().clone() for s in self._specs}

    @torch.no_grad()
    def load_member_state(self, i: int, state: dict[str, Tensor]) -> None:
        """Copy ``state`` (as returned by :meth:`member_state`) into member ``i``."""
        i = self._check_member(i)
        names = set(self.param_names())
        if set(state) != names:
            missing, extra = sorted(names - set(state)), sorted(set(state) - names)
            raise KeyError(f"member state does not match {type(self).__name__}: missing {missing}, unexpected {extra}")
        for spec in self._specs:
            p, v = getattr(self, spec.name), state[spec.name]
            if tuple(v.shape) != spec.shape:
                raise ValueError(f"member state {spec.name!r} has shape {tuple(v.shape)}, expected {spec.shape}")
            p[i].copy_(v.to(device=p.device, dtype=p.dtype))

    def copy_member(self, src: int, dst: int, source: PolicyValueModel | None = None) -> None:
        """Member ``dst`` := member ``src`` of ``source`` (default: this model)."""
        self.load_member_state(dst, (source or self).member_state(src))

    @property
    def device(self) -> torch.device:
        return next(iter(self.parameters())).device if self._specs else torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        return next(iter(self.parameters())).dtype if self._specs else torch.get_default_dtype()

    # -- carry -----------------------------------------------------------------------------

    def carry_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Trailing shapes of the carry's tensors (after ``[P, N]``); ``()`` if memoryless."""
        return ()

    def initial_carry(self, batch_size: int, device: torch.device | str | None = None) -> Carry:
        """The fresh (all-zero) carry for ``batch_size`` sub-environments per member."""
        n = check_positive_int("batch_size", batch_size, MAX_BATCH)
        device = self.device if device is None else torch.device(device)
        return tuple(
            torch.zeros((self.population, n, *s), device=device, dtype=self.dtype) for s in self.carry_shapes()
        )

    def reset_carry(self, carry: Carry, mask: Tensor) -> Carry:
        """Zero the carry where ``mask [P, N]`` (bool) is true."""
        carry = tuple(carry)
        if not carry:
            return carry
        p, n = carry[0].shape[:2]
        if tuple(mask.shape) != (p, n):
            raise ValueError(f"reset mask must have shape [P, N] = [{p}, {n}], got {list(mask.shape)}")
        mask = mask.to(device=carry[0].device, dtype=torch.bool)
        return tuple(
            torch.where(broadcast_mask(mask, c), torch.zeros((), dtype=c.dtype, device=c.device), c) for c in carry
        )

    def _check_carry(self, carry: Any, n: int) -> Carry:
        if not isinstance(carry, (tuple, list)):
            raise TypeError(f"carry must be a tuple of tensors, got {type(carry).__name__}")
        carry = tuple(carry)
        shapes = self.carry_shapes()
        if len(carry) != len(shapes):
            raise ValueError(f"carry must hold {len(shapes)} tensors, got {len(carry)}")
        for k, (c, s) in enumerate(zip(carry, shapes)):
            want = (self.population, n, *s)
            if not isinstance(c, Tensor) or tuple(c.shape) != want:
                got = list(c.shape) if isinstance(c, Tensor) else type(c).__name__
                raise ValueError(f"carry[{k}] must have shape {list(want)}, got {got}")
        return carry

    # -- inputs ----------------------------------------------------------------------------

    def _check_obs(self, obs: Tensor, ndim: int, layout: str) -> Tensor:
        if not isinstance(obs, Tensor):
            raise TypeError(f"obs must be a torch.Tensor, got {type(obs).__name__}")
        if obs.dim() != ndim or obs.shape[0] != self.population or obs.shape[-1] != self.obs_dim:
            raise ValueError(
                f"obs must have shape {layout} with P={self.population}, obs_dim={self.obs_dim}; got {list(obs.shape)}"
            )
        if obs.dtype != self.dtype:
            obs = obs.to(self.dtype)
        return obs

    # -- the two modes ---------------------------------------------------------------------

    def step(self, obs: Tensor, carry: Carry) -> tuple[Tensor, Tensor, Carry]:
        """One step: ``obs [P, N, obs_dim]`` -> ``(logits [P, N, A], value [P, N], carry)``.

        With :attr:`compile_step` set, the step runs through ``torch.compile`` (compiled once per
        model class and input shapes, on the first call; the trainer's ``--torch-compile``).
        """
        obs = self._check_obs(obs, 3, "[P, N, obs_dim]")
        carry = self._check_carry(carry, obs.shape[1])
        if self.compile_step:
            return _compiled_step(type(self))(self, obs, carry)
        return self._step(obs, carry)

    def forward(
        self, obs: Tensor, carry: Carry | None = None, reset: Tensor | None = None
    ) -> tuple[Tensor, Tensor, Carry]:
        """A whole sequence: ``obs [P, N, L, obs_dim]`` -> ``(logits [P, N, L, A], value [P, N, L], carry)``.

        Args:
            obs: observations, ``[P, N, L, obs_dim]``.
            carry: the carry before step 0 (default: fresh).
            reset: optional ``[P, N, L]`` bool; ``reset[..., l]`` zeroes the carry before step ``l``.

        Returns:
            Logits and values at every step, and the carry after the last step.
        """
        obs = self._check_obs(obs, 4, "[P, N, L, obs_dim]")
        p, n, length = obs.shape[:3]
        carry = self.initial_carry(n, obs.device) if carry is None else self._check_carry(carry, n)
        if reset is not None:
            if not isinstance(reset, Tensor) or tuple(reset.shape) != (p, n, length):
                got = list(reset.shape) if isinstance(reset, Tensor) else type(reset).__name__
                raise ValueError(f"reset must be a bool tensor of shape [P, N, L] = [{p}, {n}, {length}], got {got}")
            reset = reset.to(device=obs.device, dtype=torch.bool)
        if length == 0:
            logits = obs.new_zeros((p, n, 0, self.num_actions))
            return logits, obs.new_zeros((p, n, 0)), carry
        return self._sequence(obs, carry, reset)

    def _step(self, obs: Tensor, carry: Carry) -> tuple[Tensor, Tensor, Carry]:
        raise NotImplementedError

    def _sequence(self, obs: Tensor, carry: Carry, reset: Tensor | None) -> tuple[Tensor, Tensor, Carry]:
        """Default sequence mode: loop :meth:`_step` over time (vectorised over ``P`` and ``N``)."""
        logits, values = [], []
        resets = [None] * obs.shape[2] if reset is None else reset.unbind(2)
        for obs_t, reset_t in zip(obs.unbind(2), resets):
            if reset_t is not None:
                carry = self.reset_carry(carry, reset_t)
            lg, v, carry = self._step(obs_t, carry)
            logits.append(lg)
            values.append(v)
        return torch.stack(logits, dim=2), torch.stack(values, dim=2), carry

    def extra_repr(self) -> str:
        return f"population={self.population}, obs_dim={self.obs_dim}, num_actions={self.num_actions}"


def readout_specs(width: int, num_actions: int) -> list[ParamSpec]:
    """Zero-initialised policy and value readouts on a ``width``-dim feature (paper App. B.3)."""
    return [
        ParamSpec("policy_w", (width, num_actions), zeros_init()),
        ParamSpec("policy_b", (num_actions,), zeros_init()),
        ParamSpec("value_w", (width, 1), zeros_init()),
        ParamSpec("value_b", (1,), zeros_init()),
    ]


def apply_readouts(model: PolicyValueModel, features: Tensor) -> tuple[Tensor, Tensor]:
    """``features [P, ..., width]`` -> ``(logits [P, ..., A], value [P, ...])``.

    Policy and value readouts run as one matmul (their weights side by side).
    """
    a = model.num_actions
    w = torch.cat([model.policy_w, model.value_w], dim=-1)
    b = torch.cat([model.policy_b, model.value_b], dim=-1)
    out = batched_linear(features, w, b)
    logits, value = out.split([a, 1], dim=-1)
    return logits, value.squeeze(-1)
