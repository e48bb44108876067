"""Pointing-hand cursor and hover highlight for custom-painted clickable widgets."""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtGui, QtWidgets


class HoverTracking(QtWidgets.QWidget):
    """Subclasses define ``_hover_key(point)``: what is under the mouse (None:
    nothing clickable). ``self._hover`` holds it; the widget repaints when it
    changes, so paint code can highlight the hovered part."""

    _hover: Any = None

    def _hover_key(self, point: QtCore.QPointF) -> Any:
        raise NotImplementedError

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt name)
        key = self._hover_key(event.position())
        if key != self._hover:
            self._hover = key
            if key is None:
                self.unsetCursor()
            else:
                self.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QtCore.QEvent) -> None:  # noqa: N802 (Qt name)
        if self._hover is not None:
            self._hover = None
            self.unsetCursor()
            self.update()
        super().leaveEvent(event)
