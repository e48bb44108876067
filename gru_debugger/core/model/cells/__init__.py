"""The registry of recurrent cells: one line per cell (see README, "Adding a cell")."""
from __future__ import annotations

from . import gru, lstm, rnn
from .base import Cell

CELLS: dict[str, Cell] = {
    "gru": gru.CELL,
    "lstm": lstm.CELL,
    "rnn": rnn.CELL,
}


def get_cell(name: str) -> Cell:
    try:
        return CELLS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown cell {name!r}; cells are: {', '.join(CELLS)}") from None


__all__ = ["CELLS", "Cell", "get_cell"]
