"""CleanUp-lite (Meulemans et al. 2025, §5.2 and App. B.1.2), batched.

The rules and every design decision are on the documentation pages
:mod:`social_dilemmas.envs.cleanup_lite_v1` (the default rules) and
:mod:`social_dilemmas.envs.cleanup_lite_v0`; this module is the engine.

Layout: ``height`` rows by ``width`` columns, cells numbered row-major (``cell = row *
width + col``, row 0 at the top). The orchard is column 0 (left), the river column
``width - 1`` (right). Apples and dirt are kept as one boolean mask ``items [N, 2,
height]`` over the rows of their column (0 = apples in the orchard, 1 = dirt in the river),
so that both spawns and both pick-ups run as single batched operations.

Random draws (what a reference implementation must reproduce), all from the
sub-environment's :class:`~social_dilemmas.core.rng.RNG` as 32-bit words ``w``. A
probability ``p`` is an integer threshold ``round(p * 2**24)`` and an event with it happens
when ``(w >> 8) < threshold``; ``(w * n) >> 32`` maps a word onto ``{0, ..., n-1}``.

* episode start, ``w = rng.bits(100, 2 + height)``: player 0 on cell ``(w[0] * C) >> 32``;
  ``k = (w[1] * (C - 1)) >> 32`` and player 1 on cell ``k`` if ``k < pos0`` else ``k + 1``;
  the initial dirt goes on the ``initial_dirt`` river rows ``r`` with the smallest keys
  ``w[2 + r] * height + r``.
* every step, ``w = rng.bits(0, 6)``: ``w[0]`` dirt spawn event (and its lowest bit picks
  the winner of a shared apple or dirt cell with ``shared_cell="random"``: player ``w[0] &
  1``); ``w[1]`` the dirt row among the clean river rows (the ``k``-th in increasing order);
  ``w[2]`` apple spawn event; ``w[3]`` the apple row among the apple-free orchard rows;
  ``w[4]``, ``w[5]`` success of player 0's and player 1's zap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from social_dilemmas.core.game import INIT_STREAM, BatchedGame, GameSpec
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.validation import (
    MAX_STEPS,
    check_choice,
    check_finite,
    check_float32,
    check_int,
    check_nonneg_int,
    check_probability,
)
from social_dilemmas.envs.grid_render import (
    AGENT_COLOURS,
    BACKGROUND,
    FROZEN_COLOURS,
    PLAYER_FRAC,
    GridPainter,
    Legend,
    ascii_grid,
)

#: The paper's six actions, in its order.
ACTIONS = ("right", "left", "up", "down", "zap", "noop")
RIGHT, LEFT, UP, DOWN, ZAP, NOOP = range(6)
DELTAS = ((0, 1), (0, -1), (-1, 0), (1, 0), (0, 0), (0, 0))
EMPTY, APPLE, DIRT = range(3)
#: Which row of ``CleanUpLiteState.items`` holds apples and which dirt.
APPLE_ROW, DIRT_ROW = 0, 1
DISTANCES = ("manhattan", "chebyshev", "euclidean")
#: Probabilities are quantised to multiples of 2**-24 (the resolution of a uniform draw).
PROB_BITS = 24

_ORCHARD_RGB = (205, 232, 195)
_RIVER_RGB = (190, 215, 240)
_APPLE_RGB = (200, 30, 30)
_DIRT_RGB = (120, 80, 40)
#: Largest ``height`` and ``width``: the zap-range table has ``(height * width)**2`` entries.
MAX_SIDE = 32
#: Largest observation table (in floats) used by the embedding-bag path of ``observe``.
_OBS_TABLE_MAX = 1 << 20


def prob_threshold(p: float) -> int:
    """The integer threshold of probability ``p``: an event happens when ``(w >> 8) < it``."""
    return int(round(p * (1 << PROB_BITS)))


def grid_distance(a: tuple[int, int], b: tuple[int, int], metric: str) -> float:
    """Distance between cells ``(row, col)`` ``a`` and ``b`` under ``metric``."""
    dr, dc = abs(a[0] - b[0]), abs(a[1] - b[1])
    if metric == "manhattan":
        return float(dr + dc)
    if metric == "chebyshev":
        return float(max(dr, dc))
    return math.hypot(dr, dc)


def lookup(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` for a 1-D table (``index_select`` is faster than advanced indexing)."""
    return table.index_select(0, index.reshape(-1)).view(index.shape)


@dataclass(frozen=True)
class CleanUpLiteState:
    """State of ``N`` CleanUp-lite games.

    Attributes:
        pos: ``[N, 2]`` int64, the cell of each player.
        items: ``[N, 2, height]`` bool: ``items[:, 0, r]`` an apple on the orchard cell of
            row ``r``, ``items[:, 1, r]`` dirt on the river cell of row ``r`` (also readable
            as :attr:`apple` and :attr:`dirt`).
        freeze: ``[N, 2]`` int64, how many coming steps each player stays frozen (0 = free).
        t: ``[N]`` int64, steps taken in this episode.
        rng: per-game random state.
    """

    pos: torch.Tensor
    items: torch.Tensor
    freeze: torch.Tensor
    t: torch.Tensor
    rng: RNG

    @property
    def apple(self) -> torch.Tensor:
        """``[N, height]`` bool, an apple on the orchard cell of each row."""
        return self.items[:, APPLE_ROW]

    @property
    def dirt(self) -> torch.Tensor:
        """``[N, height]`` bool, dirt on the river cell of each row."""
        return self.items[:, DIRT_ROW]


class CleanUpLite(BatchedGame[CleanUpLiteState]):
    """Batched two-player CleanUp-lite; see :mod:`social_dilemmas.envs.cleanup_lite_v1`.

    Args:
        height, width: grid size in rows and columns (the paper's 5 x 4); ``width >= 2``.
        max_steps: steps per episode ``T`` (the paper's 64), then truncation.
        p_pollution: probability that dirt spawns on a clean river cell each step (0.35).
        pollution_threshold: ``P_threshold`` of ``p_apple = 1 - min(1, dirt / P_threshold)`` (3).
        p_zap: success probability of a zap within range (0.9).
        zap_radius: largest distance at which a zap can hit (2).
        distance: zap distance metric, ``"manhattan"``, ``"chebyshev"`` or ``"euclidean"``.
        freeze_steps: steps a zapped player stays frozen (5); ``>= 0`` (``>= 1`` when
            ``freeze_includes_zap_step``).
        freeze_includes_zap_step: how ``freeze_steps`` is counted. ``True`` (the default, the
            paper's "frozen for 5 steps" read literally): the zap step, whose move the hit
            cancels, is the first of the ``freeze_steps`` steps, so the victim is frozen in
            the ``freeze_steps - 1`` steps after it. ``False`` (``CleanUpLite-v0``): the
            victim is frozen in the ``freeze_steps`` steps *after* the zap step (it cannot
            move in ``freeze_steps + 1`` steps). Needs ``freeze_immediately=True``.
        initial_dirt: dirt patches at the start, ``0 <= initial_dirt <= height``; default 3
            (the paper's), or ``height`` when the river is shorter.
        apple_reward: reward per harvested apple (1).
        shared_cell: who harvests an apple (or is credited with cleaning) when both free
            players stand on the same cell: ``"split"`` (half each) or ``"random"``.
        frozen_can_zap: whether a frozen player may still zap (the paper: it is frozen).
        freeze_immediately: a player zapped in a step does not move in that step (the
            paper's order puts zaps before moves).
        name: versioned id used in specs and messages.
        device: torch device of all tensors.
    """

    render_modes = ("ansi", "rgb_array")
    #: ``(colour, meaning)`` of every colour :meth:`render_rgb` paints.
    render_legend: Legend = (
        (AGENT_COLOURS[0], "player_0"), (AGENT_COLOURS[1], "player_1"),
        (FROZEN_COLOURS[0], "player_0 frozen"), (FROZEN_COLOURS[1], "player_1 frozen"),
        (_ORCHARD_RGB, "orchard"), (_APPLE_RGB, "apple"), (_RIVER_RGB, "clean river"), (_DIRT_RGB, "dirt"),
        (BACKGROUND, "field"),
    )
    stochastic = True

    def __init__(
        self,
        *,
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
        name: str = "CleanUpLite-v1",
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(max_steps=max_steps, device=device)
        h, w = check_int("height", height), check_int("width", width)
        if not 1 <= h <= MAX_SIDE:
            raise ValueError(f"height must be in [1, {MAX_SIDE}] (rows of the grid), got height={height!r}")
        if w < 2:
            raise ValueError(
                f"width must be >= 2: the orchard (left column) and the river (right column) must be "
                f"different columns, got width={width!r}"
            )
        if w > MAX_SIDE:
            raise ValueError(f"width must be in [2, {MAX_SIDE}] (columns of the grid), got width={width!r}")
        self.height, self.width = h, w
        self.num_cells = c = h * w
        self.p_pollution = check_probability("p_pollution", p_pollution)
        self.p_zap = check_probability("p_zap", p_zap)
        self.pollution_threshold = check_finite("pollution_threshold", pollution_threshold)
        if self.pollution_threshold <= 0:
            raise ValueError(f"pollution_threshold must be > 0, got {pollution_threshold!r}")
        self.zap_radius = check_finite("zap_radius", zap_radius)
        if self.zap_radius < 0:
            raise ValueError(f"zap_radius must be >= 0, got {zap_radius!r}")
        self.distance = check_choice("distance", distance, DISTANCES)
        self.freeze_steps = check_nonneg_int("freeze_steps", freeze_steps, MAX_STEPS)
        if initial_dirt is None:
            initial_dirt = min(3, h)
        self.initial_dirt = check_nonneg_int("initial_dirt", initial_dirt)
        if self.initial_dirt > h:
            raise ValueError(f"initial_dirt must be <= height={h} (one dirt per river cell), got {initial_dirt!r}")
        self.apple_reward = check_float32("apple_reward", apple_reward)
        self.shared_cell = check_choice("shared_cell", shared_cell, ("split", "random"))
        flags = (("frozen_can_zap", frozen_can_zap), ("freeze_immediately", freeze_immediately),
                 ("freeze_includes_zap_step", freeze_includes_zap_step))
        for flag, value in flags:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{flag} must be True or False, got {value!r}")
        self.frozen_can_zap = bool(frozen_can_zap)
        self.freeze_immediately = bool(freeze_immediately)
        self.freeze_includes_zap_step = bool(freeze_includes_zap_step)
        if self.freeze_includes_zap_step and not self.freeze_immediately:
            raise ValueError(
                "freeze_includes_zap_step=True counts the zap step as the first frozen step, so it needs "
                "freeze_immediately=True (the victim does not move in that step); pass "
                "freeze_includes_zap_step=False to let the victim move in the zap step"
            )
        if self.freeze_includes_zap_step and self.freeze_steps < 1:
            raise ValueError(
                f"freeze_steps must be >= 1 with freeze_includes_zap_step=True (the zap step is the first frozen "
                f"step), got freeze_steps={freeze_steps!r}; pass freeze_includes_zap_step=False for freeze_steps=0"
            )
        #: The freeze counter a hit sets at the end of the zap step (frozen steps still to come).
        self.freeze_after_hit = self.freeze_steps - 1 if self.freeze_includes_zap_step else self.freeze_steps
        self.obs_dim = 5 * c + 2
        self.spec = GameSpec(
            name=name,
            num_agents=2,
            num_actions=len(ACTIONS),
            obs_shape=(self.obs_dim,),
            obs_low=0.0,
            obs_high=1.0,
            state_shape=(self.obs_dim,),
            max_steps=self.max_steps,
            action_meanings=ACTIONS,
        )
        # Integer thresholds of every probability (see the module docstring).
        self.thr_pollution = prob_threshold(self.p_pollution)
        self.thr_zap = prob_threshold(self.p_zap)
        self.thr_apple = [prob_threshold(self.p_apple(d)) for d in range(h + 1)]
        self._build_tables()

    # ------------------------------------------------------------------ rules as data
    def p_apple(self, dirt: int) -> float:
        """Apple spawn probability with ``dirt`` dirty river cells: ``1 - min(1, dirt / P_thr)``."""
        return 1.0 - min(1.0, dirt / self.pollution_threshold)

    def cell(self, cell: int) -> tuple[int, int]:
        """``(row, col)`` of a flat cell index."""
        return divmod(cell, self.width)

    def next_cell(self, cell: int, action: int) -> int:
        """Where a free player on ``cell`` ends up after ``action`` (walls block)."""
        r, c = self.cell(cell)
        dr, dc = DELTAS[action]
        nr, nc = r + dr, c + dc
        if 0 <= nr < self.height and 0 <= nc < self.width:
            return nr * self.width + nc
        return cell

    def in_zap_range(self, a: int, b: int) -> bool:
        """Whether players on cells ``a`` and ``b`` are within ``zap_radius``."""
        return grid_distance(self.cell(a), self.cell(b), self.distance) <= self.zap_radius

    def _build_tables(self) -> None:
        h, w, c, dev = self.height, self.width, self.num_cells, self.device
        move = [[self.next_cell(x, a) for a in range(len(ACTIONS))] for x in range(c)]
        self._move = torch.tensor(move, dtype=torch.int64, device=dev).view(-1)
        orch = [r if col == 0 else h for r, col in map(self.cell, range(c))]
        river = [r if col == w - 1 else h for r, col in map(self.cell, range(c))]
        # [C, 2]: where a cell lies in the padded item mask [apple rows, pad, dirt rows, pad]
        # (its orchard row, or the apple pad h; its river row + h + 1, or the dirt pad 2h + 1)
        self._item_idx = torch.tensor([[o, h + 1 + r] for o, r in zip(orch, river)], dtype=torch.int64, device=dev)
        self._spawn_words = torch.tensor([3, 1], device=dev)  # the words placing an apple, a dirt
        rng_ok = [[self.in_zap_range(a, b) for b in range(c)] for a in range(c)]
        self._in_range = torch.tensor(rng_ok, dtype=torch.bool, device=dev).view(-1)
        self._thr_apple = torch.tensor(self.thr_apple, dtype=torch.int64, device=dev)
        self._rows = torch.arange(h, device=dev)
        self._agents = torch.arange(2, device=dev)
        self._eye3 = torch.eye(3, device=dev)
        # Small grids build observations with one embedding_bag: the sum of a row for the
        # positions and flags (indexed by both positions and both flags) and a row for the
        # grid (indexed by the apple and dirt bit masks). Larger grids use one-hot pieces.
        self._obs_tables = None
        rows = c * c * 4 + 4**h
        if rows * self.obs_dim <= _OBS_TABLE_MAX:
            self._obs_tables = torch.as_tensor(self._observation_rows(), device=dev)
            self._pow2 = torch.tensor([1 << i for i in range(2 * h)], device=dev)
        self._eye_c: torch.Tensor | None = None  # built on first use by the one-hot path

    def _observation_rows(self) -> np.ndarray:
        """Rows of the observation tables (see ``_build_tables``): first ``C*C*4`` rows for
        ``((own * C + other) * 2 + own_flag) * 2 + other_flag``, then ``4**height`` rows for
        ``apple_mask + (dirt_mask << height)``."""
        h, w, c, d = self.height, self.width, self.num_cells, self.obs_dim
        people = np.zeros((c, c, 2, 2, d), dtype=np.float32)
        for own in range(c):
            for other in range(c):
                people[own, other, :, :, own] = 1.0
                people[own, other, :, :, c + other] = 1.0
        people[:, :, 1, :, 5 * c] = 1.0
        people[:, :, :, 1, 5 * c + 1] = 1.0
        grid = np.zeros((4**h, d), dtype=np.float32)
        for code in range(4**h):
            for r in range(h):
                apple, dirt = (code >> r) & 1, (code >> (h + r)) & 1
                for col in range(w):
                    kind = APPLE if (col == 0 and apple) else DIRT if (col == w - 1 and dirt) else EMPTY
                    grid[code, 2 * c + 3 * (r * w + col) + kind] = 1.0
        return np.concatenate((people.reshape(-1, d), grid))

    # ------------------------------------------------------------------ core
    def init(self, rng: RNG) -> CleanUpLiteState:
        h, c = self.height, self.num_cells
        w = rng.bits(INIT_STREAM, 2 + h)
        p0 = (w[:, 0] * c) >> 32
        k = (w[:, 1] * (c - 1)) >> 32
        p1 = k + (k >= p0).to(torch.int64)
        keys = w[:, 2:] * h + self._rows  # unique per row
        rank = (keys.unsqueeze(2) > keys.unsqueeze(1)).sum(2)  # [N, h]: rows with a smaller key
        dirt = rank < self.initial_dirt
        return CleanUpLiteState(
            pos=torch.stack((p0, p1), 1),
            items=torch.stack((torch.zeros_like(dirt), dirt), 1),
            freeze=torch.zeros_like(w[:, :2]),
            t=torch.zeros_like(p0),
            rng=rng,
        )

    def transition(self, state: CleanUpLiteState, actions: torch.Tensor):
        h = self.height
        pos, freeze, items = state.pos, state.freeze, state.items
        w = state.rng.bits(0, 6)
        # 1./2. dirt spawns on a clean river cell with p_pollution, then an apple on an empty
        # orchard cell with p_apple(dirt after step 1); both placed at once below.
        free = ~items  # [N, 2, h]
        n_free = free.sum(2)  # [N, 2]: (apple-free orchard cells, clean river cells)
        dirt_event = ((w[:, 0] >> 8) < self.thr_pollution) & (n_free[:, DIRT_ROW] > 0)
        n_dirt = (h - n_free[:, DIRT_ROW]) + dirt_event
        apple_event = (w[:, 2] >> 8) < lookup(self._thr_apple, n_dirt)
        event = torch.stack((apple_event, dirt_event), 1)
        # the (word * n_free) >> 32-th free row (1-based rank; 0 = no spawn, matches no free row)
        k = (((w.index_select(1, self._spawn_words) * n_free) >> 32) + 1) * event
        items = items | (free & (free.cumsum(2) == k.unsqueeze(2)))
        # 3./4. free players harvest the apple / clean the dirt on their cell.
        active = freeze == 0
        # flat index of each player's cell in the padded [apple rows, pad, dirt rows, pad] mask
        idx = self._item_idx.index_select(0, pos.view(-1)).view(-1, 2, 2).transpose(1, 2).reshape(-1, 4)
        padded = F.pad(items, (0, 1)).view(-1, 2 * (h + 1))
        on = padded.gather(1, idx).view(-1, 2, 2) & active.unsqueeze(1)  # [N, kind, player]
        shared = on[:, :, 0] & on[:, :, 1] & (pos[:, 0] == pos[:, 1]).unsqueeze(1)  # [N, kind]
        if self.shared_cell == "split":
            credit = on.to(torch.float32) * torch.where(shared, 0.5, 1.0).unsqueeze(2)
        else:
            winner = (w[:, 0] & 1).view(-1, 1, 1)
            credit = (on & ~(shared.unsqueeze(2) & (winner != self._agents))).to(torch.float32)
        taken = torch.where(on.view(-1, 4), idx, h)  # column h (a pad) for players taking nothing
        items = padded.scatter(1, taken, False).view(-1, 2, h + 1)[:, :, :h].contiguous()
        harvested, cleaned = credit[:, APPLE_ROW].contiguous(), credit[:, DIRT_ROW].contiguous()
        # 5. zaps, resolved simultaneously on the state before them.
        zapping = actions == ZAP
        if not self.frozen_can_zap:
            zapping = zapping & active
        in_range = lookup(self._in_range, pos[:, 0] * self.num_cells + pos[:, 1])
        lucky = (w[:, 4:6] >> 8) < self.thr_zap
        given = zapping & lucky & in_range.unsqueeze(1) & active.flip(1)
        received = given.flip(1)
        # 6. free players move (a player zapped this step too, unless freeze_immediately).
        moves = active & ~received if self.freeze_immediately else active
        target = lookup(self._move, pos * len(ACTIONS) + actions)
        new_pos = torch.where(moves, target, pos)
        new_freeze = torch.where(received, self.freeze_after_hit, (freeze - 1).clamp_min(0))
        nxt = CleanUpLiteState(pos=new_pos, items=items, freeze=new_freeze, t=state.t, rng=state.rng)
        counts = items.sum(2).to(torch.float32)  # [N, 2]: apples, dirt
        reward = harvested * self.apple_reward
        metrics = {
            "harvested": harvested,
            "cleaned": cleaned,
            "zaps_given": given.to(torch.float32),
            "zaps_received": received.to(torch.float32),
            "zap_attempts": zapping.to(torch.float32),
            "frozen": (~active).to(torch.float32),
            "pollution": counts[:, DIRT_ROW].contiguous(),
            "apples": counts[:, APPLE_ROW].contiguous(),
        }
        return nxt, reward, torch.zeros_like(state.t, dtype=torch.bool), metrics

    def grid_types(self, state: CleanUpLiteState) -> torch.Tensor:
        """``[N, C]`` int64 object on every cell: 0 empty, 1 apple, 2 dirt."""
        n = state.pos.shape[0]
        types = torch.zeros(n, self.height, self.width, dtype=torch.int64, device=self.device)
        types[:, :, 0] = state.apple.to(torch.int64)
        types[:, :, -1] = state.dirt.to(torch.int64) * DIRT
        return types.view(n, self.num_cells)

    def observe(self, state: CleanUpLiteState) -> torch.Tensor:
        n, c = state.pos.shape[0], self.num_cells
        if self._obs_tables is not None:  # (tests switch this path off to compare the two)
            frozen = (state.freeze > 0).to(torch.int64)
            people = ((state.pos * c + state.pos.flip(1)) * 2 + frozen) * 2 + frozen.flip(1)  # [N, 2]
            masks = state.items.view(n, 2 * self.height).to(torch.int64)  # apple rows, then dirt rows
            grid = (masks * self._pow2).sum(1, keepdim=True) + c * c * 4  # [N, 1]
            idx = torch.stack((people, grid.expand(n, 2)), 2).view(2 * n, 2)
            return F.embedding_bag(idx, self._obs_tables, mode="sum").view(n, 2, self.obs_dim)
        if self._eye_c is None:
            self._eye_c = torch.eye(c, device=self.device)
        pos = F.embedding(torch.cat((state.pos, state.pos.flip(1)), 1), self._eye_c)  # [N, 4, C]
        grid = F.embedding(self.grid_types(state), self._eye3).view(n, 1, 3 * c)
        flags = (state.freeze > 0).to(torch.float32)
        return torch.cat(
            (
                pos.view(n, 2, 2 * c),
                grid.expand(n, 2, 3 * c),
                torch.stack((flags, flags.flip(1)), 2),
            ),
            2,
        )

    def global_state(self, state: CleanUpLiteState) -> torch.Tensor:
        return self.observe(state)[:, 0]

    # ------------------------------------------------------------------ rendering
    def _snapshot(self, state: CleanUpLiteState, index: int):
        pos = [int(x) for x in state.pos[index]]
        apple = [bool(x) for x in state.apple[index]]
        dirt = [bool(x) for x in state.dirt[index]]
        freeze = [int(x) for x in state.freeze[index]]
        return pos, apple, dirt, freeze

    def render_ansi(self, state: CleanUpLiteState, index: int = 0) -> str:
        """``a`` apple, ``#`` dirt, ``~`` clean river, ``.`` empty; players ``0`` and ``1``
        (followed by ``z`` while frozen)."""
        pos, apple, dirt, freeze = self._snapshot(state, index)
        h, w = self.height, self.width
        cells = []
        for r in range(h):
            row = []
            for col in range(w):
                if col == 0 and apple[r]:
                    s = "a"
                elif col == w - 1:
                    s = "#" if dirt[r] else "~"
                else:
                    s = "."
                for i in range(2):
                    if pos[i] == r * w + col:
                        s += str(i) + ("z" if freeze[i] else "")
                row.append(s)
            cells.append(row)
        t = int(state.t[index])
        frozen = ", ".join(f"player_{i} frozen {freeze[i]}" for i in range(2) if freeze[i]) or "nobody frozen"
        head = (
            f"{self.spec.name} t={t}/{self.max_steps} dirt={sum(dirt)} apples={sum(apple)} ({frozen}); "
            "orchard left, river right"
        )
        return ascii_grid(cells, head)

    def render_rgb(self, state: CleanUpLiteState, index: int = 0) -> np.ndarray:
        """Orchard green (red where an apple grows), river blue (brown where dirty); players
        squares (blue player_0, orange player_1, greyed while frozen) smaller than a cell, so
        the dirt or apple under a player stays visible. Colours: :attr:`render_legend`."""
        pos, apple, dirt, freeze = self._snapshot(state, index)
        h, w = self.height, self.width
        paint = GridPainter(h, w, cell_px=32)
        for r in range(h):
            for col in range(w):
                if col == 0:
                    bg = _APPLE_RGB if apple[r] else _ORCHARD_RGB
                elif col == w - 1:
                    bg = _DIRT_RGB if dirt[r] else _RIVER_RGB
                else:
                    bg = BACKGROUND
                paint.fill(r, col, bg)
        paint.grid_lines()
        shared = pos[0] == pos[1]
        for i in range(2):
            r, col = self.cell(pos[i])
            colour = FROZEN_COLOURS[i] if freeze[i] else AGENT_COLOURS[i]
            paint.sprite(r, col, colour, shape="square", frac=0.8 if shared else PLAYER_FRAC,
                         corner=i if shared else None)
        return paint.image()
