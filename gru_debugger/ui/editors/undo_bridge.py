"""Qt's undo stack (Edit menu, Ctrl+Z, the history view) over the controller's.

The controller owns the real history (complete states from before and after
each change). This bridge mirrors it into a QUndoStack so Qt's actions and
QUndoView work, whichever side starts an undo.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui

from ...core.control.controller import Controller, ControllerError
from ..widgets.subscribe import subscribe


class _Mirror(QtGui.QUndoCommand):
    def __init__(self, bridge: "UndoBridge", text: str):
        super().__init__(text)
        self.bridge = bridge
        self.first = True

    def redo(self) -> None:
        if self.first:  # QUndoStack.push runs redo(); the controller already did it
            self.first = False
            return
        self.bridge.forward("redo")

    def undo(self) -> None:
        self.bridge.forward("undo")


class UndoBridge(QtCore.QObject):
    error = QtCore.Signal(str)

    def __init__(self, controller: Controller, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.controller = controller
        self.stack = QtGui.QUndoStack(self)
        self._syncing = False
        self._dropped = controller.history_dropped  # oldest steps the controller had dropped at the last sync
        subscribe(controller.history_changed, self, self.sync)

    def forward(self, what: str) -> None:
        """A Qt-side undo/redo: carry it out on the controller."""
        if self._syncing:
            return
        self._syncing = True
        try:
            getattr(self.controller, what)()
        except ControllerError as exc:
            self.error.emit(str(exc))
        finally:
            self._syncing = False

    def sync(self) -> None:
        """Bring the Qt stack in line with the controller's history."""
        if self._syncing:
            return
        done, undone = self.controller.undo_texts, self.controller.redo_texts
        self._syncing = True
        try:
            index = self.stack.index()
            dropped = self.controller.history_dropped
            if dropped != self._dropped:                          # old steps left the front: the
                self._dropped = dropped                           # Qt labels would shift by one
                self._rebuild(done, undone)
            elif len(done) == index + 1 and not undone and self.stack.count() >= index:
                self.stack.push(_Mirror(self, done[-1]))          # a new change
            elif len(done) == index and index > 0 and not undone:
                top = self.stack.command(index - 1)               # merged into the last change
                if top is not None:
                    top.setText(done[-1])
                if self.stack.count() > index:                    # redo history was dropped
                    self._rebuild(done, undone)
            elif len(done) + len(undone) == self.stack.count():
                self.stack.setIndex(len(done))                    # undo/redo from elsewhere
            else:
                self._rebuild(done, undone)
        finally:
            self._syncing = False

    def _rebuild(self, done: list[str], undone: list[str]) -> None:
        self.stack.clear()
        for text in done + undone:
            self.stack.push(_Mirror(self, text))
        self.stack.setIndex(len(done))
