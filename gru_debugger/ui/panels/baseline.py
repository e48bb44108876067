"""The window side of the pinned baseline (core/analysis/baseline.py).

``BaselineHolder`` keeps the pinned pair and whether heatmaps show the
difference; ``diff_view`` turns one heatmap's data into now − baseline;
``install_baseline`` adds the Edit-menu and toolbar actions and the status-bar
line. The baseline is a reference, not part of the undo history.

Panels also reach the "Δ since last step" view (panels/step_delta.py) through
the holder: ``active`` is true while either comparison is shown, and
``base_views`` / ``DiffCache`` hand a heatmap to whichever it is. The two are
exclusive (switching one on switches the other off).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
from PySide6 import QtCore, QtGui

from ...core.analysis.baseline import Baseline, NotComparable, baseline_snapshot, diff, difference, pin
from ...core.analysis.snapshot import Snapshot
from ..widgets.heatmap import HeatmapData
from .comparison_status import ComparisonStatus
from .step_delta import StepBefore, before_view, cached_step_view


class BaselineHolder(QtCore.QObject):
    """The pinned baseline (or None) and the "show difference" switch."""

    changed = QtCore.Signal()

    def __init__(self, controller, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.baseline: Baseline | None = None
        self.show_diff = False
        self.step_delta = None   # a StepDeltaHolder once the window installs one

    @property
    def showing_baseline(self) -> bool:
        """Heatmaps show now − baseline."""
        return self.baseline is not None and self.show_diff

    @property
    def active(self) -> bool:
        """Heatmaps show differences: from the baseline, or since the last step."""
        return self.showing_baseline or (self.step_delta is not None and self.step_delta.on)

    def attach_step_delta(self, step_delta) -> None:
        """Panels follow the "Δ since last step" switch through this holder's ``changed``."""
        self.step_delta = step_delta
        step_delta.changed.connect(self.changed)

    def pin(self) -> Baseline:
        self.baseline = pin(self.controller)
        self.show_diff = True
        self.changed.emit()
        return self.baseline

    def clear(self) -> None:
        self.baseline = None
        self.show_diff = False
        self.changed.emit()

    def set_show_diff(self, on: bool) -> None:
        on = bool(on) and self.baseline is not None
        if on != self.show_diff:
            self.show_diff = on
            self.changed.emit()


def _ident(a: np.ndarray) -> tuple:
    return (a.__array_interface__["data"][0], a.shape, a.strides, a.dtype.str)


class DiffCache:
    """One panel's differences, remembered while neither side changes (so a
    click that changes nothing repaints nothing)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple, HeatmapData]] = {}

    def view(self, name: str, now: HeatmapData, base: HeatmapData | NotComparable | StepBefore) -> HeatmapData:
        if isinstance(base, StepBefore):
            return cached_step_view(self._cache, name, now, base)
        if now.data is None:
            return now
        if isinstance(base, NotComparable):
            return HeatmapData(None, now.title, note=str(base))
        if base.data is None:
            return HeatmapData(None, now.title, note="not comparable (not computed in the baseline)")
        key = (_ident(now.data), _ident(base.data), None if now.valid is None else now.valid.tobytes(),
               now.title, now.highlight)
        hit = self._cache.get(name)
        if hit is not None and hit[0] == key:
            return hit[1]
        got = difference(now.data, base.data)
        if isinstance(got, NotComparable):
            out = HeatmapData(None, now.title, note=str(got))
        else:
            now64, base64, delta = got
            out = replace(now, data=delta, diff=(now64, base64), levels=None, title=f"Δ {now.title}")
        self._cache[name] = (key, out)
        return out


def base_views(snapshot: Snapshot, holder: BaselineHolder, build: Callable[[Snapshot], HeatmapData]
               ) -> HeatmapData | NotComparable | StepBefore:
    """What a heatmap's builder shows for the baseline at the same cursor (or, for "Δ since
    last step", before the last step)."""
    if not holder.showing_baseline and holder.step_delta is not None and holder.step_delta.on:
        return before_view(snapshot, holder.step_delta, build)
    assert holder.baseline is not None
    base = baseline_snapshot(snapshot, holder.baseline)
    if isinstance(base, NotComparable):
        return base
    try:
        data = build(base)
    except (KeyError, IndexError, ValueError, TypeError) as exc:  # the baseline lacks what this view needs
        return NotComparable(f"the baseline has no such values: {exc}")
    return data if isinstance(data, HeatmapData) else NotComparable("not a heatmap")


def delta_text(snapshot: Snapshot, baseline: Baseline) -> str:
    """'Δloss +0.0123 · Δloss after −0.0040' at the cursor (or why not)."""
    parts = []
    for key, name in (("loss", "Δloss"), ("loss_after", "Δloss after")):
        got = diff(snapshot, baseline, key)
        if got is None:
            continue
        if isinstance(got, NotComparable):
            return f"Δloss: {got}"
        parts.append(f"{name} {float(got[2]):+.6g}".replace("-", "−"))
    return " · ".join(parts) if parts else "Δloss: not computed yet at this step"


class BaselineStatus(ComparisonStatus):
    """The status-bar line: where the baseline was pinned and Δloss at the cursor."""

    object_name = "baseline-status"

    def refresh(self) -> None:
        base = self.holder.baseline
        if base is None:
            self.setText("")
            self.setToolTip("")
            self.hide()
            return
        shown = "differences shown" if self.holder.show_diff else "differences hidden"
        self.setText(f"Baseline: iteration {base.iteration} · {delta_text(self.controller.snapshot(), base)}")
        self.setToolTip(f"{base.describe()}; {shown}. Clear it from the Edit menu.")
        self.show()


def install_baseline(window) -> BaselineHolder:
    """Edit menu and toolbar actions, the status-bar line; panels follow the holder."""
    holder = BaselineHolder(window.controller, window)
    window.baseline = holder
    pin_action = QtGui.QAction("&Pin as Baseline", window)
    pin_action.setObjectName("action-pin-baseline")
    pin_action.setToolTip("Keep the current weights and numbers as a reference; heatmaps then show now − baseline")
    clear_action = QtGui.QAction("&Clear Baseline", window)
    clear_action.setObjectName("action-clear-baseline")
    clear_action.setToolTip("Forget the baseline; heatmaps show plain values again")
    show_action = QtGui.QAction("Show &Difference from Baseline", window)
    show_action.setObjectName("action-show-diff")
    show_action.setCheckable(True)
    show_action.setToolTip("Heatmaps show now − baseline at the same step (diverging colours, 0 in the middle)")

    def on_pin() -> None:
        base = holder.pin()
        window.statusBar().showMessage(base.describe(), 10000)

    def on_clear() -> None:
        holder.clear()
        window.statusBar().showMessage("Baseline cleared: plain values", 5000)

    def sync() -> None:
        pinned = holder.baseline is not None
        clear_action.setEnabled(pinned)
        show_action.setEnabled(pinned)
        with QtCore.QSignalBlocker(show_action):
            show_action.setChecked(holder.show_diff)

    pin_action.triggered.connect(on_pin)
    clear_action.triggered.connect(on_clear)
    show_action.toggled.connect(holder.set_show_diff)
    holder.changed.connect(sync)
    sync()
    window.pin_baseline_action, window.clear_baseline_action = pin_action, clear_action
    window.show_diff_action = show_action
    window.baseline_status = BaselineStatus(window.controller, holder, window)
    window.statusBar().addPermanentWidget(window.baseline_status)
    for panel in window.panels.values():
        panel.attach_baseline(holder)
    return holder
