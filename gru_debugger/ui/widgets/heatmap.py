"""One matrix as a heatmap: an ImageItem in a PlotItem, with a colour bar.

Items are made once and their data re-set on every change (creating
PlotItems is slow). Small matrices also print their values in the cells.
Cells that do not exist yet are covered ("not computed"); a matrix that does
not exist yet is a faint dashed box of its shape, where its numbers will be
(no colour bar), so nothing moves when they arrive; NaN and Inf get
their own colour. Hover reports the exact value of the cell under the mouse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from . import theme
from .cell_texts import CellTexts, cell_labels
from .static_axis import StaticAxis, set_title_keeping_room
from .hatch import Hatch

MAX_TEXT_CELLS = 200      # print values inside cells up to this many cells
MAX_TICK_LABELS = 64      # label rows/columns up to this many
OUTLINE_WIDTH = 3         # px: what the current step writes
MAIN_OUTLINE_WIDTH = 5    # px: its main result
READ_TITLE_OPACITY = 0.5  # titles of what the step only reads are muted
ROUNDOFF_STRIPES = (70, 74, 80, 150)  # RGBA of the hatching of round-off cells: reads on the neutral middle colour


@dataclass
class HeatmapData:
    """What one heatmap shows. ``data`` None means "not computed yet"."""

    data: np.ndarray | None
    title: str = ""
    valid: np.ndarray | None = None           # bool, same shape: False = not computed yet
    highlight: tuple[str, int, int] | None = None  # ("cell", r, c) / ("row", r, 0) / ("col", 0, c) / ("all", 0, 0)
    marks: Sequence[tuple[int, int]] = ()     # cells to outline (e.g. target tokens)
    separators: Sequence[int] = ()            # draw a line above these rows (z | r | n blocks)
    row_labels: Sequence[str] | None = None
    col_labels: Sequence[str] | None = None
    row_title: str = ""
    col_title: str = ""
    levels: tuple[float, float] | None = None
    describe: Callable[[int, int], str] | None = None  # "h[b=0, t=3, j=1]" for a cell
    note: str = ""                            # shown instead of the image when data is None
    # Difference from a pinned baseline: ``data`` is now − baseline (float64) and this is
    # (now, baseline), same shape; drawn in the diverging map centred at 0, both values on hover.
    diff: tuple[np.ndarray, np.ndarray] | None = None
    roundoff: np.ndarray | None = None        # bool, same shape: True = round-off (0 in exact arithmetic), hatched
    # What the current step does with it: "main" (its main result), "written" (also written: outlined
    # by ``highlight``), "read" (only read: the title is muted), "" (neither).
    emphasis: str = ""
    # With ``data`` None: the shape the numbers will have (rows, cols), drawn as a dashed box of
    # that size; None = unknown (a text-only placeholder).
    shape: tuple[int, int] | None = None

    def key(self) -> tuple:
        """Identity of what is drawn: same key, nothing to repaint."""
        valid = None if self.valid is None else self.valid.tobytes()
        # The memory address, shape and strides name the numbers: snapshot
        # arrays are read-only and the shown spec keeps its memory alive.
        data = None if self.data is None else (self.data.__array_interface__["data"][0], self.data.shape,
                                               self.data.strides, self.data.dtype.str)
        roundoff = None if self.roundoff is None else np.asarray(self.roundoff, dtype=bool).tobytes()
        return (data, valid, roundoff, self.highlight, self.title,
                self.levels, tuple(self.row_labels or ()), tuple(self.col_labels or ()), self.note,
                tuple(self.marks), tuple(self.separators), self.diff is not None, self.emphasis,
                self.shape)


def symmetric_levels(*arrays: np.ndarray | None, floor: float = 0.0) -> tuple[float, float]:
    """±the largest finite magnitude; at least ``floor`` (so values far below a family's scale read as ≈0)."""
    finite = [np.abs(a[np.isfinite(a)]).max() for a in arrays if a is not None and np.isfinite(a).any()]
    bound = float(max(finite)) if finite else 1.0
    bound = bound if bound > 0 else 1.0
    bound = max(bound, floor)
    return (-bound, bound)


def positive_levels(*arrays: np.ndarray | None) -> tuple[float, float]:
    low, high = symmetric_levels(*arrays)
    return (0.0, high)


SPACE_MARK = "▁"           # a space on an axis: a low bar that stays visible at small font sizes
TICK_POINT_SIZES = (8.0, 7.0, 6.0, 5.5)  # axis labels shrink through these before any is dropped


def _label(text: str) -> str:
    text = text.replace("␣", SPACE_MARK)
    return text.replace(" ", SPACE_MARK).replace("\n", "⏎") if text.strip() != text or not text.strip() else text


def _tick_metrics() -> list[tuple[float, QtGui.QFont, float, float]]:
    """(point size, font, line height px, average char width px) per axis label size, largest first."""
    out = []
    for size in TICK_POINT_SIZES:
        font = QtGui.QFont()
        font.setPointSizeF(size)
        fm = QtGui.QFontMetricsF(font)
        out.append((size, font, fm.height(), fm.horizontalAdvance("0") * 1.05))
    return out


class Heatmap(QtCore.QObject):
    """A heatmap inside a pyqtgraph GraphicsLayout (several share one view)."""

    hovered = QtCore.Signal(str)
    cell_double_clicked = QtCore.Signal(int, int)
    context_requested = QtCore.Signal(object, object)  # QPoint on screen, (row, col) under it or None: right-click

    def __init__(self, layout: pg.GraphicsLayout, kind: str, name: str, row: int, col: int,
                 parent: QtCore.QObject | None = None, rowspan: int = 1, colspan: int = 1):
        super().__init__(parent)
        self.kind = kind
        self.name = name
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=col, rowspan=rowspan, colspan=colspan,
                                                axisItems=StaticAxis.pair())
        self.plot.invertY(True)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getViewBox().setDefaultPadding(0.0)
        tick_font = QtGui.QFont()
        tick_font.setPointSize(8)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setStyle(tickLength=0, tickFont=tick_font)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(True)
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(5)
        self.plot.addItem(self.image)
        self.plot.addItem(self.overlay)
        # The outline of what the current step writes, over a halo that makes it read on any colour.
        self.halo = QtWidgets.QGraphicsRectItem()
        self.halo.setZValue(10)
        self.halo.hide()
        self.plot.addItem(self.halo)
        self.marker = QtWidgets.QGraphicsRectItem()
        self.marker.setZValue(11)
        self.marker.hide()
        self.plot.addItem(self.marker)
        self._set_outline_width(OUTLINE_WIDTH)
        self.targets = pg.ScatterPlotItem(symbol="s", size=1.0, pxMode=False, brush=None,
                                          pen=pg.mkPen(theme.current().foreground, width=2, cosmetic=True))
        self.targets.setZValue(9)
        self.targets.hide()
        self.plot.addItem(self.targets)
        self._lines: list[pg.InfiniteLine] = []
        self.placeholder = pg.TextItem("", anchor=(0.5, 0.5), color=theme.current().foreground)
        self.placeholder.hide()
        self.plot.addItem(self.placeholder, ignoreBounds=True)
        self.frame = QtWidgets.QGraphicsRectItem()  # the dashed box of a matrix not computed yet
        self.frame.setZValue(4)
        self.frame.hide()
        self.plot.addItem(self.frame)
        self._decor_hidden = False
        levels = (0.0, 1.0) if kind in (theme.UNIT, theme.POSITIVE) else (-1.0, 1.0)
        self.colorbar = pg.ColorBarItem(values=levels, colorMap=theme.colormap(kind), interactive=False,
                                        width=10, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        for side in ("top", "bottom", "left"):  # frame-only axes: each would be painted on every change
            self.colorbar.hideAxis(side)
        # Axes, titles and colour bars rarely change: Qt keeps them as pixmaps
        # instead of calling their (Python) paint on every repaint of the canvas.
        cache = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
        for item in (self.plot.getAxis("left"), self.plot.getAxis("bottom"), self.plot.titleLabel,
                     self.colorbar.axis, self.colorbar.bar):
            item.setCacheMode(cache)
        self.texts = CellTexts()
        self.texts.setZValue(8)
        self.plot.addItem(self.texts)
        self._ticks: dict[str, object] = {}
        self._tick_sizes: dict[str, float] = {"left": 8.0, "bottom": 8.0}
        self._levels: tuple[float, float] | None = None
        self._title: str | None = None
        self._shown: HeatmapData | None = None
        self._key: tuple | None = None
        self.repaints = 0  # how many times the data was really re-set (tests, benchmark)
        self.plot.getViewBox().sigResized.connect(self._relayout)
        self.plot.getViewBox().sigRangeChanged.connect(self._relayout)
        scene = self.plot.scene()
        scene.sigMouseMoved.connect(self._on_mouse_moved)
        scene.sigMouseClicked.connect(self._on_mouse_clicked)

    # ------------------------------------------------------------ data
    @property
    def shown(self) -> HeatmapData | None:
        return self._shown

    def set_data(self, spec: HeatmapData) -> bool:
        """Show ``spec``; returns False (and does nothing) if it is already shown."""
        key = spec.key()
        if key == self._key:
            return False
        self._key, self._shown = key, spec
        self.repaints += 1
        if spec.title != self._title:  # a new title re-lays out the whole canvas: only when it changes
            self._title = spec.title
            set_title_keeping_room(self.plot, spec.title)
        if spec.data is None:
            self._show_placeholder(spec.note or "not computed yet", spec)
            return True
        data = np.asarray(spec.data, dtype=np.float32)
        if data.ndim == 1:
            data = data[None, :]
        self.placeholder.hide()
        self.frame.hide()
        self._hide_decor(False)
        self._set_colour_kind(theme.SIGNED if spec.diff is not None else self.kind)
        bad = ~np.isfinite(data)
        shown = np.where(bad, 0.0, data) if bad.any() else data
        levels = symmetric_levels(spec.data) if spec.diff is not None else (spec.levels or self._default_levels(data))
        self.image.setImage(shown, levels=levels, autoLevels=False)
        self.image.show()
        if levels != self._levels:
            self._levels = levels
            self.colorbar.setLevels(levels)
        self._set_overlay(spec.valid, bad)
        self._set_roundoff(spec.roundoff, spec.valid, data.shape)
        self._set_marker(spec.highlight, data.shape)
        self._set_emphasis(spec.emphasis)
        self._set_ticks(spec, data.shape)
        self._set_cell_texts(data, spec.valid, levels)
        self._set_marks(spec)
        self._relayout()
        if self._shape_changed(data.shape):
            vb = self.plot.getViewBox()
            vb.setLimits(xMin=-0.5 * data.shape[1], xMax=1.5 * data.shape[1],
                         yMin=-0.5 * data.shape[0], yMax=1.5 * data.shape[0])
            vb.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0)
        return True

    def _set_colour_kind(self, kind: str) -> None:
        """The baseline difference hook: signed differences use the diverging map, whatever the heatmap's kind."""
        if kind != getattr(self, "_colour_kind", self.kind):
            self._colour_kind = kind
            self.colorbar.setColorMap(theme.colormap(kind))
            self._levels = None

    def _shape_changed(self, shape: tuple[int, ...]) -> bool:
        old = getattr(self, "_last_shape", None)
        self._last_shape = shape
        return old != shape

    def _default_levels(self, data: np.ndarray) -> tuple[float, float]:
        if self.kind == theme.UNIT:
            return (0.0, 1.0)
        if self.kind == theme.TANH:
            return (-1.0, 1.0)
        if self.kind == theme.POSITIVE:
            return positive_levels(data)
        return symmetric_levels(data)

    def _hide_decor(self, hidden: bool) -> None:
        """A shaped placeholder has no colour bar and no axes, but keeps their room:
        the colour bar is made transparent and the axes are drawn in transparent pens."""
        if hidden == self._decor_hidden:
            return
        self._decor_hidden = hidden
        self.colorbar.setOpacity(0.0 if hidden else 1.0)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setStyle(tickAlpha=0 if hidden else None)  # the tick pen's alpha is the style's
            for get, put in ((axis.textPen, axis.setTextPen), (axis.pen, axis.setPen)):
                pen = QtGui.QPen(get())
                colour = pen.color()
                colour.setAlpha(0 if hidden else 255)
                pen.setColor(colour)
                put(pen)

    def _show_placeholder(self, note: str, spec: HeatmapData | None = None) -> None:
        shape = spec.shape if spec is not None else None
        if shape is not None and (len(shape) != 2 or min(shape) < 1):
            shape = None
        default = (0.0, 1.0) if self.kind in (theme.UNIT, theme.POSITIVE) else (-1.0, 1.0)
        if shape is None and self._levels != default:  # no data: the colour bar must not keep an old range
            self._levels = default
            self.colorbar.setLevels(default)
        self.image.hide()
        self.overlay.hide()
        self._set_roundoff(None, None, (0, 0))
        self.marker.hide()
        self.halo.hide()
        self._set_emphasis("")
        self.texts.set_cells([], (0, 0))
        self.targets.hide()
        for line in self._lines:
            line.hide()
        head, _, reason = note.partition(" (")
        reason = f"<br/>({reason}" if reason else ""
        size = "" if shape is None else f"<br/>{shape[0]}×{shape[1]}"
        self.placeholder.setHtml(f"<div style='text-align:center; color:{theme.current().foreground}'>"
                                 f"{head}{size}<span style='font-size:8pt'>{reason}</span></div>")
        document = self.placeholder.textItem.document()
        document.setTextWidth(-1)
        self.placeholder.setTextWidth(document.idealWidth())  # centred lines
        self._last_shape = None
        if shape is None:
            self.frame.hide()
            self._hide_decor(False)
            self.placeholder.setPos(0.5, 0.5)
            self.placeholder.show()
            self.plot.getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self._labels = None
            for side in ("left", "bottom"):
                if self._ticks.get(side, ()) != [[]]:
                    self._ticks[side] = [[]]
                    self.plot.getAxis(side).setTicks([[]])
            return
        rows, cols = shape
        colour = QtGui.QColor(theme.current().foreground)
        colour.setAlpha(110)
        pen = pg.mkPen(colour, width=1, cosmetic=True)
        pen.setStyle(QtCore.Qt.PenStyle.DashLine)
        self.frame.setPen(pen)
        self._frame_shape = (rows, cols)
        self.frame.show()
        self._place_frame()
        self.placeholder.setPos(cols / 2, rows / 2)
        self.placeholder.show()
        self._hide_decor(True)
        # The labels the numbers will have (drawn transparent): the axes keep the room they will need.
        self._set_ticks(spec, (rows, cols))
        self.plot.getViewBox().setRange(xRange=(0, cols), yRange=(0, rows), padding=0)

    def _set_overlay(self, valid: np.ndarray | None, bad: np.ndarray) -> None:
        if (valid is None or valid.all()) and not bad.any():
            self.overlay.hide()
            return
        scheme = theme.current()
        rgba = np.zeros(bad.shape + (4,), np.uint8)
        rgba[bad] = scheme.bad_value
        if valid is not None:  # a value that does not exist yet is not "bad"
            rgba[~valid.reshape(bad.shape)] = scheme.not_computed
        self.overlay.setImage(rgba, autoLevels=False, levels=(0, 255))
        self.overlay.show()

    def _set_roundoff(self, mask: np.ndarray | None, valid: np.ndarray | None, shape: tuple[int, ...]) -> None:
        """Hatch the round-off cells (not those that do not exist yet); made on first use."""
        hatch = getattr(self, "hatch", None)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool).reshape(shape)
            if valid is not None:
                mask = mask & np.asarray(valid, dtype=bool).reshape(shape)
        if mask is None or not mask.any():
            if hatch is not None:
                hatch.set_mask(None)
                hatch.hide()
            return
        if hatch is None:
            hatch = self.hatch = Hatch(ROUNDOFF_STRIPES)
            hatch.setZValue(6)  # over the colours and the not-computed cover, under texts and outlines
            self.plot.addItem(hatch)
        hatch.set_mask(mask)
        hatch.show()

    def _set_outline_width(self, width: int) -> None:
        scheme = theme.current()
        self._outline_width = width
        self.marker.setPen(pg.mkPen(scheme.highlight, width=width, cosmetic=True))
        self.halo.setPen(pg.mkPen(scheme.halo, width=width + 4, cosmetic=True))

    def _set_emphasis(self, emphasis: str) -> None:
        width = MAIN_OUTLINE_WIDTH if emphasis == "main" else OUTLINE_WIDTH
        if width != self._outline_width:
            self._set_outline_width(width)
        self.plot.titleLabel.setOpacity(READ_TITLE_OPACITY if emphasis == "read" else 1.0)

    def _set_marker(self, highlight: tuple[str, int, int] | None, shape: tuple[int, ...]) -> None:
        if highlight is None:
            self.marker.hide()
            self.halo.hide()
            return
        what, r, c = highlight
        rows, cols = shape
        if what == "all":
            rect = QtCore.QRectF(0, 0, cols, rows)
        elif what == "row":
            rect = QtCore.QRectF(0, r, cols, 1)
        elif what == "col":
            rect = QtCore.QRectF(c, 0, 1, rows)
        else:
            rect = QtCore.QRectF(c, r, 1, 1)
        self.marker.setRect(rect)
        self.halo.setRect(rect)
        self.marker.show()
        self.halo.show()

    def _set_ticks(self, spec: HeatmapData, shape: tuple[int, ...]) -> None:
        rows = [_label(str(t)) for t in spec.row_labels] if spec.row_labels is not None else None
        cols = [_label(str(t)) for t in spec.col_labels] if spec.col_labels is not None else None
        self._labels = (rows or [str(i) for i in range(shape[0])], cols or [str(i) for i in range(shape[1])])
        self._relayout()

    def _cell_pixels(self) -> tuple[float, float]:
        """On-screen size of one cell (depends on the widget size and zoom)."""
        px_w, px_h = self.plot.getViewBox().viewPixelSize()
        return (1.0 / px_w if px_w else 0.0, 1.0 / px_h if px_h else 0.0)

    def _place_frame(self) -> None:
        """The dashed box, one pixel inside the view's edges (the view clips what lies on them)."""
        if not self.frame.isVisible():
            return
        rows, cols = self._frame_shape
        px_w, px_h = self.plot.getViewBox().viewPixelSize()
        dx, dy = min(px_w, cols / 4), min(px_h, rows / 4)
        self.frame.setRect(QtCore.QRectF(dx, dy, cols - 2 * dx, rows - 2 * dy))

    def _relayout(self, *args) -> None:
        """Thin out axis labels so that they never overlap."""
        self._place_frame()
        labels = getattr(self, "_labels", None)
        if labels is None or self._shown is None or (self._shown.data is None and self._shown.shape is None):
            return
        cell_w, cell_h = self._cell_pixels()
        metrics = getattr(Heatmap, "_metrics", None) or _tick_metrics()
        Heatmap._metrics = metrics
        for side, names, cell in (("left", labels[0], cell_h), ("bottom", labels[1], cell_w)):
            size = metrics[0][0]
            if not names or cell <= 0:
                ticks = None
            else:
                longest = max(map(len, names))
                # the largest font at which every label fits; at the smallest one, thin out
                need = [(m[2] - 2 if side == "left" else m[3] * longest + 4) for m in metrics]
                fitting = [k for k, n in enumerate(need) if n <= cell]
                k = fitting[0] if fitting else len(metrics) - 1
                size = metrics[k][0]
                every = max(1, int(np.ceil(need[k] / cell)))
                ticks = [[(i + 0.5, names[i]) for i in range(0, len(names), every)]]
            if self._tick_sizes.get(side) != size:
                self._tick_sizes[side] = size
                self.plot.getAxis(side).setStyle(tickFont=next(m[1] for m in metrics if m[0] == size))
            if self._ticks.get(side, ()) != ticks:  # re-set ticks only when they change (axes repaint)
                self._ticks[side] = ticks
                self.plot.getAxis(side).setTicks(ticks)

    def _set_cell_texts(self, data: np.ndarray, valid: np.ndarray | None, levels: tuple[float, float]) -> None:
        if data.size > MAX_TEXT_CELLS:
            self.texts.set_cells([], data.shape)
            return
        mask = None if valid is None else valid.reshape(data.shape)
        kind = getattr(self, "_colour_kind", self.kind)
        self.texts.set_cells(cell_labels(data, mask, levels, theme.colormap(kind), _format), data.shape)

    def _set_marks(self, spec: HeatmapData) -> None:
        if spec.marks:
            rows, cols = zip(*spec.marks)
            self.targets.setData(x=np.asarray(cols) + 0.5, y=np.asarray(rows) + 0.5, size=0.92)
            self.targets.show()
        else:
            self.targets.hide()  # hidden items cost nothing to paint
        while len(self._lines) < len(spec.separators):
            line = pg.InfiniteLine(angle=0, pen=pg.mkPen(theme.current().foreground, width=2, cosmetic=True))
            line.setZValue(7)
            self.plot.addItem(line)
            self._lines.append(line)
        for k, line in enumerate(self._lines):
            if k < len(spec.separators):
                line.setPos(spec.separators[k])
                line.show()
            else:
                line.hide()

    # ------------------------------------------------------------ mouse
    def cell_at(self, scene_pos: QtCore.QPointF) -> tuple[int, int] | None:
        spec = self._shown
        if spec is None or spec.data is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        r, c = int(np.floor(point.y())), int(np.floor(point.x()))
        data = spec.data if spec.data.ndim == 2 else spec.data[None, :]
        if 0 <= r < data.shape[0] and 0 <= c < data.shape[1]:
            return r, c
        return None

    def hover_text(self, r: int, c: int) -> str:
        """The exact value of a cell, its indices and labels, as the status line shows it."""
        spec = self._shown
        assert spec is not None and spec.data is not None
        data = spec.data if spec.data.ndim == 2 else spec.data[None, :]
        where = spec.describe(r, c) if spec.describe else f"{self.name}[{r}, {c}]"
        if spec.valid is not None and not spec.valid.reshape(data.shape)[r, c]:
            return f"{where}: not computed yet"
        if spec.diff is not None:
            now, base = (np.atleast_2d(a) for a in spec.diff)
            return (f"{where}: now {float(now[r, c]):.7g}, baseline {float(base[r, c]):.7g}, "
                    f"Δ {float(data[r, c]):+.7g}")
        roundoff = spec.roundoff
        if roundoff is not None and np.asarray(roundoff).reshape(data.shape)[r, c]:
            return (f"{where}: round-off: exactly 0 in exact arithmetic "
                    f"({np.asarray(data).dtype.name} value {float(data[r, c]):.1e})")
        return f"{where} = {float(data[r, c]):.7g}"

    def _on_mouse_moved(self, pos: QtCore.QPointF) -> None:
        cell = self.cell_at(pos)
        if cell is not None:
            self.hovered.emit(self.hover_text(*cell))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() == QtCore.Qt.MouseButton.RightButton and not event.double():
            if self.plot.vb.sceneBoundingRect().contains(event.scenePos()):
                event.accept()
                self.context_requested.emit(event.screenPos().toPoint(), self.cell_at(event.scenePos()))
            return
        if not event.double():
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            event.accept()
            self.cell_double_clicked.emit(*cell)


def _format(value: float) -> str:
    if not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.1e}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
