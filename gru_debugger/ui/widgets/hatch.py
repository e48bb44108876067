"""Diagonal hatching over heatmap cells: the cells whose value is round-off.

One GraphicsObject covers every marked cell. The marked cells are merged
into one rectangle per run of neighbours in a row when the mask is set (once
per change); the stripes are a tiled brush at screen size (one small tile per pixel ratio),
so they stay the same few pixels apart at any zoom, never hide the cell's
colour, and cost one fill per paint.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui

SPACING = 7.0      # px between stripes on screen
WIDTH = 1.2        # px, stripe width


def runs(mask: np.ndarray) -> list[QtCore.QRectF]:
    """One rectangle (in cell units: x = column, y = row) per run of marked cells in a row;
    rows whose runs are the same as the row above extend that row's rectangles."""
    mask = np.atleast_2d(np.asarray(mask, dtype=bool))
    rects: list[QtCore.QRectF] = []
    open_runs: dict[tuple[int, int], QtCore.QRectF] = {}
    for r in range(mask.shape[0]):
        row = np.concatenate(([False], mask[r], [False]))
        edges = np.flatnonzero(row[1:] != row[:-1])
        spans = list(zip(edges[::2].tolist(), edges[1::2].tolist()))
        next_open: dict[tuple[int, int], QtCore.QRectF] = {}
        for start, stop in spans:
            rect = open_runs.get((start, stop))
            if rect is not None:
                rect.setHeight(rect.height() + 1)
            else:
                rect = QtCore.QRectF(start, r, stop - start, 1)
                rects.append(rect)
            next_open[(start, stop)] = rect
        open_runs = next_open
    return rects


class Hatch(pg.GraphicsObject):
    """Stripes over the cells of a bool mask (rows, cols)."""

    def __init__(self, rgba: tuple[int, int, int, int]):
        super().__init__()
        color = QtGui.QColor(*rgba)
        self._shape = (0, 0)
        self._rects: list[QtCore.QRectF] = []
        self._colour = color
        self._edge = QtGui.QPen(color, 1.0)
        self._edge.setCosmetic(True)

    def set_mask(self, mask: np.ndarray | None) -> None:
        self.prepareGeometryChange()
        if mask is None or not np.any(mask):
            self._rects, self._shape = [], (0, 0)
        else:
            mask2 = np.atleast_2d(np.asarray(mask, dtype=bool))
            self._rects, self._shape = runs(mask2), mask2.shape
        self.update()

    @property
    def count(self) -> int:
        """Rectangles drawn (tests)."""
        return len(self._rects)

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 (Qt name)
        rows, cols = self._shape
        return QtCore.QRectF(0, 0, cols, rows)

    def _tile(self, ratio: float) -> QtGui.QBrush:
        """A brush of one SPACING × SPACING tile of stripe at ``ratio`` device pixels per pixel (made once per ratio)."""
        tiles = self.__dict__.setdefault("_tiles", {})
        if ratio not in tiles:
            side = int(round(SPACING * ratio))
            pixmap = QtGui.QPixmap(side, side)
            pixmap.fill(QtCore.Qt.GlobalColor.transparent)
            tile = QtGui.QPainter(pixmap)
            tile.scale(ratio, ratio)
            tile.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
            tile.setPen(QtGui.QPen(self._colour, WIDTH))  # scaled with the tile
            for k in (0.0, SPACING, 2 * SPACING):  # x + y = k: the stripe and its neighbours' ends
                tile.drawLine(QtCore.QPointF(k, 0.0), QtCore.QPointF(k - SPACING, SPACING))
            tile.end()
            tiles[ratio] = QtGui.QBrush(pixmap)
        return tiles[ratio]

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        if not self._rects:
            return
        transform = painter.transform()
        path = QtGui.QPainterPath()
        for rect in self._rects:
            path.addRect(transform.mapRect(rect))
        # The brush's tile is in device pixels: at a pixel ratio above 1 (a 2x image) it is drawn that much larger.
        world, device = painter.transform().m11(), painter.deviceTransform().m11()
        ratio = round(abs(device / world), 2) if world else 1.0
        painter.save()
        painter.resetTransform()
        # stripes from bottom-left to top-right, SPACING px apart and anchored to the screen:
        # one tiled brush, filled in one call
        painter.setBrushOrigin(QtCore.QPointF(0.0, 0.0))
        painter.fillPath(path, self._tile(ratio))
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        painter.setPen(self._edge)
        painter.drawPath(path)
        painter.restore()
