"""Specs of the backward panels: gradients, update, all parameters."""
from __future__ import annotations

import numpy as np

from ...core.config import PARAM_NAMES
from ...core.snapshot import Snapshot
from ..widgets import theme
from ..widgets.curve import CurveData
from ..widgets.heatmap import HeatmapData, symmetric_levels
from .spec_helpers import missing, param_view, time_view
from .tensor_panel import Spec
from ..widgets.view_state import ViewState

S = theme.SIGNED


def _grad_h(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return time_view(snap, vs, "grad/h", "dL/dh_t  (gradient through time)", "backward", "fills in during backward",
                     kind_signed=True)


def _grad_norm(snap: Snapshot, vs: ViewState) -> CurveData:
    """log10 ‖dL/dh_t‖ per timestep: vanishing or exploding gradients show as a slope."""
    title = "log10 ‖dL/dh_t‖ per timestep"
    arr = snap.get("grad/h")
    T = snap.config.context_length
    if arr is None:
        return CurveData(title, note="not computed yet (backward)")
    mask = snap.time_mask("grad/h")
    norms = np.sqrt((arr.astype(np.float64) ** 2).sum(axis=(0, 2)))
    with np.errstate(divide="ignore"):
        all_logs = np.where(norms > 0, np.log10(np.where(norms > 0, norms, 1.0)), np.nan)
    logs = np.where(mask, all_logs, np.nan)
    finite = all_logs[np.isfinite(all_logs)]
    y_range = (float(finite.min()), float(finite.max()) if finite.max() > finite.min() else float(finite.min()) + 1) \
        if finite.size else None
    step = snap.step
    marker = float(step.t) if step is not None and step.phase == "backward" else None
    return CurveData(title, x=np.arange(T, dtype=float), ys={"all rows": logs}, x_title="t",
                     y_title="log10 norm", marker_x=marker, x_range=(0.0, max(T - 1, 1.0)), y_range=y_range)


def _grad(name: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return param_view(snap, name, source="grad", title=f"dL/d {name}")
    build.__name__ = f"grad_{name}"
    return build


GRADIENT_SPECS = [
    Spec("grad/h", S, 0, 0, _grad_h, colspan=2),
    Spec("grad_norm", "curve", 0, 2, _grad_norm),
    Spec("grad/x2g.weight", S, 1, 0, _grad("x2g.weight")),
    Spec("grad/h2g.weight", S, 1, 1, _grad("h2g.weight")),
    Spec("grad/lm_head.weight", S, 1, 2, _grad("lm_head.weight"), rowspan=2),
    Spec("grad/x2g.bias", S, 2, 0, _grad("x2g.bias")),
    Spec("grad/h2g.bias", S, 2, 1, _grad("h2g.bias")),
    Spec("grad/wte.weight", S, 3, 0, _grad("wte.weight"), colspan=3),
]


def _update_view(which: str):
    """Before / gradient / step / after for the parameter chosen in the panel."""
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        name = vs.param
        lr = snap.config.learning_rate
        before = snap.trace[f"param/{name}"]
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
            data.levels = symmetric_levels(before, snap.trace[f"updated/{name}"])
        return data
    build.__name__ = f"update_{which}"
    return build


UPDATE_SPECS = [
    Spec("update_before", S, 0, 0, _update_view("before")),
    Spec("update_grad", S, 0, 1, _update_view("grad")),
    Spec("update_step", S, 1, 0, _update_view("step")),
    Spec("update_after", S, 1, 1, _update_view("after")),
]


def _param(name: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return param_view(snap, name)
    build.__name__ = f"param_{name}"
    return build


PARAM_SPECS = [
    Spec(f"param/{name}", S, row, col, _param(name), editable_param=name)
    for name, row, col in zip(PARAM_NAMES, (0, 0, 1, 0, 1, 0), (0, 1, 1, 2, 2, 3))
]
