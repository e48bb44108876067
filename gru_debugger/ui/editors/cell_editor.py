"""Double-click a weight to type a new value; computed tensors say why not."""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.control.controller import Controller, ControllerError
from .edit_support import busy


class CellEditor(QtCore.QObject):
    message = QtCore.Signal(str)

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.controller = controller
        self.window = parent
        self.dialog: QtWidgets.QInputDialog | None = None
        self._target: tuple[str, tuple[int, ...]] | None = None

    @staticmethod
    def index_for(name: str, row: int, col: int) -> tuple[int, ...]:
        """Heatmap cell to parameter index: biases are drawn as one row."""
        return (col,) if name.endswith(".bias") else (row, col)

    def request(self, heatmap: str, row: int, col: int, param: str) -> None:
        if not param:
            self.message.emit(f"{heatmap} is computed from the inputs and weights, so it cannot be edited: "
                              "double-click a weight (a parameter heatmap) instead")
            return
        index = self.index_for(param, row, col)
        current = float(self.controller.snapshot().starting_param(param)[index])
        where = f"{param}[{', '.join(map(str, index))}]"
        self._target = (param, index)
        dialog = QtWidgets.QInputDialog(self.window)
        dialog.setObjectName("cell-editor")
        dialog.setWindowTitle(f"Edit {where}")
        dialog.setLabelText(f"New value for {where}\n(the weight at the start of this iteration; now {current:.7g})")
        dialog.setTextValue(f"{current:.7g}")
        dialog.textValueSelected.connect(self._on_value)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def _on_value(self, text: str) -> None:
        if self._target is not None:
            self.apply(*self._target, text)

    def apply(self, param: str, index: tuple[int, ...], text: str) -> bool:
        try:
            value = float(text.strip())
        except ValueError:
            self.message.emit(f"'{text}' is not a number; {param} is unchanged")
            return False
        try:
            with busy():
                self.controller.set_param(param, index, value)
        except ControllerError as exc:
            self.message.emit(f"{exc}; {param} is unchanged")
            return False
        self.message.emit(f"{param}[{', '.join(map(str, index))}] = {value:.7g}")
        return True
