"""The Input panel: embedded tokens, the input dropout mask, the cell's input and wte."""
from __future__ import annotations

import numpy as np

from ...core.analysis.snapshot import Snapshot
from ..widgets import kinds
from ..widgets.heatmap import HeatmapData
from ..widgets.view_state import ViewState
from .spec_helpers import param_view, row_of, time_view, writes
from .tensor_panel import Spec

S, U, TH, P = kinds.SIGNED, kinds.UNIT, kinds.TANH, kinds.POSITIVE


def _embedded(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return time_view(snap, vs, "embedded", "embedded = wte[x]", "", "after embed", row_prefix="e")


def _mask_in(snap: Snapshot, vs: ViewState) -> HeatmapData:
    p = snap.config.dropout
    data = time_view(snap, vs, "dropout_in_mask", f"dropout mask (0 or 1/(1-p), p={p:g})", "", "after dropout",
                     row_prefix="e")
    data.levels = (0.0, 1.0 / (1.0 - p)) if data.data is not None else None
    return data


def _x_in(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return time_view(snap, vs, "x_in", f"x = embedded ⊙ mask ({snap.cell.title} input)", "", "after dropout",
                     row_prefix="e")


def _wte(snap: Snapshot, vs: ViewState) -> HeatmapData:
    data = param_view(snap, "wte.weight")
    if snap.phase_done("batch"):
        data.marks = [(int(i), 0) for i in np.unique(snap.final("x")[row_of(snap, vs)])]
        data.title += "  (outlined: tokens of row b)"
    return data


INPUT_SPECS = [
    Spec("embedded", S, 0, 0, writes(_embedded, ("embed",), main=True, reads=("dropout_in",))),
    Spec("dropout_in_mask", P, 0, 1, writes(_mask_in, ("dropout_in",))),
    Spec("x_in", S, 0, 2, writes(_x_in, ("dropout_in",), main=True)),
    Spec("wte.weight", S, 1, 0, writes(_wte, ("update",), reads=("embed",)), editable_param="wte.weight", colspan=3),
]

INTRO = ("Tokens become embedding rows; dropout zeroes some features and scales the rest by 1/(1−p). Columns "
         "are timesteps of the selected batch row.")
