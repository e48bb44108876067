"""Axes that keep their drawing while nothing about them changes.

pyqtgraph's AxisItem throws its picture away whenever its linked view
re-announces its range (even an unchanged one) or it is resized, and then
regenerates every tick spec in Python on the next paint: about a millisecond
an axis, for a dozen axes on every panel that comes to the front. A
:class:`StaticAxis` ignores a range it already has and keeps the last few
pictures by what they depend on (size, range, ticks, label), so a panel that
is shown again at the same size plays its stored pictures. Qt's
DeviceCoordinateCache (set by the heatmap) then keeps them as pixmaps.
"""
from __future__ import annotations

from collections import OrderedDict

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

PICTURES_KEPT = 4
UNSEEN_MOVE_PX = 0.01   # a colour bar's ends moving less than this (px) leave its axis's drawing as it is


class StaticAxis(pg.AxisItem):
    """An AxisItem that redraws only when its size, range, ticks or label change."""

    _pictures: "OrderedDict[tuple, QtGui.QPicture]"

    def __init__(self, orientation: str, **kwargs):
        super().__init__(orientation, **kwargs)
        self._pictures = OrderedDict()
        # Room for tick labels only grows: a panel that shows "not computed
        # yet" (no labels) keeps its layout, so showing numbers again does not
        # move every plot of the panel (and redraw all of their axes).
        self.setStyle(autoReduceTextSpace=False)

    @staticmethod
    def pair() -> dict[str, "StaticAxis"]:
        """``axisItems`` for a PlotItem: its left and bottom axes."""
        return {"left": StaticAxis("left"), "bottom": StaticAxis("bottom")}

    def setRange(self, mn: float, mx: float) -> None:  # noqa: N802 (pyqtgraph name)
        if list(getattr(self, "range", ())) == [mn, mx]:
            return  # an unchanged range: the picture stays valid
        super().setRange(mn, mx)

    def picture_key(self) -> tuple:
        ticks = self._tickLevels
        ticks_key = None if ticks is None else tuple(tuple(level) for level in ticks)
        size = self.size()
        return (round(size.width(), 2), round(size.height(), 2), tuple(self.range), ticks_key,
                self.labelText, self.labelUnits, self.style.get("showValues"), self.pen().color().rgba(),
                self.textPen().color().rgba(), self.style["tickFont"].toString() if self.style.get("tickFont") else "")

    def paint(self, p, opt, widget) -> None:
        pictures = getattr(self, "_pictures", None)
        if pictures is None:  # painted while pyqtgraph was still building it
            return super().paint(p, opt, widget)
        key = self.picture_key()
        if self.picture is None and key in pictures:
            self.picture = pictures[key]
            pictures.move_to_end(key)
        super().paint(p, opt, widget)
        if key not in pictures and self.picture is not None:
            pictures[key] = self.picture
            while len(pictures) > PICTURES_KEPT:
                pictures.popitem(last=False)


def set_bar_levels(bar: pg.ColorBarItem, levels: tuple[float, float]) -> None:
    """``bar.setLevels(levels, update_items=False)``, but the bar's axis keeps its picture when no
    tick would move by UNSEEN_MOVE_PX on screen.

    A parameter's colour range covers its weights before and after the update. An edit recomputes
    the update on a worker thread, so the range falls back to the starting weights and widens
    again when the update arrives, often by a few float32 steps; pyqtgraph regenerates every tick
    of the axis in Python on each range change (about 0.7 ms a bar). When neither end moves by
    UNSEEN_MOVE_PX, the bar takes the levels (``bar.levels()`` stays exact) and its axis keeps its
    range and the picture drawn for it. Every tick and label is then within UNSEEN_MOVE_PX of its
    exact place; a redraw could only put a line lying exactly on a pixel boundary one row over, or
    add or drop a tick lying within UNSEEN_MOVE_PX of an end.
    """
    axis = bar.axis
    low, high = float(levels[0]), float(levels[1])
    if axis.picture is not None and _unseen_move(axis, (float(axis.range[0]), float(axis.range[1])), (low, high)):
        bar.values = bar.lo_prv, bar.hi_prv = (low, high)
        return
    bar.setLevels((low, high), update_items=False)


def _unseen_move(axis: pg.AxisItem, drawn: tuple[float, float], levels: tuple[float, float]) -> bool:
    span = drawn[1] - drawn[0]
    if not span > 0 or not levels[1] > levels[0]:
        return False
    size = axis.size()
    length = size.height() if axis.orientation in ("left", "right") else size.width()
    move = max(abs(levels[0] - drawn[0]), abs(levels[1] - drawn[1]))
    return move * length / span < UNSEEN_MOVE_PX


def set_title_keeping_room(plot: pg.PlotItem, title: str, size: str = "9pt") -> None:
    """``plot.setTitle``, but the room reserved for the title only grows.

    A title's width is its column's minimum width: a shorter title (another
    phase's wording) would re-flow the whole panel and redraw every axis in it.
    Keeping the widest room seen so far makes the layout settle after one pass.
    A title that fits the kept room replaces the text in place, without asking
    the layout again (``setTitle`` always does, and the whole panel would be
    laid out and its axes redrawn on a step that only changes a title).
    """
    label = plot.titleLabel
    if _replace_in_room(plot, label, title, size):
        return
    plot.setTitle(title, size=size)
    hints = getattr(label, "_sizeHint", None)
    if not hints:
        return
    kept = getattr(label, "_kept_room", (0.0, 0.0))
    width, height = hints[QtCore.Qt.SizeHint.MinimumSize]
    room = (max(kept[0], width), max(kept[1], height))
    label._kept_room = room
    if room != (width, height):
        for hint in (QtCore.Qt.SizeHint.MinimumSize, QtCore.Qt.SizeHint.PreferredSize):
            hints[hint] = room
        label.setMinimumWidth(room[0])
        label.setMinimumHeight(room[1])
        label.updateGeometry()


def _replace_in_room(plot: pg.PlotItem, label: pg.LabelItem, title: str, size: str) -> bool:
    """Put ``title`` in the title label without a new size hint, if the label is shown, keeps a
    room and the new text fits it; False (nothing changed) otherwise."""
    kept = getattr(label, "_kept_room", None)
    if kept is None or not title or not label.isVisible() or label.opts.get("size") != size:
        return False
    old_html = label.item.toHtml()
    colour = pg.mkColor(label.opts.get("color") or pg.getConfigOption("foreground"))
    label.item.setHtml(f"<span style='color: {colour.name(QtGui.QColor.NameFormat.HexArgb)}; "
                       f"font-size: {size}'>{title}</span>")
    bounds = label.itemRect()
    if bounds.width() > kept[0] + 0.5 or bounds.height() > kept[1] + 0.5:
        label.item.setHtml(old_html)
        return False
    label.text = title
    plot.titleLabel.setVisible(True)
    label.item.setPos(0, 0)  # centred in the label, as LabelItem.resizeEvent places it
    bounds = label.itemRect()
    bounds.moveCenter(label.rect().center())
    label.item.setPos(bounds.topLeft() - label.itemRect().topLeft())
    return True
