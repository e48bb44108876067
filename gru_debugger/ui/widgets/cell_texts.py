"""Numbers printed inside heatmap cells, drawn by one item in one pass.

One GraphicsObject paints every label (many pyqtgraph TextItems would each
be a scene item with its own transform, far slower to update). Each distinct
label is laid out once, as a QStaticText kept for later paints (drawText lays
out its string again on every call). Labels are drawn at screen size.

One rule for every heatmap: its labels are drawn when a cell, on screen, is
wide enough for its widest label and tall enough for a line; nothing else
(not the number of cells) decides, so same-sized cells holding numbers of the
same form print alike in every panel. The widest label is read off the
values (a sign, three decimals: see :func:`widest_label`) without making the
labels, and the check is made at paint time, so zooming and resizing need no
bookkeeping; the labels themselves are only made (from the values kept by
:meth:`CellTexts.set_values`) when they are first drawn: a heatmap whose
cells are too small costs next to nothing per step.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

POINT_SIZE = 8
PADDING = 6.0            # px left free across a cell (3 each side: clear of a cell outline)


def widest_label(data: np.ndarray, valid: np.ndarray | None, exponent: int = 0) -> str:
    """A label at least as wide as any ``format_value(v, exponent)`` of the computed values prints:
    "-0.000" with a negative one, "0.000" with a positive one ("99.9", ">999" are narrower), else
    what is left ("-inf", "≈0", "0")."""
    values = np.asarray(data if valid is None else data[valid], dtype=np.float64)
    finite = values[np.isfinite(values)]
    half = exponent // 2   # in two steps: neither power of ten overflows
    scaled = finite / 10.0 ** half / 10.0 ** (exponent - half) if exponent else finite
    if (scaled <= -0.0005).any():
        return "-0.000"
    if (scaled >= 0.0005).any():
        return "0.000"
    if finite.size < values.size:
        return "-inf"
    return "≈0" if finite.any() else "0"


class CellTexts(pg.GraphicsObject):
    def __init__(self):
        super().__init__()
        self._shape = (0, 0)
        self._items: list[tuple[float, float, str, bool]] | None = []  # x, y, text, dark text? (None: not made yet)
        self._source: tuple | None = None   # (data, valid, levels, colour map) the labels are made from
        self._exponent = 0
        self._format: Callable[[float, int], str] | None = None
        self._font = QtGui.QFont()
        self._font.setPointSize(POINT_SIZE)
        self._metrics = QtGui.QFontMetricsF(self._font)
        self._widths: dict[str, float] = {}   # label -> px
        self._need = (0.0, self._metrics.height())  # px a cell needs: the widest label's width, a line
        self._static: dict[str, tuple[QtGui.QStaticText, float, float]] = {}  # text -> laid out, half w, half h
        self._pens = {True: QtGui.QPen(QtGui.QColor("#000000")), False: QtGui.QPen(QtGui.QColor("#ffffff"))}
        self._prepared: tuple | None = None   # (key, labels, arrays it holds): see prepare()
        self.drawn = 0   # labels drawn by the last paint (0: none, or the cells were too small)

    # ------------------------------------------------------------ content
    def set_values(self, data: np.ndarray, valid: np.ndarray | None, levels: tuple[float, float],
                   cmap: pg.ColorMap, exponent: int, fmt: Callable[[float, int], str]) -> None:
        """The numbers of a heatmap, printed as ``fmt(value, exponent)`` (the heatmap's own
        format_value); made into labels when drawn."""
        self.prepareGeometryChange()
        self._shape = data.shape
        self._source = (data, valid, levels, cmap)
        self._exponent = exponent
        self._format = fmt
        self._items = None
        self._measure()
        self.update()

    def set_exponent(self, exponent: int) -> None:
        if exponent != self._exponent:
            self._exponent = exponent
            if self._source is not None:
                self._items = None
                self._measure()
                self.update()

    def _measure(self) -> None:
        data, valid = self._source[:2]
        label = widest_label(data, valid, self._exponent)
        width = self._widths.get(label)
        if width is None:
            width = self._widths[label] = self._metrics.horizontalAdvance(label)
        self._need = (width + PADDING, self._need[1])

    def clear(self) -> None:
        self.prepareGeometryChange()
        self._shape = (0, 0)
        self._source = None
        self._items = []
        self.update()

    def labels(self) -> list[tuple[float, float, str, bool]]:
        """(x, y, text, dark text?) of every label, made now if they were not yet (or taken from
        :meth:`prepare`, made for these very numbers)."""
        if self._items is None:
            data, valid, levels, cmap = self._source
            key = _source_key(data, valid, levels, cmap, self._exponent, self._format)
            prepared, self._prepared = self._prepared, None
            if prepared is not None and prepared[0] == key:
                self._items = prepared[1]
            else:
                self._items = _make_labels(data, valid, levels, cmap, self._exponent, self._format)
        return self._items

    def prepare(self, data: np.ndarray, valid: np.ndarray | None, levels: tuple[float, float],
                cmap: pg.ColorMap, exponent: int, fmt: Callable[[float, int], str]) -> None:
        """In idle time: the labels of numbers :meth:`set_values` will be given soon (the next step's),
        with their texts laid out, so the paint that shows them only draws."""
        items = _make_labels(data, valid, levels, cmap, exponent, fmt)
        for _, _, text, _ in items:
            if text not in self._static:
                self._static[text] = self._layout(text)
        # The key names the arrays by where they live; the entry holds them (and the map), so that
        # memory is not another array's while the entry is kept.
        self._prepared = (_source_key(data, valid, levels, cmap, exponent, fmt), items, data, valid, cmap)

    def cell_fits(self, width: float, height: float) -> bool:
        """A cell of this many pixels holds every label."""
        return width >= self._need[0] and height >= self._need[1]

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt name)
        rows, cols = self._shape
        return QtCore.QRectF(0, 0, cols, rows)

    def fits(self, transform: QtGui.QTransform) -> bool:
        return self.cell_fits(transform.map(QtCore.QLineF(0, 0, 1, 0)).length(),
                              transform.map(QtCore.QLineF(0, 0, 0, 1)).length())

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        self.drawn = 0
        if self._items == [] or (self._items is None and self._source is None):
            return
        transform = painter.transform()
        if not self.fits(transform):
            return
        items = self.labels()
        self.drawn = len(items)
        painter.save()
        painter.resetTransform()
        painter.setFont(self._font)
        pen = None
        for x, y, text, dark in items:
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


def _source_key(data: np.ndarray, valid: np.ndarray | None, levels, cmap, exponent: int, fmt) -> tuple:
    where = (data.__array_interface__["data"][0], data.shape, data.strides, data.dtype.str)
    return (where, None if valid is None else np.asarray(valid, dtype=bool).tobytes(),
            (float(levels[0]), float(levels[1])), id(cmap), exponent, fmt)


def _make_labels(data, valid, levels, cmap, exponent: int, fmt) -> list[tuple[float, float, str, bool]]:
    texts = cell_labels(data, valid, levels, cmap, lambda v, e=exponent: fmt(v, e))
    return [(c + 0.5, r + 0.5, text, dark) for r, c, text, dark in texts]


def cell_labels(data: np.ndarray, valid: np.ndarray | None, levels: tuple[float, float], cmap: pg.ColorMap,
                fmt) -> list[tuple[int, int, str, bool]]:
    """(row, col, text, dark-text?) for every computed cell."""
    lo, hi = levels
    span = hi - lo if hi != lo else 1.0
    fracs = np.clip((np.nan_to_num(data, nan=lo + span / 2) - lo) / span, 0, 1)
    rgb = cmap.map(fracs.reshape(-1), mode="float")[:, :3]
    light = ((0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]) > 0.55).tolist()
    rows, cols = data.shape
    values = np.asarray(data, dtype=np.float64).reshape(-1).tolist()
    keep = None if valid is None else np.asarray(valid, dtype=bool).reshape(-1).tolist()
    return [(k // cols, k % cols, fmt(v), light[k]) for k, v in enumerate(values) if keep is None or keep[k]]
