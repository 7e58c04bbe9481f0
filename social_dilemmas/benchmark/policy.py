"""The one protocol a scored policy follows, and adapters that bring any policy to it.

A **policy** acts for a batch of ``n`` games at once::

    state = policy.initial_state(n, group_size)       # memory for n games (None if memoryless)
    actions, state = policy.act(obs, state, episode_start)
        # obs [n, *obs_shape] float32 (the focal player's own view), episode_start [n] bool:
        # where the memory must start afresh before acting; actions [n] int64 in [0, A)

``group_size`` tells how the games are grouped: rows ``j * group_size ... (j + 1) * group_size - 1``
face the same co-player (a meta-batch slot of the shaping meta-environment); most policies ignore
it. When ``episode_start`` is true is the scenario's memory-reset rule combined with the policy's
own: every policy starts afresh at a meta-episode start; one with
``resets_at_inner_boundary = True`` (a policy trained on single inner episodes, e.g. on the
single-agent Gymnasium view) also at every inner-episode start. A policy that learns while it
plays (the naive baseline) may define ``observe(reward [n], inner_done: bool)``.

Optional attributes the runner checks before playing: ``num_actions``, ``observation_shape``
(a mismatch with the scenario's game is a clear error, never a deep crash) and ``history``
(the meta-environment's history channels the policy was trained with; the scenario then builds
its environments with them).

Adapters (:func:`social_dilemmas.benchmark.resolve.as_policy` picks one): a fixed strategy by
name (:class:`CoPlayerPolicy`), a plain torch module or callable returning logits
(:class:`CallablePolicy`, also the shape of a CleanRL agent with ``get_action_and_value``), a
checkpoint of ``social-dilemmas train`` (:class:`CheckpointPolicy`), Stable-Baselines3 models
(:mod:`social_dilemmas.benchmark.sb3_policy`) and the shipped reference agents by name
(:mod:`social_dilemmas.benchmark.references`).

Sampling draws from torch's global generator; the runner seeds it inside a
``torch.random.fork_rng`` block, so a scored run is reproducible and the caller's random state
is left untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "CallablePolicy",
    "CheckpointPolicy",
    "CoPlayerPolicy",
    "Policy",
    "PolicyCoPlayer",
    "PolicyError",
    "check_actions",
    "check_compatible",
]


class PolicyError(ValueError):
    """A policy broke the protocol (wrong action shape, dtype or range) or does not fit a scenario."""


@runtime_checkable
class Policy(Protocol):
    """A batched policy with explicit memory (see the module docstring)."""

    name: str
    resets_at_inner_boundary: bool

    def initial_state(self, n: int, group_size: int = 1) -> Any: ...

    def act(self, obs: Tensor, state: Any, episode_start: Tensor) -> tuple[Tensor, Any]: ...


def check_actions(policy_name: str, actions: Any, n: int, num_actions: int) -> Tensor:
    """``actions`` as an int64 ``[n]`` tensor, or a :class:`PolicyError` naming the policy and the fault."""
    if isinstance(actions, np.ndarray):
        actions = torch.from_numpy(actions)
    if not isinstance(actions, Tensor):
        raise PolicyError(f"policy {policy_name!r} must return actions as a tensor or array of shape [{n}], "
                          f"got {type(actions).__name__}")
    if actions.dtype.is_floating_point or actions.dtype == torch.bool or actions.is_complex():
        raise PolicyError(f"policy {policy_name!r} returned actions of dtype {actions.dtype}; "
                          f"actions must be integers in [0, {num_actions})")
    if tuple(actions.shape) not in ((n,), (n, 1)):
        raise PolicyError(f"policy {policy_name!r} returned actions of shape {list(actions.shape)}; "
                          f"expected [{n}] (one action per game)")
    actions = actions.reshape(n).to(torch.int64)
    bad = (actions < 0) | (actions >= num_actions)
    if bool(bad.any()):
        raise PolicyError(f"policy {policy_name!r} returned action {int(actions[bad][0])}; "
                          f"actions must lie in [0, {num_actions})")
    return actions


def check_compatible(policy: Any, obs_shape: tuple[int, ...], num_actions: int, where: str) -> None:
    """Raise :class:`PolicyError` if ``policy`` declares an observation shape or action count
    that does not match the scenario's game (``where`` names the scenario)."""
    name = getattr(policy, "name", type(policy).__name__)
    shape = getattr(policy, "observation_shape", None)
    if shape is not None and tuple(int(x) for x in shape) != tuple(obs_shape):
        raise PolicyError(f"policy {name!r} observes shape {tuple(shape)} but scenario {where} gives observations "
                          f"of shape {tuple(obs_shape)}: score it on a scenario of the game it was trained on")
    acts = getattr(policy, "num_actions", None)
    if acts is not None and int(acts) != num_actions:
        raise PolicyError(f"policy {name!r} plays {acts} actions but scenario {where} has {num_actions}")


def sample_from_logits(logits: Tensor, greedy: bool = False) -> Tensor:
    """``[n, A]`` logits -> ``[n]`` int64 actions (arg-max with ``greedy``)."""
    if greedy:
        return logits.argmax(-1)
    return torch.distributions.Categorical(logits=logits).sample()


# ----------------------------------------------------------------------------- adapters


class CoPlayerPolicy:
    """Any co-player object (fixed strategy, scripted bot, ...) as a focal policy.

    Args:
        coplayer: an object with ``action_probs(obs, memory)`` (see
            :mod:`social_dilemmas.coplayers.base`), or a strategy name understood by
            :func:`social_dilemmas.coplayers.fixed.make_strategy` or the zoo
            (``"tit_for_two_tats"``, ``"alternator"``, ``"zd_extort_3"``, ``"zd_generous_2"``).
        name: label in reports (default: the strategy's name).
    """

    resets_at_inner_boundary = True

    def __init__(self, coplayer: Any, name: str | None = None) -> None:
        self.strategy_name = coplayer if isinstance(coplayer, str) else None
        if isinstance(coplayer, str):
            from social_dilemmas.benchmark.zoo import GRIDWORLD_BOTS

            if coplayer in GRIDWORLD_BOTS:  # a scripted gridworld bot: built for its game by for_game()
                self.coplayer = None
                self.name = name or coplayer
                self.num_actions = None
                return
            coplayer = resolve_strategy(coplayer)
        if not hasattr(coplayer, "action_probs"):
            raise TypeError(f"coplayer must have action_probs(obs, memory); got {type(coplayer).__name__}")
        self.coplayer = coplayer
        self.name = name or str(getattr(coplayer, "name", type(coplayer).__name__))
        self.num_actions = getattr(coplayer, "num_actions", None)
        self.resets_at_inner_boundary = bool(getattr(coplayer, "resets_at_inner_boundary", True))

    def for_game(self, game: Any) -> CoPlayerPolicy:
        """The same named strategy for ``game`` (gridworld names resolve to the scripted bots there)."""
        if self.strategy_name is None:
            return self
        from social_dilemmas.benchmark.zoo import zoo_member

        try:
            return CoPlayerPolicy(zoo_member(self.strategy_name, game), name=self.name)
        except ValueError:
            if type(game).__name__ in ("CoinGame", "CleanUpLite"):
                raise
            return self

    def initial_state(self, n: int, group_size: int = 1) -> Any:
        if self.coplayer is None:
            raise ValueError(f"{self.name!r} is a gridworld bot: score it on a coin game or CleanUp-lite scenario")
        return self.coplayer.initial_memory(n, torch.device("cpu"))

    def act(self, obs: Tensor, state: Any, episode_start: Tensor) -> tuple[Tensor, Any]:
        if state is not None and bool(episode_start.any()):
            state = self.coplayer.reset_memory(state, episode_start)
        probs, state = self.coplayer.action_probs(obs, state)
        return torch.multinomial(probs, 1).squeeze(1), state

    def __repr__(self) -> str:
        return f"CoPlayerPolicy({self.name})"


def resolve_strategy(name: str) -> Any:
    """A fixed IPD strategy by name: the zoo's names and those of :mod:`social_dilemmas.coplayers.fixed`."""
    from social_dilemmas.benchmark.zoo import ipd_zoo
    from social_dilemmas.coplayers.fixed import ALIASES, NAMED_MEMORY1, make_strategy

    zoo = ipd_zoo()
    if name in zoo:
        return zoo[name]
    if name in NAMED_MEMORY1 or name in ALIASES:
        return make_strategy(name)
    known = sorted(set(zoo) | set(NAMED_MEMORY1) | set(ALIASES))
    raise ValueError(f"unknown strategy {name!r}; known strategies: {', '.join(known)}")


class CallablePolicy:
    """A plain torch module or callable as a policy.

    Args:
        fn: ``fn(obs [n, *obs]) -> logits [n, A]`` (a feed-forward net), or with
            ``recurrent=True`` ``fn(obs, state, episode_start) -> (logits, state)``. An object
            with ``get_action_and_value(obs)`` (a CleanRL agent) is called that way and its
            first output is taken as the action.
        num_actions: size of the action set (checked against the scenario).
        name: label in reports.
        output: what ``fn`` returns: ``"logits"`` (default), ``"probs"`` or ``"actions"``.
        greedy: play the arg-max instead of sampling.
        recurrent: ``fn`` takes and returns a state (``initial_state`` then comes from
            ``fn.initial_state(n)`` if it has one, else ``None``).
        resets_at_inner_boundary: the policy's memory covers one inner episode only.
        observation_shape: the shape it was trained on (checked against the scenario).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        num_actions: int | None = None,
        *,
        name: str = "callable",
        output: str = "logits",
        greedy: bool = False,
        recurrent: bool = False,
        resets_at_inner_boundary: bool = False,
        observation_shape: tuple[int, ...] | None = None,
    ) -> None:
        from social_dilemmas.core.validation import check_choice

        self.output = check_choice("output", output, ("logits", "probs", "actions"))
        if hasattr(fn, "get_action_and_value"):
            agent = fn
            fn = lambda obs: agent.get_action_and_value(obs)[0]  # noqa: E731
            self.output = "actions"
        if not callable(fn):
            raise TypeError(f"fn must be callable (a torch module or a function), got {type(fn).__name__}")
        self.fn = fn
        self.num_actions = num_actions
        self.name = name
        self.greedy = bool(greedy)
        self.recurrent = bool(recurrent)
        self.resets_at_inner_boundary = bool(resets_at_inner_boundary)
        self.observation_shape = observation_shape

    def initial_state(self, n: int, group_size: int = 1) -> Any:
        init = getattr(self.fn, "initial_state", None)
        return init(n) if self.recurrent and callable(init) else None

    @torch.no_grad()
    def act(self, obs: Tensor, state: Any, episode_start: Tensor) -> tuple[Tensor, Any]:
        if self.recurrent:
            out, state = self.fn(obs, state, episode_start)
        else:
            out = self.fn(obs)
        if self.output == "actions":
            return out, state
        if not isinstance(out, Tensor) or out.dim() != 2:
            raise PolicyError(f"policy {self.name!r} must return {self.output} of shape [n, A]; got "
                              f"{list(out.shape) if isinstance(out, Tensor) else type(out).__name__}")
        if self.num_actions is not None and out.shape[1] != self.num_actions:
            raise PolicyError(f"policy {self.name!r} returned {self.output} for {out.shape[1]} actions; "
                              f"the game has {self.num_actions}")
        if self.output == "probs":
            return (out.argmax(-1) if self.greedy else torch.multinomial(out, 1).squeeze(1)), state
        return sample_from_logits(out, self.greedy), state


class CheckpointPolicy:
    """A checkpoint of ``social-dilemmas train`` (a file or a run directory) as a policy.

    The agent is member ``member`` of the trained population. Learning-aware agents keep their
    memory for the whole meta-episode; LOLA-DiCE agents see one inner episode at a time.
    """

    def __init__(self, checkpoint: str | Path, *, member: int = 0, greedy: bool = False,
                 name: str | None = None, device: str = "cpu") -> None:
        from social_dilemmas.baselines.runtime import MODEL_KEYS, load_model
        from social_dilemmas.models.population import population_like

        path = Path(checkpoint)
        if not path.exists():
            raise FileNotFoundError(f"checkpoint {str(path)!r} does not exist "
                                    "(give a checkpoint.pt or a run directory)")
        try:
            model, args, _ = load_model(path, device, required=MODEL_KEYS)
        except (KeyError, TypeError, RuntimeError) as e:
            raise ValueError(f"{str(path)!r} is not a checkpoint of social-dilemmas train (or of an incompatible "
                             f"version): {type(e).__name__}: {e}") from None
        if not 0 <= member < model.population:
            raise ValueError(f"member must lie in [0, {model.population}) for {path}, got {member}")
        self.model = population_like(model, 1, member).requires_grad_(False)
        self.args = args
        self.name = name or f"{args.algo}:{path.name}"
        self.greedy = bool(greedy)
        self.num_actions = int(model.num_actions)
        self.history = tuple(args.history)
        self.resets_at_inner_boundary = args.algo == "lola-dice"
        if not self.history:
            from social_dilemmas.registration import make_game

            self.observation_shape = tuple(make_game(args.game, **dict(args.game_kwargs)).spec.obs_shape)
        self.game = args.game

    def initial_state(self, n: int, group_size: int = 1) -> Any:
        return self.model.initial_carry(n, self.model.device)

    @torch.no_grad()
    def act(self, obs: Tensor, state: Any, episode_start: Tensor) -> tuple[Tensor, Any]:
        n = obs.shape[0]
        if bool(episode_start.any()):
            state = self.model.reset_carry(state, episode_start.view(1, n))
        logits, _, state = self.model.step(obs.reshape(1, n, -1).to(self.model.dtype), state)
        return sample_from_logits(logits[0], self.greedy), state

    def __repr__(self) -> str:
        return f"CheckpointPolicy({self.name})"


class PolicyCoPlayer:
    """A focal-protocol policy seated as the co-player (self-play, cross-play, reference agents).

    Its memory resets follow the co-player protocol: the meta-environment calls
    :meth:`reset_memory` at inner boundaries when the policy resets there, and a fresh
    :meth:`initial_memory` starts every meta-episode.
    """

    def __init__(self, policy: Any, num_actions: int, group_size: int = 1) -> None:
        self.policy = policy
        self.group_size = group_size
        self.num_actions = int(num_actions)
        self.resets_at_inner_boundary = bool(getattr(policy, "resets_at_inner_boundary", False))
        self.name = getattr(policy, "name", "policy")

    def initial_memory(self, batch_size: int, device: Any) -> Any:
        self._start = torch.ones(batch_size, dtype=torch.bool)
        return self.policy.initial_state(batch_size, self.group_size)

    def reset_memory(self, memory: Any, mask: Tensor) -> Any:
        self._start = self._start | mask.cpu()
        return memory

    def action_probs(self, obs: Tensor, memory: Any) -> tuple[Tensor, Any]:
        n = obs.shape[0]
        acts, memory = self.policy.act(obs, memory, self._start.to(obs.device))
        self._start = torch.zeros(n, dtype=torch.bool)
        acts = check_actions(self.name, acts, n, self.num_actions)
        return torch.nn.functional.one_hot(acts.to(obs.device), self.num_actions).to(obs.dtype), memory
