"""File → Save Session… / Open Session… and the History panel's dropped-steps line.

Nothing here edits the main window; it wires itself with three calls (see
the functions). Opening a session makes a new Controller, which the window
must adopt (``open_session`` returns it; a window that cannot swap its
controller can open a new window on it instead).
"""
from __future__ import annotations

from typing import Callable

from PySide6 import QtGui, QtWidgets

from ...core.controller import Controller, ControllerError
from ...core.session import SESSION_SUFFIX

FILTER = f"GRU Debugger sessions (*{SESSION_SUFFIX});;All files (*)"


def save_session(parent: QtWidgets.QWidget, controller: Controller) -> str | None:
    """Ask for a file name and save; a refusal is shown, not raised. Returns the path or None."""
    path, _ = QtWidgets.QFileDialog.getSaveFileName(parent, "Save Session", f"session{SESSION_SUFFIX}", FILTER)
    if not path:
        return None
    if not path.endswith(SESSION_SUFFIX):
        path += SESSION_SUFFIX
    try:
        controller.save(path)
    except ControllerError as exc:
        QtWidgets.QMessageBox.warning(parent, "Save Session", str(exc))
        return None
    return path


def open_session(parent: QtWidgets.QWidget) -> Controller | None:
    """Ask for a session file and load it into a new controller (None if cancelled or refused)."""
    path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, "Open Session", "", FILTER)
    if not path:
        return None
    try:
        return Controller.load(path)
    except ControllerError as exc:
        QtWidgets.QMessageBox.warning(parent, "Open Session", str(exc))
        return None


def session_actions(parent: QtWidgets.QWidget, controller: Callable[[], Controller],
                    adopt: Callable[[Controller], None]) -> list[QtGui.QAction]:
    """Save Session… (Ctrl+S) and Open Session… (Ctrl+O) for the File menu."""
    save = QtGui.QAction("Save Session…", parent)
    save.setShortcut(QtGui.QKeySequence.StandardKey.Save)
    save.triggered.connect(lambda: save_session(parent, controller()))
    load = QtGui.QAction("Open Session…", parent)
    load.setShortcut(QtGui.QKeySequence.StandardKey.Open)

    def opened() -> None:
        new = open_session(parent)
        if new is not None:
            adopt(new)
    load.triggered.connect(opened)
    return [save, load]


def follow_history_note(view: QtWidgets.QUndoView, controller: Controller, empty: str = "<start>") -> None:
    """Show "(N older steps dropped to save memory)" as the History view's first line."""
    def update() -> None:
        view.setEmptyLabel(controller.history_note or empty)
    controller.history_changed.connect(update)
    update()
