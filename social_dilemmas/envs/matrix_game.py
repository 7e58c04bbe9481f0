"""Iterated 2x2 matrix games (the batched core shared by IPD, stag hunt, chicken, pennies).

Two players choose action 0 or 1 simultaneously, ``T`` times in a row, and receive the
rewards of a :class:`~social_dilemmas.envs.payoffs.PayoffTable` at every round.

Observation (per agent, self first): a one-hot vector of length 5 over
``{start, (own=0, other=0), (own=0, other=1), (own=1, other=0), (own=1, other=1)}`` — the
previous joint action seen from the owner's side, or the start token in the first round.
For the prisoner's dilemma these are the paper's states ``{s0, CC, CD, DC, DD}``. The start
token keeps every observation non-zero.

Global state (``state()``): the same one-hot from agent 0's side, 5 floats.

Episode end: after ``max_steps`` rounds (default 10, the paper's ``T``) the episode is
*truncated* (a time limit), never terminated.

Pictures (``rgb_array``, ``[144, 96, 3]`` uint8): the 2x2 table, rows = ``player_0``'s action,
columns = ``player_1``'s; the cell of the last joint action is highlighted and holds both
players' markers (``player_0`` blue, top left; ``player_1`` orange, bottom right). The bottom
strip fills as the rounds of the episode pass. Text (``ansi``): the round and the last moves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from social_dilemmas.core.game import BatchedGame, GameSpec
from social_dilemmas.core.rng import RNG
from social_dilemmas.core.validation import check_choice
from social_dilemmas.envs.grid_render import AGENT_COLOURS, GridPainter
from social_dilemmas.envs.payoffs import GAMES, PRISONERS_DILEMMA, PayoffTable

#: Index of the start token and of the four joint outcomes (agent 0's action first).
START, CC, CD, DC, DD = range(5)
#: Maps a joint-outcome index seen by agent 0 to the index seen by agent 1 (own first).
SWAP_VIEW = (START, CC, DC, CD, DD)
NUM_STATES = 5
#: Picture of a round: cell size in pixels and the colours of the last outcome and the clock.
CELL_PX = 48
HIGHLIGHT = (250, 226, 140)
CLOCK = (90, 90, 90)


@dataclass(frozen=True)
class MatrixGameState:
    """State of ``N`` iterated matrix games.

    Attributes:
        last: ``[N]`` int64, previous joint outcome from agent 0's side (0 = start, else
            ``1 + 2 * a0 + a1``).
        t: ``[N]`` int64, rounds played in this episode.
        rng: per-game random state (unused by the dynamics, carried for co-players).
    """

    last: torch.Tensor
    t: torch.Tensor
    rng: RNG


class IteratedMatrixGame(BatchedGame[MatrixGameState]):
    """Batched iterated 2x2 game with memory-1 (previous joint action) observations.

    Args:
        payoffs: a :class:`PayoffTable`, the name of a built-in table
            (:data:`~social_dilemmas.envs.payoffs.GAMES`), or a nested list ``[2][2][2]``
            (``[a0][a1] = (r0, r1)``).
        kind: for a raw list, the game class whose inequalities must hold (see
            :data:`~social_dilemmas.envs.payoffs.KINDS`).
        max_steps: rounds per episode ``T`` (>= 1).
        name: versioned id of the game, used in specs and error messages.
        device: torch device of all tensors.
    """

    render_modes = ("ansi", "rgb_array")
    stochastic = False  # the dynamics never draw random numbers; the RNG only feeds co-players

    def __init__(
        self,
        payoffs: PayoffTable | str | list | tuple = PRISONERS_DILEMMA,
        *,
        kind: str = "general",
        max_steps: int = 10,
        name: str = "IteratedMatrixGame-v0",
        device: torch.device | str = "cpu",
    ) -> None:
        super().__init__(max_steps=max_steps, device=device)
        if isinstance(payoffs, str):
            payoffs = GAMES[check_choice("payoffs", payoffs, GAMES)]
        elif not isinstance(payoffs, PayoffTable):
            payoffs = PayoffTable("custom", payoffs, kind=kind)
        self.table = payoffs
        self.spec = GameSpec(
            name=name,
            num_agents=2,
            num_actions=2,
            obs_shape=(NUM_STATES,),
            obs_low=0.0,
            obs_high=1.0,
            state_shape=(NUM_STATES,),
            max_steps=self.max_steps,
            action_meanings=payoffs.action_meanings,
        )
        self._rewards = payoffs.as_tensor(self.device).reshape(4, 2)  # [joint, agent]
        self._swap = torch.tensor(SWAP_VIEW, device=self.device)
        self._eye = torch.eye(NUM_STATES, device=self.device)

    def init(self, rng: RNG) -> MatrixGameState:
        zeros = torch.zeros_like(rng.counter)
        return MatrixGameState(last=zeros, t=zeros, rng=rng)

    def observe(self, state: MatrixGameState) -> torch.Tensor:
        idx = torch.stack((state.last, self._swap[state.last]), dim=1)  # [N, 2]
        return self._eye[idx]

    def transition(self, state: MatrixGameState, actions: torch.Tensor):
        joint = actions[:, 0] * 2 + actions[:, 1]  # [N] in 0..3
        reward = self._rewards[joint]
        nxt = MatrixGameState(last=joint + 1, t=state.t, rng=state.rng)
        terminated = torch.zeros_like(joint, dtype=torch.bool)
        return nxt, reward, terminated, {}

    def global_state(self, state: MatrixGameState) -> torch.Tensor:
        return F.one_hot(state.last, NUM_STATES).to(torch.float32)

    def render_ansi(self, state: MatrixGameState, index: int = 0) -> str:
        last = int(state.last[index])
        t = int(state.t[index])
        if last == START:
            moves = "start"
        else:
            a0, a1 = divmod(last - 1, 2)
            names = self.table.action_meanings
            r = self._rewards[last - 1].tolist()
            moves = f"player_0 {names[a0]}, player_1 {names[a1]} -> rewards ({r[0]:g}, {r[1]:g})"
        return f"{self.spec.name} round {t}/{self.max_steps}: {moves}\n"

    def render_rgb(self, state: MatrixGameState, index: int = 0) -> np.ndarray:
        """The 2x2 table with the last joint action marked, and a round clock below (see module doc)."""
        last, t = int(state.last[index]), int(state.t[index])
        paint = GridPainter(3, 2, CELL_PX)
        if last != START:
            a0, a1 = divmod(last - 1, 2)
            paint.fill(a0, a1, HIGHLIGHT)
            paint.sprite(a0, a1, AGENT_COLOURS[0], shape="disc", corner=0)
            paint.sprite(a0, a1, AGENT_COLOURS[1], shape="disc", corner=1)
        paint.grid_lines()
        img = paint.image()
        filled = round(img.shape[1] * min(t, self.max_steps) / self.max_steps)
        img[2 * CELL_PX + CELL_PX // 3 : 3 * CELL_PX - CELL_PX // 3, :filled] = CLOCK
        return img
