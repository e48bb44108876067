"""Numbers printed inside heatmap cells, drawn by one item in one pass.

One GraphicsObject paints every label (many pyqtgraph TextItems would each
be a scene item with its own transform, far slower to update). Each distinct
label is laid out once, as a QStaticText kept for later paints (drawText lays
out its string again on every call). Labels are
drawn at screen size and only when the cells are large enough to hold them,
which it checks at paint time, so zooming and resizing need no bookkeeping.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

CHAR_WIDTH = 6.5   # px, at the 8 pt font
MIN_HEIGHT = 14.0  # px a cell needs for a line of text


class CellTexts(pg.GraphicsObject):
    def __init__(self):
        super().__init__()
        self._shape = (0, 0)
        self._items: list[tuple[float, float, str, bool]] = []  # x, y, text, dark text?
        self._chars = 0
        self._font = QtGui.QFont()
        self._font.setPointSize(8)
        self._static: dict[str, tuple[QtGui.QStaticText, float, float]] = {}  # text -> laid out, half w, half h
        self._pens = {True: QtGui.QPen(QtGui.QColor("#000000")), False: QtGui.QPen(QtGui.QColor("#ffffff"))}

    def set_cells(self, texts: list[tuple[int, int, str, bool]], shape: tuple[int, int]) -> None:
        self.prepareGeometryChange()
        self._shape = shape
        self._items = [(c + 0.5, r + 0.5, text, dark) for r, c, text, dark in texts]
        self._chars = max((len(t) for _, _, t, _ in self._items), default=0)
        self.update()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt name)
        rows, cols = self._shape
        return QtCore.QRectF(0, 0, cols, rows)

    def fits(self, transform: QtGui.QTransform) -> bool:
        cell = transform.map(QtCore.QLineF(0, 0, 1, 0)).length(), transform.map(QtCore.QLineF(0, 0, 0, 1)).length()
        return cell[0] >= CHAR_WIDTH * max(self._chars, 4) + 4 and cell[1] >= MIN_HEIGHT

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        if not self._items:
            return
        transform = painter.transform()
        if not self.fits(transform):
            return
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        pen = None
        for x, y, text, dark in self._items:
            static = self._static.get(text)
            if static is None:
                static = self._static[text] = self._layout(text)
            if dark is not pen:
                pen = dark
                painter.setPen(self._pens[dark])
            centre = transform.map(QtCore.QPointF(x, y))
            painter.drawStaticText(QtCore.QPointF(centre.x() - static[1], centre.y() - static[2]), static[0])
        painter.restore()

    def _layout(self, text: str) -> tuple[QtGui.QStaticText, float, float]:
        if len(self._static) > 4096:  # values change as you edit: keep the cache bounded
            self._static.clear()
        static = QtGui.QStaticText(text)
        static.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        static.prepare(QtGui.QTransform(), self._font)
        size = static.size()
        return static, size.width() / 2, size.height() / 2


def cell_labels(data: np.ndarray, valid: np.ndarray | None, levels: tuple[float, float], cmap: pg.ColorMap,
                fmt) -> list[tuple[int, int, str, bool]]:
    """(row, col, text, dark-text?) for every computed cell."""
    lo, hi = levels
    span = hi - lo if hi != lo else 1.0
    fracs = np.clip((np.nan_to_num(data, nan=lo + span / 2) - lo) / span, 0, 1)
    rgb = cmap.map(fracs.reshape(-1), mode="float")[:, :3]
    light = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).reshape(data.shape) > 0.55
    out = []
    rows, cols = data.shape
    for r in range(rows):
        for c in range(cols):
            if valid is None or valid[r, c]:
                out.append((r, c, fmt(data[r, c]), bool(light[r, c])))
    return out
