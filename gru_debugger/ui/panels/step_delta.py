"""The window side of "Δ since last step" (View menu, toolbar, Ctrl+D; off by default).

When it is on, every tensor heatmap shows what the last step changed:
now − the same heatmap at the position the user was at before the step
(which position that is, after Step Back, an edit or at the start of an
iteration: see core/analysis/step_delta.py). Differences are taken in float64 from the
two recorded arrays, so a cell the step did not change is exactly 0 (the
neutral middle of the diverging map) and what the step wrote stands out;
hover gives both values and Δ. Titles say what is shown:

* ``Δ h  (since last step)``: a difference;
* ``h  (new this step: values, not Δ)``: the heatmap had no numbers before
  the step, or gained cells (e.g. a new column over time): its values are
  shown as they are, since there is nothing to subtract;
* ``h  (values until the next step)``: no step yet, or none since the model
  changed (the status bar says which): plain values.

It and "Show Difference from Baseline" are exclusive: switching one on
switches the other off (the baseline stays pinned). Heatmaps are drawn with
the same items either way; when off nothing is computed (following the
cursor only keeps a reference to the previous snapshot).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6 import QtCore, QtGui

from ...core.analysis.baseline import NotComparable, difference
from ...core.analysis.snapshot import Snapshot
from ...core.analysis.step_delta import StepTracker, position_label
from ..widgets.heatmap import HeatmapData
from .comparison_status import ComparisonStatus
from ..widgets.subscribe import subscribe

SHORTCUT = "Ctrl+D"
DELTA_SUFFIX = "  (since last step)"
NEW_SUFFIX = "  (new this step: values, not Δ)"
PAUSED_SUFFIX = "  (values until the next step)"   # the status bar says why (no step yet, the model changed)
PAUSED = "paused"
BEFORE_LABEL = "before this step"  # the hover text: "now …, before this step …, Δ …"


@dataclass(frozen=True)
class StepBefore:
    """A heatmap as it was before the last step (``data``), or why there is no such thing (``why``)."""

    data: HeatmapData | None
    why: str = ""


class StepDeltaHolder(QtCore.QObject):
    """Whether heatmaps show Δ since last step, and the tracker of the previous position."""

    changed = QtCore.Signal()

    def __init__(self, controller, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.tracker = StepTracker()
        self.on = False
        self.tracker.observe(controller.snapshot())
        subscribe(controller.changed, self, self.tracker.observe)

    def set_on(self, on: bool) -> None:
        on = bool(on)
        if on != self.on:
            self.on = on
            self.changed.emit()

    def before(self, snapshot: Snapshot) -> Snapshot | str:
        return self.tracker.before(snapshot)


def before_view(snapshot: Snapshot, holder: StepDeltaHolder, build) -> StepBefore:
    """What a heatmap's builder showed before the last step that led to ``snapshot``."""
    before = holder.before(snapshot)
    if isinstance(before, str):
        return StepBefore(None, PAUSED)
    try:
        data = build(before)
    except (KeyError, IndexError, ValueError, TypeError):
        return StepBefore(None, "values: not comparable with the previous position")
    return StepBefore(data if isinstance(data, HeatmapData) else None, "" if isinstance(data, HeatmapData) else
                      "values: not comparable with the previous position")


def _valid(spec: HeatmapData, shape: tuple[int, ...]) -> np.ndarray:
    if spec.valid is None:
        return np.ones(shape, dtype=bool)
    valid = np.asarray(spec.valid, dtype=bool)
    return valid.reshape(shape) if valid.size == int(np.prod(shape)) else np.broadcast_to(valid, shape)


def step_view(now: HeatmapData, before: StepBefore) -> HeatmapData:
    """``now`` as Δ since last step (or as values, its title saying why)."""
    if now.data is None:
        return now
    if before.data is None:
        return replace(now, title=now.title + (PAUSED_SUFFIX if before.why == PAUSED else f"  ({before.why})"))
    old = before.data
    if old.data is None:
        return replace(now, title=now.title + NEW_SUFFIX)
    got = difference(now.data, old.data)
    if isinstance(got, NotComparable):
        return replace(now, title=f"{now.title}  (values; {got})")
    now64, base64, delta = got
    if (_valid(now, delta.shape) & ~_valid(old, delta.shape)).any():   # cells written for the first time
        return replace(now, title=now.title + NEW_SUFFIX)
    return replace(now, data=delta, diff=(now64, base64), diff_label=BEFORE_LABEL, levels=None,
                   roundoff=_roundoff(now, old, delta), roundoff_base=None, title=f"Δ {now.title}{DELTA_SUFFIX}")


def _exact(spec: HeatmapData, values: np.ndarray) -> np.ndarray:
    """The values as exact arithmetic has them: a round-off cell is 0 (or its ``roundoff_base``,
    a weight that only round-off moved keeps its value from before the update)."""
    if spec.roundoff is None:
        return values
    mask = np.asarray(spec.roundoff, dtype=bool).reshape(values.shape)
    base = 0.0 if spec.roundoff_base is None else np.asarray(spec.roundoff_base).reshape(values.shape)
    return np.where(mask, base, values)


def _roundoff(now: HeatmapData, old: HeatmapData, delta: np.ndarray) -> np.ndarray | None:
    """A difference of two values that are equal in exact arithmetic (both 0, or a weight and what
    only round-off made of it) is round-off too (hatched); any other difference is not."""
    if now.roundoff is None and old.roundoff is None:
        return None
    now_values, old_values = np.asarray(now.data).reshape(delta.shape), np.asarray(old.data).reshape(delta.shape)
    mask = (_exact(now, now_values) == _exact(old, old_values)) & (delta != 0)
    return mask if mask.any() else None


def _ident(a: np.ndarray | None) -> tuple | None:
    return None if a is None else (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


def _mask_key(spec: HeatmapData) -> bytes | None:
    return None if spec.valid is None else np.asarray(spec.valid, dtype=bool).tobytes()


def cached_step_view(cache: dict, name: str, now: HeatmapData, before: StepBefore) -> HeatmapData:
    """:func:`step_view`, remembered while neither side changes (an unchanged heatmap is not redrawn).
    The entry keeps both source arrays alive, so their addresses name them."""
    old = before.data
    key = ("step", _ident(now.data), _mask_key(now), now.title, now.highlight, now.emphasis, before.why,
           None if old is None else (_ident(old.data), _mask_key(old)))
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    out = step_view(now, before)
    cache[name] = (key, out, now.data, None if old is None else old.data)
    return out


class StepDeltaStatus(ComparisonStatus):
    """The status-bar line while the view is on: which two positions are compared."""

    object_name = "step-delta-status"

    def refresh(self) -> None:
        if not self.holder.on:
            self.setText("")
            self.hide()
            return
        now = self.controller.snapshot()
        before = self.holder.before(now)
        if isinstance(before, str):
            self.setText(f"Δ since last step: {before} (plain values)")
        else:
            self.setText(f"Δ since last step: {position_label(now)} − {position_label(before)}")
        self.setToolTip("Heatmaps show now − the same heatmap before the last step (View → Δ since Last Step)")
        self.show()


def install_step_delta(window, baseline) -> QtGui.QAction:
    """The checkable action (View menu, toolbar: the window places it) and the status line.
    Panels see it through the baseline holder (``baseline.step_delta``); the two views are exclusive."""
    holder = StepDeltaHolder(window.controller, window)
    window.step_delta = holder
    action = QtGui.QAction("&Δ since Last Step", window)
    action.setObjectName("action-step-delta")
    action.setCheckable(True)
    action.setShortcut(QtGui.QKeySequence(SHORTCUT))
    action.setShortcutContext(QtCore.Qt.ShortcutContext.ApplicationShortcut)
    action.setToolTip(f"Heatmaps show what the last step changed: now − before the step; unchanged cells are 0"
                      f" ({SHORTCUT})")

    def on_toggled(on: bool) -> None:
        if on:
            baseline.set_show_diff(False)
        holder.set_on(on)

    def on_baseline() -> None:
        if baseline.show_diff and holder.on:
            holder.set_on(False)

    def sync() -> None:
        with QtCore.QSignalBlocker(action):
            action.setChecked(holder.on)

    action.toggled.connect(on_toggled)
    baseline.changed.connect(on_baseline)
    holder.changed.connect(sync)
    baseline.attach_step_delta(holder)
    window.step_delta_action = action
    window.step_delta_status = StepDeltaStatus(window.controller, holder, window)
    window.statusBar().addPermanentWidget(window.step_delta_status)
    return action
