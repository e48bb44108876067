"""The Parameters panel: every weight as it stands at the cursor."""
from __future__ import annotations


from ...core.base.config import PARAM_NAMES
from ...core.analysis.snapshot import Snapshot
from ..widgets import kinds
from ..widgets.heatmap import HeatmapData
from .spec_helpers import param_view, writes
from .tensor_panel import Spec
from ..widgets.view_state import ViewState

S = kinds.SIGNED


def _param(name: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return param_view(snap, name)
    build.__name__ = f"param_{name}"
    return writes(build, ("update",))


# The two V-row matrices span both rows; each bias sits under its weight matrix.
PARAM_SPECS = [
    Spec(f"param/{name}", S, row, col, _param(name), editable_param=name, rowspan=span)
    for name, row, col, span in zip(PARAM_NAMES, (0, 0, 1, 0, 1, 0), (0, 1, 1, 2, 2, 3), (2, 1, 1, 1, 1, 2))
]

INTRO = "Every weight of the model as it stands at the cursor (updated after the update phase)."
