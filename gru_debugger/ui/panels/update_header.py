"""The parameter chooser above the update panel."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.base.config import PARAM_NAMES
from ..widgets.view_state import ViewState


class UpdateHeader(QtWidgets.QWidget):
    def __init__(self, view_state: ViewState, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.view_state = view_state
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QtWidgets.QLabel("Parameter:", self))
        self.combo = QtWidgets.QComboBox(self)
        self.combo.setObjectName("update-param")
        self.combo.addItems(PARAM_NAMES)
        self.combo.setCurrentText(view_state.param)
        self.combo.currentTextChanged.connect(view_state.select_param)
        layout.addWidget(self.combo)
        layout.addStretch(1)
        view_state.changed.connect(self._sync)

    def _sync(self) -> None:
        with QtCore.QSignalBlocker(self.combo):
            self.combo.setCurrentText(self.view_state.param)
