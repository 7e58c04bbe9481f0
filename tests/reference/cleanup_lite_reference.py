"""A slow, obvious CleanUp-lite: one game at a time, a dict of objects per cell, no torch.

Written from the documentation pages (``social_dilemmas/envs/cleanup_lite_v1.py``, and
``cleanup_lite_v0.py`` for ``freeze_includes_zap_step=False``), not
from the batched code. It follows :mod:`social_dilemmas.testing.reference`'s interface: the
``rng`` handed to ``reset``/``step`` is the pure-Python twin of the core's random state,
and the reference draws the words the page documents.

One step, in the paper's order (§3.3 of the spec):

1. dirt spawns with ``p_pollution`` on a random clean river cell (word 0: event, word 1: cell);
2. an apple spawns with ``1 - min(1, dirt / threshold)`` on a random empty orchard cell
   (word 2: event, word 3: cell);
3. every free (not frozen) player on an apple harvests it (+``apple_reward``);
4. every free player on dirt cleans it;
5. zaps: a free player choosing "zap" hits the other player when it is free and within
   ``zap_radius``, with ``p_zap`` (words 4 and 5); a hit freezes it for ``freeze_steps``
   steps counted from the zap step (``freeze_includes_zap_step``, v1) or from the step after
   it (v0);
6. free players move (a player hit in this step does not, with ``freeze_immediately``);
   walls block; players may share a cell.
"""

from __future__ import annotations

import math

RIGHT, LEFT, UP, DOWN, ZAP, NOOP = range(6)
STEP = {RIGHT: (0, 1), LEFT: (0, -1), UP: (-1, 0), DOWN: (1, 0)}


def threshold(p: float) -> int:
    """A probability as the integer threshold of a 24-bit uniform."""
    return int(round(p * 2**24))


def happens(word: int, p: float) -> bool:
    return (word >> 8) < threshold(p)


def choose(word: int, n: int) -> int:
    return (word * n) >> 32


class CleanUpLiteReference:
    """One CleanUp-lite game on a ``height x width`` grid (orchard left, river right)."""

    def __init__(
        self,
        height: int = 5,
        width: int = 4,
        max_steps: int = 64,
        p_pollution: float = 0.35,
        pollution_threshold: float = 3.0,
        p_zap: float = 0.9,
        zap_radius: float = 2.0,
        distance: str = "manhattan",
        freeze_steps: int = 5,
        initial_dirt: int | None = None,
        apple_reward: float = 1.0,
        shared_cell: str = "split",
        frozen_can_zap: bool = False,
        freeze_immediately: bool = True,
        freeze_includes_zap_step: bool = True,
    ) -> None:
        self.h, self.w = height, width
        self.max_steps = max_steps
        self.p_pollution, self.threshold, self.p_zap = p_pollution, pollution_threshold, p_zap
        self.zap_radius, self.distance = zap_radius, distance
        self.freeze_steps = freeze_steps
        self.initial_dirt = min(3, height) if initial_dirt is None else initial_dirt
        self.apple_reward, self.shared_cell = apple_reward, shared_cell
        self.frozen_can_zap, self.freeze_immediately = frozen_can_zap, freeze_immediately
        self.freeze_includes_zap_step = freeze_includes_zap_step

    # -- geometry ---------------------------------------------------------------
    def orchard(self) -> list[tuple[int, int]]:
        return [(r, 0) for r in range(self.h)]

    def river(self) -> list[tuple[int, int]]:
        return [(r, self.w - 1) for r in range(self.h)]

    def dist(self, a, b) -> float:
        dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
        return {"manhattan": dr + dc, "chebyshev": max(dr, dc), "euclidean": math.hypot(dr, dc)}[self.distance]

    def count(self, kind: str) -> int:
        return sum(1 for v in self.objects.values() if v == kind)

    # -- interface --------------------------------------------------------------
    def reset(self, rng):
        w = rng.bits(100, 2 + self.h)
        cells = [(r, c) for r in range(self.h) for c in range(self.w)]
        first = cells[choose(w[0], len(cells))]
        rest = [x for x in cells if x != first]
        self.pos = [first, rest[choose(w[1], len(rest))]]
        # the initial dirt: the river rows with the smallest keys
        keys = sorted(range(self.h), key=lambda r: (w[2 + r], r))
        self.objects = {(r, self.w - 1): "dirt" for r in keys[: self.initial_dirt]}
        self.freeze = [0, 0]
        self.t = 0
        return self.observation()

    def spawn(self, kind: str, column: list, event_word: int, cell_word: int, p: float) -> None:
        free = [x for x in column if x not in self.objects]
        if free and happens(event_word, p):
            self.objects[free[choose(cell_word, len(free))]] = kind

    def step(self, actions, rng):
        w = rng.bits(0, 6)
        # 1. pollution
        self.spawn("dirt", self.river(), w[0], w[1], self.p_pollution)
        # 2. apples
        p_apple = 1.0 - min(1.0, self.count("dirt") / self.threshold)
        self.spawn("apple", self.orchard(), w[2], w[3], p_apple)
        free = [self.freeze[i] == 0 for i in range(2)]
        # 3./4. harvest and clean
        credit = {"apple": [0.0, 0.0], "dirt": [0.0, 0.0]}
        for kind in ("apple", "dirt"):
            takers = [i for i in range(2) if free[i] and self.objects.get(self.pos[i]) == kind]
            for i in takers:
                if len(takers) == 2 and self.pos[0] == self.pos[1]:  # both on the same cell
                    if self.shared_cell == "split":
                        credit[kind][i] += 0.5
                    elif i == (w[0] & 1):
                        credit[kind][i] += 1.0
                else:
                    credit[kind][i] += 1.0
            for i in takers:
                self.objects.pop(self.pos[i], None)
        # 5. zaps (both decided on the state before any of them)
        attempts, hits = [0.0, 0.0], [False, False]
        for i in range(2):
            j = 1 - i
            if actions[i] == ZAP and (free[i] or self.frozen_can_zap):
                attempts[i] = 1.0
                if free[j] and self.dist(self.pos[i], self.pos[j]) <= self.zap_radius and happens(w[4 + i], self.p_zap):
                    hits[i] = True
        zapped = [hits[1], hits[0]]
        # 6. moves
        for i in range(2):
            if not free[i] or (zapped[i] and self.freeze_immediately):
                continue
            if actions[i] in STEP:
                dr, dc = STEP[actions[i]]
                r, c = self.pos[i][0] + dr, self.pos[i][1] + dc
                if 0 <= r < self.h and 0 <= c < self.w:
                    self.pos[i] = (r, c)
        was_frozen = [0.0 if free[i] else 1.0 for i in range(2)]
        for i in range(2):
            if zapped[i]:
                # frozen steps still to come: the zap step itself already counts as one in v1
                self.freeze[i] = self.freeze_steps - (1 if self.freeze_includes_zap_step else 0)
            else:
                self.freeze[i] = max(self.freeze[i] - 1, 0)
        self.t += 1
        rewards = [credit["apple"][i] * self.apple_reward for i in range(2)]
        metrics = {
            "harvested": credit["apple"],
            "cleaned": credit["dirt"],
            "zaps_given": [float(h) for h in hits],
            "zaps_received": [float(z) for z in zapped],
            "zap_attempts": attempts,
            "frozen": was_frozen,
            "pollution": float(self.count("dirt")),
            "apples": float(self.count("apple")),
        }
        return self.observation(), rewards, False, self.t == self.max_steps, metrics

    def observation(self):
        return [self.view(0), self.view(1)]

    def view(self, i: int) -> list[float]:
        """Own position, other position (one-hot grids), the grid as one-hot {empty, apple,
        dirt} per cell (row-major), own frozen flag, other frozen flag."""
        cells = [(r, c) for r in range(self.h) for c in range(self.w)]
        own = [1.0 if x == self.pos[i] else 0.0 for x in cells]
        other = [1.0 if x == self.pos[1 - i] else 0.0 for x in cells]
        grid = []
        for x in cells:
            kind = self.objects.get(x, "empty")
            grid += [1.0 if kind == k else 0.0 for k in ("empty", "apple", "dirt")]
        flags = [1.0 if self.freeze[i] > 0 else 0.0, 1.0 if self.freeze[1 - i] > 0 else 0.0]
        return own + other + grid + flags

    def global_state(self):
        return self.view(0)
