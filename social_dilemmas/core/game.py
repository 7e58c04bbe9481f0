"""The batched functional game core that every face (Gymnasium, PettingZoo, meta-env) adapts.

A :class:`BatchedGame` holds only *parameters* (validated at construction) and a device. The
*state* of a batch of sub-environments is an explicit frozen dataclass (see
:mod:`social_dilemmas.core.tree`) returned by :meth:`BatchedGame.reset` and threaded through
:meth:`BatchedGame.step`. Randomness lives in the state as a per-sub-environment
:class:`~social_dilemmas.core.rng.RNG`.

Layout: observations ``[batch, agents, *obs_shape]``, rewards ``[batch, agents]`` float32,
actions ``[batch, agents]`` int64, boundary flags ``[batch]`` bool. Agent 0 is always listed
first; every observation is written from its owner's point of view ("self first").

Autoreset: with ``autoreset=True`` (the default) :meth:`BatchedGame.step` resets the
sub-environments whose episode ended *in the same call* ("same-step" autoreset, Gymnasium's
``AutoresetMode.SAME_STEP``): ``StepOutput.obs`` is then the first observation of the new
episode and ``StepOutput.final_obs`` the last observation of the finished one. With
``autoreset=False`` the state is left at the end of the episode and stepping it again is an
error the faces report.
"""

from __future__ import annotations

import abc
import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import torch

from social_dilemmas.core.devices import check_device
from social_dilemmas.core.rng import RNG, check_seed, check_seed_list
from social_dilemmas.core.tree import tree_where
from social_dilemmas.core.validation import MAX_STEPS, check_positive_int

#: Random streams 0..99 are for dynamics inside a step; 100..199 for episode initialisation;
#: 200.. for policies acting inside faces (co-players), so no two consumers share draws.
INIT_STREAM = 100
COPLAYER_STREAM = 200


@dataclass(frozen=True)
class GameSpec:
    """Static description of a game: what an agent sees and may do.

    Attributes:
        name: versioned id without namespace, e.g. ``"IPD-v0"``.
        num_agents: number of players (always listed in a fixed order, agent 0 first).
        num_actions: size of each agent's discrete action set.
        obs_shape: per-agent observation shape.
        obs_low, obs_high: bounds of every observation entry.
        state_shape: shape of the global state vector (PettingZoo ``state()``).
        max_steps: length ``T`` of an episode (a time limit, reported as truncation).
        action_meanings: a short name per action.
    """

    name: str
    num_agents: int
    num_actions: int
    obs_shape: tuple[int, ...]
    obs_low: float
    obs_high: float
    state_shape: tuple[int, ...]
    max_steps: int
    action_meanings: tuple[str, ...]


@dataclass(frozen=True)
class StepOutput:
    """Everything one batched step emits. Shapes use ``N`` = batch, ``A`` = agents.

    Attributes:
        obs: ``[N, A, *obs_shape]`` the observation to act on next (after autoreset).
        reward: ``[N, A]`` float32 reward of this step.
        terminated: ``[N]`` bool, the episode ended in a terminal state.
        truncated: ``[N]`` bool, the episode hit its time limit ``T``.
        final_obs: ``[N, A, *obs_shape]`` the last observation of the episode that just
            ended (equal to ``obs`` where no episode ended). ``None`` without autoreset.
        metrics: per-step statistics as tensors ``[N, ...]`` (e.g. cleaning actions).
    """

    obs: torch.Tensor
    reward: torch.Tensor
    terminated: torch.Tensor
    truncated: torch.Tensor
    final_obs: torch.Tensor | None = None
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def done(self) -> torch.Tensor:
        """``[N]`` bool, ``terminated | truncated``."""
        return self.terminated | self.truncated


S = TypeVar("S")


class BatchedGame(abc.ABC, Generic[S]):
    """Pure batched dynamics of one game; subclasses implement the four abstract methods.

    The state type ``S`` must be a frozen dataclass with at least the fields ``t`` (``[N]``
    int64, steps taken in the current episode) and ``rng`` (:class:`RNG`).
    """

    spec: GameSpec
    #: Render modes a face may offer for this game.
    render_modes: ClassVar[tuple[str, ...]] = ("ansi",)
    #: Whether the dynamics (``init``/``transition``) draw from the random streams: ``True``
    #: or ``False`` lets :func:`social_dilemmas.testing.check_determinism` assert that seeds
    #: do (or do not) matter; ``None`` leaves it unchecked.
    stochastic: ClassVar[bool | None] = None

    def __init__(self, *, max_steps: int, device: torch.device | str = "cpu") -> None:
        self.max_steps = check_positive_int("max_steps", max_steps, MAX_STEPS)
        self.device = check_device(device)

    # ------------------------------------------------------------------ to implement
    @abc.abstractmethod
    def init(self, rng: RNG) -> S:
        """A fresh episode state for each sub-environment, drawing from streams >= 100."""

    @abc.abstractmethod
    def observe(self, state: S) -> torch.Tensor:
        """Per-agent observations ``[N, A, *obs_shape]`` (float32, self first)."""

    @abc.abstractmethod
    def transition(
        self, state: S, actions: torch.Tensor
    ) -> tuple[S, torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Apply one joint action. Returns ``(state, reward [N, A], terminated [N], metrics)``.

        ``state.t`` and ``state.rng`` are advanced by :meth:`step`, not here; draws use
        ``state.rng`` with streams below 100.
        """

    @abc.abstractmethod
    def global_state(self, state: S) -> torch.Tensor:
        """The global state vector ``[N, *spec.state_shape]`` (float32)."""

    # ------------------------------------------------------------------ provided
    def reset(self, seeds: torch.Tensor | np.ndarray | list[int] | int) -> tuple[S, torch.Tensor]:
        """Start one episode per seed. Returns ``(state, obs [N, A, *obs_shape])``.

        Sub-environment ``i`` depends only on ``seeds[i]``: the same seed gives the same
        trajectory whatever the batch size or device.
        """
        seeds_t = _as_seed_tensor(seeds, self.device)
        state = self.init(RNG.from_seeds(seeds_t))
        return state, self.observe(state)

    def reset_from(self, rng: RNG) -> tuple[S, torch.Tensor]:
        """Start new episodes continuing existing random streams (an unseeded reset)."""
        state = self.init(rng.advance())
        return state, self.observe(state)

    def step(
        self, state: S, actions: torch.Tensor, *, autoreset: bool = True, validate: bool = True
    ) -> tuple[S, StepOutput]:
        """Advance every sub-environment by one joint action ``actions [N, A]`` (int).

        With ``validate=True`` bad actions raise a ``ValueError`` naming the problem (this
        costs one device synchronisation; hot loops that produce actions themselves may
        switch it off).
        """
        if validate:
            self.check_actions(actions, batch_size=state.t.shape[0])  # type: ignore[attr-defined]
        if actions.dtype != torch.int64:  # int8/int16/uint8 cannot index tensors (uint8 would act as a mask)
            actions = actions.to(torch.int64)
        nxt, reward, terminated, metrics = self.transition(state, actions)
        t = state.t + 1  # type: ignore[attr-defined]
        rng = state.rng.advance()  # type: ignore[attr-defined]
        nxt = dataclasses.replace(nxt, t=t, rng=rng)  # type: ignore[type-var]
        truncated = (t >= self.max_steps) & ~terminated
        obs = self.observe(nxt)
        if not autoreset:
            return nxt, StepOutput(obs, reward, terminated, truncated, None, metrics)
        done = terminated | truncated
        final_obs = obs
        if self.device.type != "cpu" or bool(done.any()):
            fresh = self.init(rng)
            nxt = tree_where(done, fresh, nxt)
            obs = torch.where(done.view(-1, *([1] * (obs.dim() - 1))), self.observe(fresh), obs)
        return nxt, StepOutput(obs, reward, terminated, truncated, final_obs, metrics)

    def check_actions(self, actions: Any, batch_size: int) -> None:
        """Raise ``ValueError`` unless ``actions`` is an int tensor ``[batch, agents]`` in range."""
        n, a = batch_size, self.spec.num_agents
        if not isinstance(actions, torch.Tensor):
            raise TypeError(f"actions must be a torch.Tensor of shape [{n}, {a}], got {type(actions).__name__}")
        if actions.dtype.is_floating_point or actions.dtype == torch.bool or actions.is_complex():
            raise ValueError(f"actions must have an integer dtype, got {actions.dtype}")
        if tuple(actions.shape) != (n, a):
            raise ValueError(f"actions must have shape [{n}, {a}] (batch, agents), got {list(actions.shape)}")
        if actions.device != self.device:
            raise ValueError(f"actions are on {actions.device}, the game is on {self.device}")
        bad = first_bad_action(actions, self.spec.num_actions)
        if bad is not None:
            raise ValueError(
                f"actions must lie in [0, {self.spec.num_actions}) "
                f"({', '.join(self.spec.action_meanings)}), got {bad}"
            )

    def render_ansi(self, state: S, index: int = 0) -> str:
        """A text picture of sub-environment ``index``."""
        raise NotImplementedError(f"{self.spec.name} has no ansi rendering")

    def render_rgb(self, state: S, index: int = 0) -> np.ndarray:
        """An ``[H, W, 3]`` uint8 picture of sub-environment ``index``."""
        raise NotImplementedError(f"{self.spec.name} has no rgb_array rendering")

    def render(self, state: S, mode: str, index: int = 0) -> np.ndarray | str | None:
        """Render sub-environment ``index`` in a Gymnasium render mode.

        ``"rgb_array"``: an ``[H, W, 3]`` uint8 array; ``"ansi"``: the text; ``"human"``: prints
        the text and returns ``None``.
        """
        if mode == "rgb_array":
            return self.render_rgb(state, index)
        if mode not in ("ansi", "human"):
            raise ValueError(f"render mode must be 'rgb_array', 'ansi' or 'human', got {mode!r}")
        text = self.render_ansi(state, index)
        if mode == "human":
            print(text, end="" if text.endswith("\n") else "\n")
            return None
        return text


_WIDE_UNSIGNED = (torch.uint16, torch.uint32, torch.uint64)


def first_bad_action(actions: torch.Tensor, num_actions: int) -> int | None:
    """The first entry of integer tensor ``actions`` outside ``[0, num_actions)``, or ``None``.

    Wide unsigned dtypes (``uint16/32/64``, which torch cannot compare on every backend) are
    checked on the host, so ``2**64 - 1`` is reported as itself, not as ``-1``.
    """
    if actions.dtype in _WIDE_UNSIGNED:
        a = actions.detach().cpu().numpy().reshape(-1)
        bad = a[a >= num_actions]
        return int(bad[0]) if bad.size else None
    mask = (actions < 0) | (actions >= num_actions)
    if bool(mask.any()):
        return int(actions[mask][0].item())
    return None


def _as_seed_tensor(seeds: Any, device: torch.device) -> torch.Tensor:
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, (bool, np.bool_)):
        return torch.tensor([check_seed("seeds", seeds)], dtype=torch.int64, device=device)
    if isinstance(seeds, (str, bytes, float, bool, np.bool_)) or not hasattr(seeds, "__len__"):
        raise ValueError(f"seeds must be a non-empty 1-D sequence of integers, got {seeds!r}")
    return check_seed_list("seeds", seeds).to(device)
