"""Shared by the editing panels: an inline error line that runs edits."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from PySide6 import QtCore, QtWidgets

from ...core.controller import ControllerError

ERROR_STYLE = "color: #d0342c;"
HINT_STYLE = "color: palette(placeholder-text);"

log = logging.getLogger(__name__)


@contextmanager
def busy() -> Iterator[None]:
    """A wait cursor while an edit recomputes (large models take a moment)."""
    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()


class ErrorLine(QtWidgets.QLabel):
    """Red text under a panel's controls; empty (hidden) when all is well."""

    def __init__(self, parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.setObjectName("edit-error")
        self.setWordWrap(True)
        self.setStyleSheet(ERROR_STYLE)
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))

    def attempt(self, action: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
        """Run one controller edit; show its refusal here instead of raising."""
        try:
            with busy():
                action(*args, **kwargs)
        except ControllerError as exc:
            self.show_message(str(exc))
            return False
        except Exception as exc:  # a slot must not raise
            log.exception("edit failed")
            self.show_message(f"the edit failed: {exc}")
            return False
        self.show_message("")
        return True
