"""Prepare, in idle time, the panel that will show the next Step.

Within a phase the panel in front stays: its heatmaps colour the next step's
images and make their cell labels beforehand (``TensorPanel.prepare_ahead``),
and the click only hands them over.

Stepping from one phase into the next often raises another tensor panel (Loss
to Zero grad brings up Gradients). At the large sizes that panel's first showing
in an iteration costs several times a plain step: every heatmap gets new
numbers, and every image is coloured and drawn. A :class:`PanelAhead` watches
the cursor; once the window has been idle for a moment, and the next step
belongs to a hidden panel that follows the cursor, it fills that panel with the
next step's numbers and paints it off screen. When the click comes, the
heatmaps see numbers they already show and the images are already coloured:
the panel is only shown.

The panel is left *stale* (and given back the current snapshot), so whatever
happens instead of that Step (Step Back, an edit) makes it catch up as usual
before it is seen.
"""
from __future__ import annotations

import logging
from typing import Callable

from PySide6 import QtCore

from ...core.model.phases import PHASE_FACTS
from ...core.analysis.snapshot import Snapshot
from .tensor_panel import TensorPanel

log = logging.getLogger(__name__)

AHEAD_MS = 40  # idle time after a change before the next panel is painted
KEPT_KEYS = 32  # the last keys kept in ``painted`` and ``prepared``


class PanelAhead(QtCore.QObject):
    """See the module docstring. ``panels``: tensor panels by key; ``following``: whether a Step
    brings the phase's panel to the front (the View menu's follow switch)."""

    def __init__(self, controller, panels: dict[str, TensorPanel], following: Callable[[], bool],
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._controller = controller
        self._panels = panels
        self._following = following
        self._snapshot: Snapshot | None = None
        self.painted: list[str] = []   # keys of the last panels painted ahead (for tests)
        self.prepared: list[str] = []  # keys of the last panels whose heatmaps prepared the next step
        self.enabled = True
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(AHEAD_MS)
        self._timer.timeout.connect(self._paint_next)

    def set_enabled(self, enabled: bool) -> None:
        """Off: nothing is prepared or painted ahead (the screenshot generator: a hidden panel
        painted with the next step's numbers keeps the room its titles and axes needed, and
        whether the idle timer fires between two stops depends on the machine's speed)."""
        self.enabled = bool(enabled)
        if not self.enabled:
            self._timer.stop()

    def on_changed(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        if self.enabled:
            self._timer.start()

    def next_panel(self, snapshot: Snapshot) -> "tuple[TensorPanel, Snapshot, TensorPanel | None] | None":
        """The panel that will show the next Step (the one in front, or the hidden one that Step
        brings to the front), that step's snapshot, and the panel in front now."""
        following = snapshot.ahead()
        if following is None or following.step is None:
            return None
        front = next((p for p in self._panels.values() if p.is_showing()), None)
        panel = self._panels.get(PHASE_FACTS[following.step.phase].panel) if self._following() else front
        if panel is None or panel.isWindow():
            return None
        return panel, following, front

    def _paint_next(self) -> None:
        snapshot, now = self._snapshot, self._controller.snapshot()
        if snapshot is None or not snapshot.same_as(now):
            return
        try:
            found = self.next_panel(snapshot)
            if found is None:
                return
            panel, following, front = found
            key = next(k for k, p in self._panels.items() if p is panel)
            if panel.is_showing():  # the step stays on screen: its numbers, coloured and labelled
                if panel.prepare_ahead(following):
                    _note(self.prepared, key)
            elif front is not None and panel.paint_ahead(following, front.size()):
                _note(self.painted, key)
        except Exception:  # never raise out of a timer: the click paints the panel itself
            log.exception("could not paint the next panel ahead")

def _note(keys: list[str], key: str) -> None:
    keys.append(key)
    del keys[:-KEPT_KEYS]
