"""The Update panel: one parameter before the step, its gradient, −lr·grad and after."""
from __future__ import annotations

import numpy as np

from ...core.base.config import PARAM_NAMES
from ...core.analysis.snapshot import Snapshot
from ..widgets import kinds
from ..widgets.heatmap import HeatmapData
from .spec_helpers import (change_roundoff, family_levels, full_roundoff, gradient_scale, honest, mark_roundoff, missing,
                           parameter_levels, param_placeholder, param_view, roundoff_of, writes)
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
            data.roundoff = data.roundoff_base = None   # param_view marks the weights after the update
        elif which == "grad":
            data = param_view(snap, name, source="grad", title=f"dL/d {name}")
        elif which == "step":
            if grad is None:
                return missing(f"−lr·grad  (lr={lr:g})", "after backward", *param_placeholder(snap, name))
            data = param_view(snap, name, source="grad", title=f"−lr·grad  (lr={lr:g})")
            step = snap.get(f"update/{name}") if snap.phase_done("update") else None
            shown = step if step is not None else (-lr * grad).astype(np.float32)
            if step is not None:
                roundoff, final = roundoff_of(snap, f"update/{name}"), None
            else:  # the preview: −lr times a round-off gradient is round-off too (exactly 0 times lr is 0)
                roundoff = roundoff_of(snap, f"grad/{name}")
                roundoff = None if roundoff is None else roundoff & (shown != 0)
                final = (-lr * snap.final(f"grad/{name}")).astype(np.float32)
                final = honest(final, full_roundoff(snap, f"grad/{name}"))
                data.title += "  (preview)"
            data.data = shown if shown.ndim == 2 else shown[None, :]
            # its own colour scale (the step is lr times the gradient), never stretched by round-off
            data.levels = family_levels(final, honest(shown, roundoff), scale=lr * gradient_scale(snap))
            data.roundoff = None
            mark_roundoff(data, roundoff)
        else:
            after = snap.get(f"updated/{name}")
            if after is None:
                return missing(f"{name} after", "after the update", *param_placeholder(snap, name),
                               levels=parameter_levels(snap, name))
            data = param_view(snap, name, title=f"{name} after")
            data.data = after if after.ndim == 2 else after[None, :]   # hatched by param_view (mark_changes)
        if data.data is not None and which in ("before", "after"):
            data.levels = parameter_levels(snap, name)
        return data
    build.__name__ = f"update_{which}"
    return build


def notice(snap: Snapshot):
    """What the hatching means, once some gradient or step has round-off cells (None otherwise)."""
    if not snap.phase_done("backward"):
        return None
    keys = [f"grad/{n}" for n in PARAM_NAMES] + [f"update/{n}" for n in PARAM_NAMES]
    if all(roundoff_of(snap, key) is None for key in keys):
        return None
    text = (f"Hatched cells are round-off: 0 in exact arithmetic, non-zero in {snap.config.dtype} only through "
            "rounding (hover one for its value). A step of −lr times such a gradient is round-off too")
    if any(change_roundoff(snap, n) is not None for n in PARAM_NAMES):
        text += (", and a hatched weight after the update moved only by that round-off: in exact arithmetic "
                 "it keeps its value from before")
    return (text + ".", None)


UPDATE_SPECS = [
    Spec("update_before", S, 0, 0, writes(_update_view("before"), (), reads=("update",))),
    Spec("update_grad", S, 0, 1, writes(_update_view("grad"), ("zero_grad",), reads=("update",))),
    Spec("update_step", S, 1, 0, writes(_update_view("step"), ("update",))),
    Spec("update_after", S, 1, 1, writes(_update_view("after"), ("update",), main=True)),
]

INTRO = ("SGD: each weight moves by −lr × its gradient. Before the update runs, the step is a preview that "
         "follows the learning rate.")
