"""Pictures of a custom-painted view, kept by what they show and drawn ahead of the next click.

The timeline and the network diagram paint a few dozen rounded boxes and labels
whose look depends on a handful of states (which step the cursor is on, which
phases are done, the hovered block, the size and colours). A view names all of
them in a *picture key*; a :class:`PictureCache` paints each key once into an
image and copies that image to the screen when the key comes back (a Step Back,
the next iteration). :meth:`PictureCache.schedule` paints, in idle time, the
picture the next Step will show, so that click only copies an image.

A key must name everything the drawing reads: two states with the same key get
the same picture.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Callable, Hashable

from PySide6 import QtCore, QtGui, QtWidgets

log = logging.getLogger(__name__)

KEPT = 6         # pictures kept per view: the next step's, and a few for Step Back
AHEAD_MS = 40    # idle time after a change before the next step's picture is painted


class PictureCache:
    """The last :data:`KEPT` pictures of ``widget``, by key.

    ``draw(painter)`` paints the widget's current state (what its ``paintEvent``
    used to do); ``ahead()`` returns the key of the state the next click will
    show after it has painted it with :meth:`prepare`, or does nothing.
    """

    def __init__(self, widget: QtWidgets.QWidget, draw: Callable[[QtGui.QPainter], None],
                 ahead: Callable[[], None] | None = None, kept: int = KEPT):
        self._widget = widget
        self._draw = draw
        self._kept = kept
        self._pictures: OrderedDict[Hashable, QtGui.QImage] = OrderedDict()
        self._timer: QtCore.QTimer | None = None
        if ahead is not None:
            self._timer = QtCore.QTimer(widget)
            self._timer.setSingleShot(True)
            self._timer.setInterval(AHEAD_MS)
            self._timer.timeout.connect(lambda: self._run_ahead(ahead))

    def __len__(self) -> int:
        return len(self._pictures)

    def clear(self) -> None:
        self._pictures.clear()

    def paint(self, key: Hashable) -> None:
        """Inside ``paintEvent``: the picture of ``key`` onto the widget."""
        picture = self.prepare(key)
        painter = QtGui.QPainter(self._widget)
        try:
            painter.drawImage(0, 0, picture)
        finally:
            painter.end()

    def prepare(self, key: Hashable) -> QtGui.QImage:
        """The picture of ``key``, painted now with ``draw`` unless it is kept."""
        picture = self._pictures.get(key)
        if picture is not None:
            self._pictures.move_to_end(key)
            return picture
        picture = self._render()
        self._pictures[key] = picture
        while len(self._pictures) > self._kept:
            self._pictures.popitem(last=False)
        return picture

    def _render(self) -> QtGui.QImage:
        widget = self._widget
        ratio = widget.devicePixelRatioF()
        size = widget.size()
        image = QtGui.QImage(max(1, round(size.width() * ratio)), max(1, round(size.height() * ratio)),
                             QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QtGui.QPainter(image)
        try:  # what QPainter.begin(widget) starts from
            palette = widget.palette()
            painter.setFont(widget.font())
            painter.setPen(palette.color(QtGui.QPalette.ColorRole.WindowText))
            painter.setBackground(palette.brush(QtGui.QPalette.ColorRole.Window))
            self._draw(painter)
        finally:
            painter.end()
        return image

    def schedule(self) -> None:
        """After a change: paint the next click's picture once the window has been idle a moment."""
        if self._timer is not None:
            self._timer.start()

    def _run_ahead(self, ahead: Callable[[], None]) -> None:
        if not self._widget.isVisible():
            return
        try:
            ahead()
        except Exception:  # never raise out of a timer; the next click paints it itself
            log.exception("could not paint %s ahead", type(self._widget).__name__)
