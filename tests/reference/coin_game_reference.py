"""A slow, obvious coin game: one game at a time, (row, col) tuples, no torch.

Written from the documentation page (``social_dilemmas/envs/coin_game_v0.py``), not from
the batched code. It follows :mod:`social_dilemmas.testing.reference`'s interface: the
``rng`` handed to ``reset``/``step`` is the pure-Python twin of the core's random state,
and the reference draws the words the page documents:

* ``reset``: ``w = rng.bits(100, 4)``; red on cell ``(w[0] * C) >> 32``, blue on the
  ``(w[1] * (C - 1)) >> 32``-th of the other cells, the coin on the ``(w[2] * n) >> 32``-th
  of the ``n`` free cells (increasing cell order), colour = top bit of ``w[3]``;
* ``step``: one word ``w = rng.bits(0)``: new coin cell as above among the cells free after
  the move; with ``new_coin_colour="random"`` the colour is ``w & 1``.
"""

from __future__ import annotations

MOVES = {"right": (0, 1), "left": (0, -1), "up": (-1, 0), "down": (1, 0), "stay": (0, 0)}
ORDER = ["right", "left", "up", "down", "stay"]


def choose(word: int, n: int) -> int:
    """Map a 32-bit word onto 0..n-1 (multiply-shift)."""
    return (word * n) >> 32


class CoinGameReference:
    """One coin game; player 0 is red, player 1 is blue."""

    def __init__(
        self,
        grid_size: int = 3,
        max_steps: int = 16,
        wrap: bool = True,
        noop_action: bool = False,
        new_coin_colour: str = "alternate",
        reward_own: float = 1.0,
        reward_other: float = 1.0,
        penalty: float = -2.0,
    ) -> None:
        self.g = grid_size
        self.max_steps = max_steps
        self.wrap = wrap
        self.actions = ORDER[: 5 if noop_action else 4]
        self.new_coin_colour = new_coin_colour
        self.reward_own, self.reward_other, self.penalty = reward_own, reward_other, penalty

    # -- helpers ----------------------------------------------------------------
    def cells(self) -> list[tuple[int, int]]:
        return [(r, c) for r in range(self.g) for c in range(self.g)]

    def free_cells(self) -> list[tuple[int, int]]:
        return [x for x in self.cells() if x not in self.players]

    def move(self, where: tuple[int, int], action: int) -> tuple[int, int]:
        dr, dc = MOVES[self.actions[action]]
        r, c = where[0] + dr, where[1] + dc
        if self.wrap:
            return r % self.g, c % self.g
        if 0 <= r < self.g and 0 <= c < self.g:
            return r, c
        return where

    # -- interface --------------------------------------------------------------
    def reset(self, rng):
        w = rng.bits(100, 4)
        cells = self.cells()
        red = cells[choose(w[0], len(cells))]
        others = [x for x in cells if x != red]
        blue = others[choose(w[1], len(others))]
        self.players = [red, blue]
        free = self.free_cells()
        self.coin = free[choose(w[2], len(free))]
        self.colour = w[3] >> 31  # 0 red (player 0's), 1 blue (player 1's)
        self.t = 0
        return self.observation()

    def step(self, actions, rng):
        self.players = [self.move(self.players[i], actions[i]) for i in range(2)]
        on_coin = [self.players[i] == self.coin for i in range(2)]
        owner = self.colour
        rewards = [0.0, 0.0]
        own, other = [0.0, 0.0], [0.0, 0.0]
        for i in range(2):
            if on_coin[i]:
                if owner == i:
                    rewards[i] += self.reward_own
                    own[i] = 1.0
                else:
                    rewards[i] += self.reward_other
                    other[i] = 1.0
                    rewards[owner] += self.penalty
        w = rng.bits(0)
        if any(on_coin):
            free = self.free_cells()
            self.coin = free[choose(w, len(free))]
            self.colour = 1 - self.colour if self.new_coin_colour == "alternate" else w & 1
        self.t += 1
        truncated = self.t == self.max_steps
        return self.observation(), rewards, False, truncated, {"own_coin": own, "other_coin": other}

    def observation(self):
        return [self.view(0), self.view(1)]

    def view(self, i: int) -> list[float]:
        """Four one-hot grids, self first: own position, other's position, coin of own
        colour, coin of the other's colour."""
        planes = [[0.0] * (self.g * self.g) for _ in range(4)]
        flat = lambda rc: rc[0] * self.g + rc[1]  # noqa: E731
        planes[0][flat(self.players[i])] = 1.0
        planes[1][flat(self.players[1 - i])] = 1.0
        planes[2 if self.colour == i else 3][flat(self.coin)] = 1.0
        return planes[0] + planes[1] + planes[2] + planes[3]

    def global_state(self):
        return self.view(0)
