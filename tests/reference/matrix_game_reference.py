"""A slow, obvious iterated 2x2 game: one game at a time, Python lists, no torch.

Written from the game's description (``social_dilemmas/envs/ipd_v0.py``), not from the
batched code, so the two can be matched step by step:

* each round both players pick 0 or 1 and get ``payoffs[a0][a1] = (r0, r1)``;
* each player observes a one-hot over ``[start, CC, CD, DC, DD]``: the start token before
  the first round, afterwards the previous round's pair of actions with *its own* action
  written first;
* the global state is player 0's observation;
* after ``max_steps`` rounds the episode is truncated (never terminated).

The game has no randomness, so the ``rng`` arguments are ignored.
"""

from __future__ import annotations

OUTCOMES = ["start", "CC", "CD", "DC", "DD"]
LETTER = {0: "C", 1: "D"}


def one_hot(label: str) -> list[float]:
    return [1.0 if name == label else 0.0 for name in OUTCOMES]


class MatrixGameReference:
    """One iterated 2x2 game.

    Args:
        payoffs: nested ``[a0][a1] -> (r0, r1)``.
        max_steps: rounds per episode.
    """

    def __init__(self, payoffs, max_steps: int = 10) -> None:
        self.payoffs = [[[float(payoffs[a][b][0]), float(payoffs[a][b][1])] for b in range(2)] for a in range(2)]
        self.max_steps = max_steps
        self.rounds = 0
        self.seen = ["start", "start"]  # what player 0 and player 1 observe

    def reset(self, rng=None) -> list[list[float]]:
        self.rounds = 0
        self.seen = ["start", "start"]
        return self.observation()

    def observation(self) -> list[list[float]]:
        return [one_hot(self.seen[0]), one_hot(self.seen[1])]

    def global_state(self) -> list[float]:
        return one_hot(self.seen[0])

    def step(self, actions, rng=None):
        a0, a1 = actions
        if a0 not in (0, 1) or a1 not in (0, 1):
            raise ValueError(f"actions must be 0 or 1, got {actions}")
        rewards = list(self.payoffs[a0][a1])
        self.seen = [LETTER[a0] + LETTER[a1], LETTER[a1] + LETTER[a0]]
        self.rounds += 1
        truncated = self.rounds == self.max_steps
        return self.observation(), rewards, False, truncated, {}
