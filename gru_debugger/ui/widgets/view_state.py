"""What the person is looking at (not part of the model): the selected batch
row and hidden unit, and whether panels follow the cursor."""
from __future__ import annotations

from PySide6 import QtCore


class ViewState(QtCore.QObject):
    changed = QtCore.Signal()

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._batch_row = 0
        self._unit = 0
        self.param = "h2g.weight"  # the parameter the update panel shows
        self.follow = True  # raise the panel of the current phase as the cursor moves

    @property
    def batch_row(self) -> int:
        return self._batch_row

    @property
    def unit(self) -> int:
        return self._unit

    def select(self, batch_row: int | None = None, unit: int | None = None) -> None:
        new_b = self._batch_row if batch_row is None else batch_row
        new_u = self._unit if unit is None else unit
        if (new_b, new_u) != (self._batch_row, self._unit):
            self._batch_row, self._unit = new_b, new_u
            self.changed.emit()

    def select_param(self, name: str) -> None:
        if name != self.param:
            self.param = name
            self.changed.emit()

    def clamp(self, batch_size: int, hidden_size: int) -> None:
        """Keep the selection valid after B or H shrank."""
        self.select(min(self._batch_row, batch_size - 1), min(self._unit, hidden_size - 1))
