"""The Gradients panel: dL/dh_t through time, its size per timestep, every parameter's gradient."""
from __future__ import annotations

import numpy as np

from ...core.base.config import PARAM_NAMES
from ...core.analysis.snapshot import Snapshot
from ..widgets import kinds
from ..widgets.curve import CurveData
from ..widgets.heatmap import HeatmapData
from .spec_helpers import full_roundoff, param_view, time_view, writes
from .tensor_panel import Spec
from ..widgets.view_state import ViewState

S = kinds.SIGNED


def _grad_h(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return time_view(snap, vs, "grad/h", "dL/dh_t  (gradient through time)", "backward", "fills in during backward",
                     kind_signed=True)


def log_norms(arr: np.ndarray) -> np.ndarray:
    """log10 of the norm over batch rows and units, per timestep (NaN where it is 0)."""
    norms = np.sqrt((arr.astype(np.float64) ** 2).sum(axis=(0, 2)))
    with np.errstate(divide="ignore"):
        return np.where(norms > 0, np.log10(np.where(norms > 0, norms, 1.0)), np.nan)


def y_range_of(*logs: np.ndarray) -> tuple[float, float] | None:
    values = np.concatenate([v[np.isfinite(v)] for v in logs]) if logs else np.zeros(0)
    if not values.size:
        return None
    low, high = float(values.min()), float(values.max())
    return (low, high) if high > low else (low - 0.5, low + 0.5)


def _grad_norm(snap: Snapshot, vs: ViewState) -> CurveData:
    """log10 of ‖T · dL/dh_t‖ (the sum of every position's loss) and of ‖dL_last/dh_t‖ (the last
    position's loss alone) per timestep. L is the mean over B·T positions and L_last over the B rows
    of the last one: T · L is the sum of the T positions' losses, each such a mean over B rows, so the
    two curves are on one scale and meet at t = T−1 (where only the last position's own term arrives).
    The sum gets a fresh term from each position, so only the second shows whether gradient survives
    the trip back."""
    title = "log10 ‖T · dL/dh_t‖ (all positions) and ‖dL_last/dh_t‖"
    arr, last = snap.get("grad/h"), snap.get("grad/h_last")
    T = snap.config.context_length
    axes = dict(x_title="t", y_title="log10 of the norm")  # the same before the numbers: no re-layout
    if arr is None or last is None:
        return CurveData(title, note="not computed yet (backward)", **axes)
    mask = snap.time_mask("grad/h")
    ys = {}
    full = []
    for name, key, values, scale in (("T · dL/dh_t (all)", "grad/h", arr, float(T)),
                                     ("dL_last/dh_t (last)", "grad/h_last", last, 1.0)):
        if _round_off(snap, key):
            continue  # zero in exact arithmetic: nothing to plot on a log scale
        logs = log_norms(values) + np.log10(scale)
        full.append(logs)
        ys[name] = np.where(mask, logs, np.nan)
    step = snap.step
    marker = float(step.t) if step is not None and step.phase == "backward" else None
    note = "" if ys else "only round-off (0 in exact arithmetic)"
    return CurveData(title, x=np.arange(T, dtype=float), ys=ys, **axes,
                     marker_x=marker, x_range=(0.0, max(T - 1, 1.0)), y_range=y_range_of(*full), note=note,
                     legend_corner="top right", legend_room=0.8, legend_columns=2)  # a short plot: one row on top


def empty_corner(logs: list[np.ndarray], T: int) -> str:
    """The lower corner the curves leave empty, for the legend: right when they fall towards t = 0,
    left when they rise (top right when that cannot be told)."""
    third = max(T // 3, 1)
    early = [v for curve in logs for v in curve[:third] if np.isfinite(v)]
    late = [v for curve in logs for v in curve[-third:] if np.isfinite(v)]
    if not early or not late:
        return "top right"
    return "bottom right" if np.mean(early) < np.mean(late) else "bottom left"


def _round_off(snap: Snapshot, key: str) -> bool:
    check = getattr(snap, "is_roundoff", None)
    return bool(check(key)) if check is not None else False


def _hatched(snap: Snapshot) -> bool:
    """Some gradient this panel shows has round-off cells in this iteration (look-ahead: the notice
    keeps its place from Zero grad on, so the panel's layout does not jump at the first backward step)."""
    return any(m is not None and bool(np.any(m)) for m in
               (full_roundoff(snap, key) for key in ("grad/h", *(f"grad/{n}" for n in PARAM_NAMES))))


def notice(snap: Snapshot):
    """Why gradients vanish, when the model's structure says so, with the fix where there is one;
    and what the hatching means wherever it is drawn. Shown from Zero grad on (the gradients are
    the iteration's, known from its start), None before or when there is nothing to say."""
    if not snap.phase_done("zero_grad"):
        return None
    diagnosis = snap.diagnosis()
    hatched = _hatched(snap)
    parts = [r.sentence[:1].upper() + r.sentence[1:] for r in diagnosis.reasons] if diagnosis is not None else []
    if hatched:
        parts.append(f"Hatched cells are round-off: 0 in exact arithmetic, non-zero in {snap.config.dtype} "
                     "only through rounding (hover one for its value).")
    if not parts:
        return None
    return " ".join(parts), (diagnosis.fix if diagnosis is not None else None)


def _grad(name: str):
    short = name.removesuffix(".weight") if name in ("wte.weight", "lm_head.weight") else name  # narrow columns

    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return param_view(snap, name, source="grad", title=f"dL/d {short}")
    build.__name__ = f"grad_{name}"
    return writes(build, ("backward", "zero_grad"))


GRADIENT_SPECS = [
    Spec("grad/h", S, 0, 0, _grad_h, colspan=2),
    Spec("grad_norm", "curve", 0, 2, _grad_norm, colspan=2),
    Spec("grad/x2g.weight", S, 1, 0, _grad("x2g.weight")),
    Spec("grad/h2g.weight", S, 1, 1, _grad("h2g.weight")),
    Spec("grad/lm_head.weight", S, 1, 2, _grad("lm_head.weight"), rowspan=3),
    Spec("grad/wte.weight", S, 1, 3, _grad("wte.weight"), rowspan=3),  # V rows each: side by side
    # the biases (one cell per gate row: 8 for the LSTM) under both weight matrices, not widening them
    Spec("grad/x2g.bias", S, 2, 0, _grad("x2g.bias"), colspan=2),
    Spec("grad/h2g.bias", S, 3, 0, _grad("h2g.bias"), colspan=2),
]

INTRO = ("Back-propagation through time: dL/dh_t fills in from t = T−1 down to 0, and the parameter gradients add "
         "up as it goes. The plot draws T · dL/dh_t, the gradient of the sum of the T positions' losses (L is "
         "their mean), on the scale of the last position's loss alone, L_last: the two meet at t = T−1. The sum "
         "gets a fresh term from every position's own prediction, so its size does not show vanishing; the "
         "last position's alone (second curve) does.")
