"""The Update panel: one parameter before the step, its gradient, −lr·grad and after."""
from __future__ import annotations

import numpy as np

from ...core.config import PARAM_NAMES
from ...core.snapshot import Snapshot
from ..widgets import kinds
from ..widgets.curve import CurveData
from ..widgets.heatmap import HeatmapData, symmetric_levels
from .spec_helpers import missing, param_view, time_view
from .tensor_panel import Spec
from ..widgets.view_state import ViewState

S = kinds.SIGNED


def _update_view(which: str):
    """Before / gradient / step / after for the parameter chosen in the panel."""
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        name = vs.param
        lr = snap.config.learning_rate
        before = snap.starting_param(name)
        grad = snap.get(f"grad/{name}")
        if which == "before":
            data = param_view(snap, name, title=f"{name} before")
            data.data = before if before.ndim == 2 else before[None, :]
        elif which == "grad":
            data = param_view(snap, name, source="grad", title=f"dL/d {name}")
        elif which == "step":
            if grad is None:
                return missing(f"−lr·grad  (lr={lr:g})", "after backward")
            data = param_view(snap, name, source="grad", title=f"−lr·grad  (lr={lr:g})")
            step = snap.get(f"update/{name}") if snap.phase_done("update") else None
            shown = step if step is not None else (-lr * grad).astype(np.float32)
            if not snap.phase_done("update"):
                data.title += "  (preview)"
            data.data = shown if shown.ndim == 2 else shown[None, :]
        else:
            after = snap.get(f"updated/{name}")
            if after is None:
                return missing(f"{name} after", "after the update")
            data = param_view(snap, name, title=f"{name} after")
            data.data = after if after.ndim == 2 else after[None, :]
        if data.data is not None and which in ("before", "after"):
            data.levels = symmetric_levels(before, snap.final(f"updated/{name}"))
        return data
    build.__name__ = f"update_{which}"
    return build


UPDATE_SPECS = [
    Spec("update_before", S, 0, 0, _update_view("before")),
    Spec("update_grad", S, 0, 1, _update_view("grad")),
    Spec("update_step", S, 1, 0, _update_view("step")),
    Spec("update_after", S, 1, 1, _update_view("after")),
]

INTRO = ("SGD: each weight moves by −lr × its gradient. Before the update runs, the step is a preview that "
         "follows the learning rate.")
