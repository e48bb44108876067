"""The registry of the cells' UI modules: one line per cell (see README, "Adding a cell")."""
from __future__ import annotations

from . import gru, lstm, rnn
from .base import CellUI

VIEWS: dict[str, CellUI] = {
    "gru": gru.VIEW,
    "lstm": lstm.VIEW,
    "rnn": rnn.VIEW,
}


def cell_view(name: str) -> CellUI:
    return VIEWS[name]


__all__ = ["VIEWS", "CellUI", "cell_view"]
