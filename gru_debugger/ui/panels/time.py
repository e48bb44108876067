"""The Over time panel: the cell's state and gates for all timesteps of one batch row."""
from __future__ import annotations

from functools import lru_cache

from ...core.analysis.snapshot import Snapshot
from ..cells import cell_view
from ..widgets.heatmap import HeatmapData
from ..widgets.view_state import ViewState
from .spec_helpers import time_view
from .tensor_panel import Spec


def _over_time(key: str, title: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return time_view(snap, vs, key, title, "cell", "runs in the cell phase")
    build.__name__ = f"time_{key}"
    return build


@lru_cache(maxsize=8)
def time_specs(cell_name: str) -> tuple[Spec, ...]:
    view = cell_view(cell_name)
    specs = []
    for k, gate in enumerate(view.over_time):
        title = f"{view.gate_names[gate]} {gate} over time"
        specs.append(Spec(f"time_{gate}", view.kind(gate), k // 2, k % 2, _over_time(gate, title)))
    return tuple(specs)


INTRO = ("The cell's state and gates over all timesteps of the selected batch row; columns fill in as you step.")
