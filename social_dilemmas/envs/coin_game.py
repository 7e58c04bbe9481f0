"""The coin game (Lerer & Peysakhovich 2017; LOLA version of Foerster et al. 2018), batched.

The rules, the design decisions and a worked known-answer specification are on the
documentation page :mod:`social_dilemmas.envs.coin_game_v0`; this module is the engine.

Layout: cells are numbered row-major, ``cell = row * grid_size + col``, row 0 at the top.
Player 0 is *red*, player 1 is *blue*; a coin has colour 0 (red, player 0's) or 1 (blue,
player 1's).

Random draws (what a reference implementation must reproduce), all from the
sub-environment's :class:`~social_dilemmas.core.rng.RNG` as 32-bit words ``w``:

* episode start, ``rng.bits(100, 4)``: ``w[0]`` places player 0 on cell ``(w[0] * C) >> 32``;
  ``w[1]`` picks ``k = (w[1] * (C - 1)) >> 32`` and player 1 goes to cell ``k`` if
  ``k < pos0`` else ``k + 1``; ``w[2]`` picks the coin cell as the ``k``-th (``k = (w[2] *
  n_free) >> 32``) of the cells not under a player, in increasing order; the top bit of
  ``w[3]`` is the coin colour;
* every step, one word ``w = rng.bits(0)``: if a coin was picked up, ``w`` picks the new
  coin cell among the cells not under a player after the move (same rule) and, with
  ``new_coin_colour="random"``, its lowest bit ``w & 1`` is the new colour.

``(w * n) >> 32`` is an exact integer map of a uniform 32-bit word onto ``{0, ..., n-1}``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from social_dilemmas.core.game import INIT_STREAM, BatchedGame, GameSpec
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.validation import FLOAT32_MAX, check_choice, check_float32, check_int
from social_dilemmas.envs.grid_render import AGENT_COLOURS, BACKGROUND, PLAYER_FRAC, GridPainter, Legend, ascii_grid

#: Action names; the no-op exists only with ``noop_action=True``.
ACTIONS = ("right", "left", "up", "down", "stay")
#: ``(d_row, d_col)`` of every action.
DELTAS = ((0, 1), (0, -1), (-1, 0), (1, 0), (0, 0))
RED, BLUE = 0, 1
COLOUR_NAMES = ("red", "blue")
#: a lighter shade of the owner's colour for its coin (a player on the coin stays distinguishable)
_COIN_RGB = {RED: (120, 180, 225), BLUE: (245, 205, 130)}
#: a player and its coin share the colour of that player in every gridworld (player_0 blue, player_1 orange)
_RGB = {RED: AGENT_COLOURS[0], BLUE: AGENT_COLOURS[1]}
#: Largest grid side: the free-cell tables hold ``grid_size**6`` int64 (about 24 MB at 12).
MAX_GRID_SIZE = 12
#: Largest observation table (in floats) kept for the table lookup in ``observe``.
_OBS_TABLE_MAX = 1 << 18


def lookup(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``table[index]`` for a 1-D table (``index_select`` is faster than advanced indexing)."""
    return table.index_select(0, index.reshape(-1)).view(index.shape)


@dataclass(frozen=True)
class CoinGameState:
    """State of ``N`` coin games.

    Attributes:
        pos: ``[N, 2]`` int64, cell of player 0 (red) and player 1 (blue).
        coin: ``[N]`` int64, cell of the coin (never under a player between steps).
        colour: ``[N]`` int64, 0 = red (player 0's coin), 1 = blue (player 1's coin).
        t: ``[N]`` int64, steps taken in this episode.
        rng: per-game random state.
    """

    pos: torch.Tensor
    coin: torch.Tensor
    colour: torch.Tensor
    t: torch.Tensor
    rng: RNG


def _move_table(g: int, num_actions: int, wrap: bool) -> np.ndarray:
    """``[C, A]`` next cell of every (cell, action)."""
    table = np.zeros((g * g, num_actions), dtype=np.int64)
    for cell in range(g * g):
        r, c = divmod(cell, g)
        for a in range(num_actions):
            dr, dc = DELTAS[a]
            nr, nc = r + dr, c + dc
            if wrap:
                nr, nc = nr % g, nc % g
            elif not (0 <= nr < g and 0 <= nc < g):
                nr, nc = r, c
            table[cell, a] = nr * g + nc
    return table


def _free_tables(g: int) -> tuple[np.ndarray, np.ndarray]:
    """For every ordered pair of player cells ``p0 * C + p1``: the free cells in increasing
    order (padded with 0) ``[C*C, C]`` and how many there are ``[C*C]``."""
    n = g * g
    free = np.zeros((n * n, n), dtype=np.int64)
    count = np.zeros(n * n, dtype=np.int64)
    for p0 in range(n):
        for p1 in range(n):
            cells = [c for c in range(n) if c != p0 and c != p1]
            free[p0 * n + p1, : len(cells)] = cells
            count[p0 * n + p1] = len(cells)
    return free, count


class CoinGame(BatchedGame[CoinGameState]):
    """Batched two-player coin game; see :mod:`social_dilemmas.envs.coin_game_v0`.

    Args:
        grid_size: side of the square grid (>= 2; the LOLA game is 3).
        max_steps: steps per episode ``T`` (then truncation).
        wrap: moving off an edge re-enters on the opposite edge (a torus, as in LOLA's
            code); with ``False`` such a move leaves the player where it is.
        noop_action: add a fifth action "stay" (LOLA has only the four moves).
        new_coin_colour: ``"alternate"`` (a new coin has the other colour than the one just
            picked up, as in LOLA's code) or ``"random"`` (a fair coin flip).
        reward_own, reward_other: reward for picking up a coin of one's own / the other
            player's colour.
        penalty: reward added to a coin's owner when the *other* player picks it up.
        name: versioned id used in specs and messages.
        device: torch device of all tensors.
    """

    render_modes = ("ansi", "rgb_array")
    #: ``(colour, meaning)`` of every colour :meth:`render_rgb` paints.
    render_legend: Legend = (
        (AGENT_COLOURS[0], "player_0 (the game's red agent)"), (AGENT_COLOURS[1], "player_1 (the game's blue agent)"),
        (_COIN_RGB[RED], "player_0's coin"), (_COIN_RGB[BLUE], "player_1's coin"), (BACKGROUND, "empty cell"),
    )
    stochastic = True

    def __init__(
        self,
        *,
        grid_size: int = 3,
        max_steps: int = 16,
        wrap: bool = True,
        noop_action: bool = False,
        new_coin_colour: str = "alternate",
        reward_own: float = 1.0,
        reward_other: float = 1.0,
        penalty: float = -2.0,
        name: str = "CoinGame-v0",
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(max_steps=max_steps, device=device)
        g = check_int("grid_size", grid_size)
        if g < 2:
            raise ValueError(
                f"grid_size must be >= 2: a {g}x{g} grid is too small for both agents and a coin "
                f"(they need 3 distinct cells), got grid_size={grid_size!r}"
            )
        if g > MAX_GRID_SIZE:
            raise ValueError(
                f"grid_size must be in [2, {MAX_GRID_SIZE}]: the game's lookup tables grow as grid_size**6 "
                f"({g}x{g} would need {8 * g**6 / 2**30:.3g} GiB), got grid_size={grid_size!r}"
            )
        for flag, value in (("wrap", wrap), ("noop_action", noop_action)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{flag} must be True or False, got {value!r}")
        self.grid_size = g
        self.wrap = bool(wrap)
        self.noop_action = bool(noop_action)
        self.new_coin_colour = check_choice("new_coin_colour", new_coin_colour, ("alternate", "random"))
        self.reward_own = check_float32("reward_own", reward_own)
        self.reward_other = check_float32("reward_other", reward_other)
        self.penalty = check_float32("penalty", penalty)
        rewards = self.outcome_table()[:, :2]
        if not np.all(np.abs(rewards) <= FLOAT32_MAX):
            raise ValueError(
                "reward_own/reward_other + penalty overflow float32 when a player is penalised in the step it "
                f"picks a coin up (|reward| must be <= {FLOAT32_MAX:.4g}), got reward_own={reward_own!r}, "
                f"reward_other={reward_other!r}, penalty={penalty!r}"
            )
        self.num_cells = c = g * g
        num_actions = 5 if self.noop_action else 4
        self.spec = GameSpec(
            name=name,
            num_agents=2,
            num_actions=num_actions,
            obs_shape=(4 * c,),
            obs_low=0.0,
            obs_high=1.0,
            state_shape=(4 * c,),
            max_steps=self.max_steps,
            action_meanings=ACTIONS[:num_actions],
        )
        dev = self.device
        self._move = torch.as_tensor(_move_table(g, num_actions, self.wrap), device=dev).view(-1)
        free, count = _free_tables(g)
        self._free = torch.as_tensor(free, device=dev).view(-1)
        self._nfree = torch.as_tensor(count, device=dev)
        # Outcome table indexed by picked0 + 2 * picked1 + 4 * colour:
        # columns r0, r1, own0, own1, other0, other1.
        self._outcome = torch.as_tensor(self.outcome_table(), dtype=torch.float32, device=dev)
        self._agent = torch.arange(2, device=dev)
        # Small grids look observations up in a table of every (self, other, coin, own) tuple:
        # one gather instead of a fill plus a scatter.
        self._obs_table = None
        if 2 * c**3 * 4 * c <= _OBS_TABLE_MAX:
            self._obs_table = torch.as_tensor(self._all_observations(), device=dev)

    def _all_observations(self) -> np.ndarray:
        c = self.num_cells
        table = np.zeros((c, c, c, 2, 4 * c), dtype=np.float32)
        for p_self in range(c):
            for p_other in range(c):
                for coin in range(c):
                    for own in range(2):
                        row = table[p_self, p_other, coin, own]
                        row[p_self] = row[c + p_other] = 1.0
                        row[(2 if own else 3) * c + coin] = 1.0
        return table.reshape(-1, 4 * c)

    # ------------------------------------------------------------------ rules as data
    def outcome_table(self) -> np.ndarray:
        """``[8, 6]``: for ``picked0 + 2 * picked1 + 4 * colour`` the rewards of both players
        and the own-/other-coin pickups ``(r0, r1, own0, own1, other0, other1)``."""
        out = np.zeros((8, 6))
        for code in range(8):
            picked = (code & 1, (code >> 1) & 1)
            owner = code >> 2
            for i in range(2):
                j = 1 - i
                own = picked[i] and owner == i
                other = picked[i] and owner != i
                r = self.reward_own * own + self.reward_other * other
                if owner == i and picked[j]:
                    r += self.penalty
                out[code, i] = r
                out[code, 2 + i] = own
                out[code, 4 + i] = other
        return out

    # ------------------------------------------------------------------ core
    def _pick_free(self, pair: torch.Tensor, word: torch.Tensor) -> torch.Tensor:
        """The ``(word * n_free) >> 32``-th cell not under either player of ``pair``."""
        k = (word * lookup(self._nfree, pair)) >> 32
        return lookup(self._free, pair * self.num_cells + k)

    def init(self, rng: RNG) -> CoinGameState:
        c = self.num_cells
        w = rng.bits(INIT_STREAM, 4)
        p0 = (w[:, 0] * c) >> 32
        k = (w[:, 1] * (c - 1)) >> 32
        p1 = k + (k >= p0).to(torch.int64)
        coin = self._pick_free(p0 * c + p1, w[:, 2])
        colour = w[:, 3] >> 31
        return CoinGameState(
            pos=torch.stack((p0, p1), 1), coin=coin, colour=colour, t=torch.zeros_like(p0), rng=rng
        )

    def transition(self, state: CoinGameState, actions: torch.Tensor):
        a = self.spec.num_actions
        pos = lookup(self._move, state.pos * a + actions)  # [N, 2]
        picked = pos == state.coin.unsqueeze(1)  # [N, 2]
        code = picked[:, 0].to(torch.int64) + 2 * picked[:, 1] + 4 * state.colour
        out = F.embedding(code, self._outcome)  # [N, 6]
        any_picked = picked.any(1)
        w = state.rng.bits(0)
        new_coin = self._pick_free(pos[:, 0] * self.num_cells + pos[:, 1], w)
        new_colour = 1 - state.colour if self.new_coin_colour == "alternate" else w & 1
        nxt = CoinGameState(
            pos=pos,
            coin=torch.where(any_picked, new_coin, state.coin),
            colour=torch.where(any_picked, new_colour, state.colour),
            t=state.t,
            rng=state.rng,
        )
        metrics = {"own_coin": out[:, 2:4], "other_coin": out[:, 4:6]}
        return nxt, out[:, 0:2], torch.zeros_like(any_picked), metrics

    def observe(self, state: CoinGameState) -> torch.Tensor:
        c = self.num_cells
        n = state.pos.shape[0]
        pos = state.pos
        own = state.colour.unsqueeze(1) == self._agent  # [N, 2]: the coin is agent i's
        if self._obs_table is not None:
            code = ((pos * c + pos.flip(1)) * c + state.coin.unsqueeze(1)) * 2 + own.to(torch.int64)
            return F.embedding(code, self._obs_table)
        coin_idx = (2 * c) + c * (~own).to(torch.int64) + state.coin.unsqueeze(1)
        idx = torch.stack((pos, c + pos.flip(1), coin_idx), dim=2)  # [N, 2, 3]
        obs = torch.zeros(n, 2, 4 * c, device=self.device)
        return obs.scatter_(2, idx, 1.0)

    def global_state(self, state: CoinGameState) -> torch.Tensor:
        return self.observe(state)[:, 0]

    # ------------------------------------------------------------------ rendering
    def _cells(self, state: CoinGameState, index: int):
        g = self.grid_size
        p0, p1 = (int(x) for x in state.pos[index])
        coin, colour = int(state.coin[index]), int(state.colour[index])
        return g, p0, p1, coin, colour

    def render_ansi(self, state: CoinGameState, index: int = 0) -> str:
        """Players ``R`` (player_0, red) and ``B`` (player_1, blue); the coin ``r`` or ``b``."""
        g, p0, p1, coin, colour = self._cells(state, index)
        cells = []
        for r in range(g):
            row = []
            for col in range(g):
                cell = r * g + col
                s = ("R" if cell == p0 else "") + ("B" if cell == p1 else "")
                if cell == coin:
                    s += "rb"[colour]
                row.append(s or ".")
            cells.append(row)
        t = int(state.t[index])
        head = f"{self.spec.name} t={t}/{self.max_steps} coin: {COLOUR_NAMES[colour]} (player_{colour}'s)"
        return ascii_grid(cells, head)

    def render_rgb(self, state: CoinGameState, index: int = 0) -> np.ndarray:
        """Players are squares, the coin a larger disc (so a player standing on it leaves it
        visible), each in its owner's colour: player_0 blue, player_1 orange, as in every
        gridworld here (the text picture keeps the game's names, "red" for player_0's).
        Colours: :attr:`render_legend`."""
        g, p0, p1, coin, colour = self._cells(state, index)
        paint = GridPainter(g, g, cell_px=32)
        paint.grid_lines()
        cr, cc = divmod(coin, g)
        paint.sprite(cr, cc, _COIN_RGB[colour], shape="disc", frac=0.9)
        shared = p0 == p1
        for i, p in enumerate((p0, p1)):
            r, c = divmod(p, g)
            paint.sprite(r, c, _RGB[i], shape="square", frac=0.8 if shared else PLAYER_FRAC,
                         corner=i if shared else None)
        return paint.image()
