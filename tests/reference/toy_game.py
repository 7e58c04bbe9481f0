"""A tiny stochastic, terminating game and its reference, for testing the core and checkers.

``DiceRace``: two runners start on squares 0..2 (drawn at reset). Each round every runner
asks to move 0, 1 or 2 squares and succeeds with probability 1/2; the reward is the distance
moved. The episode terminates once a runner reaches square 6 and is truncated after
``max_steps`` rounds. Observations: ``[own square, other square] / 8``, the global state is
both squares ``/ 8``, and the metric ``"moved"`` ``[N, 2]`` records who moved.

It exercises what the matrix games do not: randomness at reset and in the dynamics,
termination, metrics. :class:`DiceRaceReference` shows how a reference consumes the core's
random draws through :class:`~social_dilemmas.testing.SubEnvRNG`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from social_dilemmas.core.game import INIT_STREAM, BatchedGame, GameSpec
from social_dilemmas.core.rng import RNG

GOAL = 6
MOVE_STREAM = 0


@dataclass(frozen=True)
class DiceRaceState:
    pos: torch.Tensor  # [N, 2] int64
    t: torch.Tensor
    rng: RNG


class DiceRace(BatchedGame[DiceRaceState]):
    stochastic = True

    def __init__(self, *, max_steps: int = 6, device="cpu") -> None:
        super().__init__(max_steps=max_steps, device=device)
        self.spec = GameSpec(
            name="DiceRace-v0",
            num_agents=2,
            num_actions=3,
            obs_shape=(2,),
            obs_low=0.0,
            obs_high=1.0,
            state_shape=(2,),
            max_steps=self.max_steps,
            action_meanings=("stay", "step", "jump"),
        )

    def init(self, rng: RNG) -> DiceRaceState:
        pos = (rng.uniform(INIT_STREAM, 2) * 3).long()
        return DiceRaceState(pos=pos, t=torch.zeros_like(rng.counter), rng=rng)

    def observe(self, state: DiceRaceState) -> torch.Tensor:
        own = state.pos.float() / 8
        return torch.stack((own, own.flip(1)), dim=1)

    def transition(self, state: DiceRaceState, actions: torch.Tensor):
        ok = state.rng.uniform(MOVE_STREAM, 2) < 0.5
        moved = actions * ok
        pos = state.pos + moved
        terminated = (pos >= GOAL).any(1)
        nxt = DiceRaceState(pos=pos, t=state.t, rng=state.rng)
        return nxt, moved.float(), terminated, {"moved": moved > 0}

    def global_state(self, state: DiceRaceState) -> torch.Tensor:
        return state.pos.float() / 8

    def render_ansi(self, state: DiceRaceState, index: int = 0) -> str:
        return f"squares {state.pos[index].tolist()}\n"


class DiceRaceReference:
    """One DiceRace game in plain Python."""

    def __init__(self, max_steps: int = 6) -> None:
        self.max_steps = max_steps

    def reset(self, rng):
        u = rng.uniform(INIT_STREAM, 2)
        self.pos = [int(u[0] * 3), int(u[1] * 3)]
        self.t = 0
        return self.obs()

    def obs(self):
        a, b = self.pos[0] / 8, self.pos[1] / 8
        return [[a, b], [b, a]]

    def global_state(self):
        return [self.pos[0] / 8, self.pos[1] / 8]

    def step(self, actions, rng):
        u = rng.uniform(MOVE_STREAM, 2)
        moved = [a if u[i] < 0.5 else 0 for i, a in enumerate(actions)]
        self.pos = [p + m for p, m in zip(self.pos, moved)]
        self.t += 1
        terminated = max(self.pos) >= GOAL
        truncated = self.t == self.max_steps and not terminated
        return self.obs(), [float(m) for m in moved], terminated, truncated, {"moved": [m > 0 for m in moved]}
