"""The status-bar line of a comparison view (the pinned baseline, Δ since last step)."""
from __future__ import annotations

from PySide6 import QtWidgets

from ..widgets.subscribe import subscribe


class ComparisonStatus(QtWidgets.QLabel):
    """A status-bar line about a comparison: refreshed when its holder or the controller changes."""

    object_name = ""

    def __init__(self, controller, holder, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(self.object_name)
        self.controller, self.holder = controller, holder
        holder.changed.connect(self.refresh)
        subscribe(controller.changed, self, lambda _snap: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError
