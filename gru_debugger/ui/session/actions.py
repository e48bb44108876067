"""Small pieces of the session UI: the file filter and the History panel's dropped-steps line.

The File menu's session actions, the title bar, the close prompt and
autosave are in ``document.py`` (SessionDocument).
"""
from __future__ import annotations

from PySide6 import QtWidgets

from ...core.control.controller import Controller
from ...core.storage.session import SESSION_SUFFIX
from ..widgets.subscribe import subscribe

FILTER = f"GRU Debugger sessions (*{SESSION_SUFFIX});;All files (*)"


def follow_history_note(view: QtWidgets.QUndoView, controller: Controller, empty: str = "<start>") -> None:
    """Show "(N older steps dropped to save memory)" as the History view's first line."""
    def update() -> None:
        view.setEmptyLabel(controller.history_note or empty)
    subscribe(controller.history_changed, view, update)
    update()
