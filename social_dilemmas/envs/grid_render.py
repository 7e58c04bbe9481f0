"""Small numpy painters shared by the gridworlds' ``rgb_array`` and ``ansi`` renderings.

A picture is built cell by cell: every cell gets a background colour, then any number of
"sprites" (a filled square or disc of a given colour and relative size, optionally offset to
one corner so two agents on one cell stay visible). No drawing library is needed.

Conventions shared by every gridworld: player_0 is blue and player_1 orange
(:data:`AGENT_COLOURS`); what lies under a player (dirt, an apple, a coin) is drawn larger
than the player (:data:`PLAYER_FRAC`), so it stays visible around it; each game lists its
colours in a ``render_legend`` of ``(colour, meaning)`` pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Colour = tuple[int, int, int]

#: A palette shared by the gridworlds (colour-blind friendly, after Okabe & Ito).
AGENT_COLOURS: tuple[Colour, Colour] = ((0, 114, 178), (230, 159, 0))  # blue, orange
FROZEN_COLOURS: tuple[Colour, Colour] = ((120, 150, 170), (190, 170, 130))  # greyed versions
BACKGROUND: Colour = (235, 235, 235)
GRID_LINE: Colour = (200, 200, 200)
#: side of a player's square, as a fraction of the cell: smaller than what it stands on.
PLAYER_FRAC = 0.5

Legend = tuple[tuple[Colour, str], ...]


def _disc(size: int, frac: float) -> np.ndarray:
    """A boolean ``[size, size]`` mask of a centred disc of diameter ``frac * size``."""
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size]
    r = frac * size / 2.0
    return (yy - c) ** 2 + (xx - c) ** 2 <= r * r


def _square(size: int, frac: float) -> np.ndarray:
    """A boolean ``[size, size]`` mask of a centred square of side ``frac * size``."""
    lo = int(round(size * (1 - frac) / 2))
    m = np.zeros((size, size), dtype=bool)
    m[lo : size - lo, lo : size - lo] = True
    return m


class GridPainter:
    """Paints ``rows x cols`` cells of ``cell_px`` pixels each into a uint8 ``[H, W, 3]`` image."""

    def __init__(self, rows: int, cols: int, cell_px: int = 32) -> None:
        self.rows, self.cols, self.px = rows, cols, cell_px
        self.img = np.empty((rows * cell_px, cols * cell_px, 3), dtype=np.uint8)
        self.img[:] = BACKGROUND
        self._masks: dict[tuple[str, float], np.ndarray] = {}

    def _mask(self, shape: str, frac: float) -> np.ndarray:
        key = (shape, frac)
        if key not in self._masks:
            self._masks[key] = (_disc if shape == "disc" else _square)(self.px, frac)
        return self._masks[key]

    def fill(self, row: int, col: int, colour: Colour) -> None:
        """Fill a whole cell (its background)."""
        p = self.px
        self.img[row * p : (row + 1) * p, col * p : (col + 1) * p] = colour

    def sprite(
        self, row: int, col: int, colour: Colour, *, shape: str = "square", frac: float = 0.6, corner: int | None = None
    ) -> None:
        """Draw a filled ``shape`` ("square" or "disc") in a cell.

        ``corner`` (0 = top-left, 1 = bottom-right) draws a half-size sprite in that corner,
        so that two agents sharing a cell are both visible.
        """
        p = self.px
        if corner is None:
            mask = self._mask(shape, frac)
            y0, x0 = row * p, col * p
        else:
            h = p // 2
            mask = (_disc if shape == "disc" else _square)(h, frac)
            y0 = row * p + (h if corner else 0)
            x0 = col * p + (h if corner else 0)
        s = mask.shape[0]
        view = self.img[y0 : y0 + s, x0 : x0 + s]
        view[mask] = colour

    def grid_lines(self, colour: Colour = GRID_LINE) -> None:
        """Thin lines between cells."""
        p = self.px
        self.img[::p, :] = colour
        self.img[:, ::p] = colour

    def image(self) -> np.ndarray:
        return self.img.copy()


def ascii_grid(cells: Sequence[Sequence[str]], header: str = "") -> str:
    """Join rows of equal-width cell strings into a boxed text picture."""
    width = max((len(c) for row in cells for c in row), default=1)
    ncols = len(cells[0]) if cells else 0
    border = "+" + "+".join("-" * width for _ in range(ncols)) + "+"
    lines = [header] if header else []
    lines.append(border)
    for row in cells:
        lines.append("|" + "|".join(c.ljust(width) for c in row) + "|")
    lines.append(border)
    return "\n".join(lines) + "\n"
