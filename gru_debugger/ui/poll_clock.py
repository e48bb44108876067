"""The window's clock for the controller's background work.

After an edit the controller shows the forward pass at once and holds
back-propagation for its worker until :meth:`Controller.poll` lets it go; poll
also announces the end. This clock calls poll while the controller is
computing, and looks for the answer of the float32/float64 check
(core/analysis/precision), starting it once back-propagation is done. The window owns
it, so the worker runs in any window, with a status line or without; the
status line only shows what the clock tells it (:attr:`busy_changed`) and what
the snapshots say.
"""
from __future__ import annotations

from PySide6 import QtCore

from ..core.control.controller import Controller
from ..core.analysis.snapshot import Snapshot
from .widgets.subscribe import subscribe

POLL_MS = 30              # how often to poll the controller while it computes
PRECISION_POLL_MS = 200   # how often to look for the answer of the float32/float64 check


class PollClock(QtCore.QObject):
    busy_changed = QtCore.Signal(bool)   # back-propagation started / finished on the worker
    precision_known = QtCore.Signal()    # the float32/float64 check of the current iteration has answered

    def __init__(self, controller: Controller, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self._poll = QtCore.QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll)
        self._precision = QtCore.QTimer(self)
        self._precision.setInterval(PRECISION_POLL_MS)
        self._precision.timeout.connect(self._look_for_precision)
        subscribe(controller.changed, self, self.on_changed)
        self.on_changed(controller.snapshot())

    @property
    def busy(self) -> bool:
        """Polling: the controller's background part is being computed."""
        return self._poll.isActive()

    def on_changed(self, _snapshot: Snapshot | None = None) -> None:
        if self.controller.computing and not self._poll.isActive():
            self._poll.start()
            self.busy_changed.emit(True)
        self._look_for_precision()

    def _on_poll(self) -> None:
        if not self.controller.poll():  # done (the controller has told the views)
            self._poll.stop()
            self.busy_changed.emit(False)
            self._look_for_precision()

    def _look_for_precision(self) -> None:
        """Start the check once back-propagation is done (it runs on its own worker) and look again
        until it has answered; then say so once."""
        snap = self.controller.snapshot()
        done, _found = snap.precision_known()
        if not done and self.controller.config.dtype == "float32":
            if not self.controller.computing:
                snap.start_precision_check()
            if not self._precision.isActive():
                self._precision.start()
        elif self._precision.isActive():
            self._precision.stop()
            self.precision_known.emit()
