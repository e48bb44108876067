"""The Compare cells panel: GRU, LSTM and plain RNN on the same batch.

Each curve is one cell; the same embedding, head, masks and batch, each with
its own x2g/h2g (the current ones for the chosen cell). Computed only while
the panel is on screen (three iterations' worth of work).
"""
from __future__ import annotations

import numpy as np

from ...core.cells import CELLS
from ...core.snapshot import Snapshot
from ..widgets.curve import CurveData
from ..widgets.view_state import ViewState
from .gradients import y_range_of
from .tensor_panel import Spec


def _log(norms: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(norms > 0, np.log10(np.where(norms > 0, norms, 1.0)), np.nan)


def _curve(which: str, title: str):
    def build(snap: Snapshot, vs: ViewState) -> CurveData:
        results = snap.compare_cells()
        T = snap.config.context_length
        ys = {CELLS[name].title + (" (chosen)" if name == snap.config.cell else ""):
              _log(getattr(r, which)) for name, r in results.items()}
        return CurveData(title, x=np.arange(T, dtype=float), ys=ys, x_title="t", y_title="log10 of the norm",
                         x_range=(0.0, max(T - 1, 1.0)), y_range=y_range_of(*ys.values()))
    build.__name__ = f"compare_{which}"
    return build


SPECS = (
    Spec("compare_last", "curve", 0, 0, _curve("last_norms", "‖dL_last/dh_t‖: the last position's loss, back in time")),
    Spec("compare_total", "curve", 0, 1, _curve("total_norms", "‖dL/dh_t‖: every position's loss")),
)


def caption(snap: Snapshot, vs: ViewState) -> str:
    results = snap.compare_cells()
    parts = [f"{CELLS[n].title} {r.loss:.4f} → {r.loss_after:.4f}" for n, r in results.items()]
    return "Loss before → after the update:  " + "   ·   ".join(parts)


INTRO = ("The same batch, embedding, head and dropout masks through each cell (the chosen cell with its current "
         "weights, the others with x2g and h2g drawn by their schemes). Left: how much of the last position's loss "
         "reaches h_t as t goes back; a steep fall towards t = 0 is a vanishing gradient, a rise an exploding one.")
