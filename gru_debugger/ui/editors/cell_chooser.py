"""Choose the recurrent cell (GRU, LSTM, plain RNN): one undo step per choice."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.model.cells import CELLS
from ...core.control.controller import Controller
from ...core.analysis.snapshot import Snapshot
from ..widgets.subscribe import subscribe
from .edit_support import HINT_STYLE, ErrorLine


class CellChooser(QtWidgets.QGroupBox):
    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__("Recurrent cell", parent)
        self.setObjectName("cell-chooser")
        self.controller = controller
        layout = QtWidgets.QVBoxLayout(self)
        self.combo = QtWidgets.QComboBox(self)
        self.combo.setObjectName("cell-combo")
        for name, cell in CELLS.items():
            self.combo.addItem(f"{cell.title}: {cell.long_title}", name)
        self.combo.setToolTip("Applies at once (one undo step): x2g and h2g change shape and are drawn anew with "
                              "their schemes; the embedding and the head keep their values.")
        layout.addWidget(self.combo)
        self.hint = hint = QtWidgets.QLabel("Switch cells to compare them on the same text; Compare cells shows all three.", self)
        hint.setWordWrap(True)
        hint.setStyleSheet(HINT_STYLE)
        layout.addWidget(hint)
        self.error = ErrorLine(self)
        layout.addWidget(self.error)
        self.combo.activated.connect(self._on_activated)
        subscribe(controller.changed, self, self._sync)
        self._sync(controller.snapshot())

    def _sync(self, snapshot: Snapshot) -> None:
        index = self.combo.findData(snapshot.config.cell)
        if index != self.combo.currentIndex():
            with QtCore.QSignalBlocker(self.combo):
                self.combo.setCurrentIndex(index)

    def _on_activated(self, index: int) -> None:
        name = self.combo.itemData(index)
        if name != self.controller.config.cell and not self.error.attempt(self.controller.set_cell, name):
            self._sync(self.controller.snapshot())  # refused: show the cell that is really in use
