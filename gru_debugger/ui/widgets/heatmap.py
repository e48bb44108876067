"""One matrix as a heatmap: an ImageItem in a PlotItem, with a colour bar.

Items are made once and their data re-set on every change (creating
PlotItems is slow). Cells that do not exist yet are covered ("not computed");
a matrix that does not exist yet is a faint dashed box of its shape, where its
numbers will be, so nothing moves when they arrive; NaN and Inf get their own
colour. Hover reports the exact value of the cell under the mouse.

Colour bars. A heatmap on its own draws its colour bar at its right. In a
panel, heatmaps next to each other in one grid row (no other plot between
them) with the same colour kind and the same levels share one bar, drawn after
the last of them (:func:`arrange_colour_bars`); a heatmap whose kind or levels
differ from its neighbours' keeps its own. Levels are the same when they come
from one colour-scale family (the panels' spec builders) or from the kind's
fixed range (gates 0..1, tanh −1..1); levels computed from a heatmap's own
numbers, and baseline differences, are never shared. A bar is drawn
transparent, keeping its room, while none of its heatmaps has numbers.

Printed numbers. Every heatmap drawn with one colour bar prints its values
scaled by one power of ten, 10^e, said as "×10ᵉ" after its title; the bar's
ticks use the same scale. e comes from m, the largest magnitude among the
finite, computed, non-round-off values of those heatmaps (from the bar's
range when there is none, e.g. all zeros): e = 0 when 0.1 ≤ m < 1000, else
e = floor(log10 m) (a plain power of ten, so the largest value prints between
1.000 and 9.999). A cell prints value / 10^e with three decimals below 10 and
one from 10 up; a non-zero value that would print as 0.000 prints "≈0", never
a bare 0 (which means exactly zero). Hover keeps the exact value.

Values are printed in a heatmap's cells when a cell is, on screen, wide
enough for its widest label and tall enough for a line, whatever the number of
cells: one rule for every heatmap (checked when painting; see cell_texts).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from . import theme
from .cell_texts import CellTexts
from .static_axis import StaticAxis, set_bar_levels, set_title_keeping_room
from .hatch import Hatch
from .prepared_image import PreparedImage

MAX_TICK_LABELS = 64      # label rows/columns up to this many
OUTLINE_WIDTH = 3         # px: what the current step writes
MAIN_OUTLINE_WIDTH = 5    # px: its main result
READ_TITLE_OPACITY = 0.5  # titles of what the step only reads are muted
ROUNDOFF_STRIPES = (70, 74, 80, 150)  # RGBA of the hatching of round-off cells: reads on the neutral middle colour
BAR_POINT_SIZE = 8.0      # colour bar tick labels, as the heatmaps' axes
BAR_TICK_SAMPLE = "-0.25"
UNKNOWN_SHAPE = (3, 6)    # the room a matrix of unknown shape is given (a placeholder with only a note)  # the widest colour bar tick label the bar keeps room for


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
    diff_label: str = "baseline"              # what the second value of ``diff`` is, in the hover text
    roundoff: np.ndarray | None = None        # bool, same shape: True = round-off (0 in exact arithmetic), hatched
    # With ``roundoff``: what a round-off cell is in exact arithmetic when that is not 0 (a weight after the
    # update that only round-off moved keeps its value before), same shape; None = 0.
    roundoff_base: np.ndarray | None = None
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


# Kinds whose levels are fixed when a spec gives none: heatmaps of these kinds share a colour bar.
FIXED_LEVELS = {theme.UNIT: (0.0, 1.0), theme.TANH: (-1.0, 1.0)}

# ---------------------------------------------------------------- printed numbers
PLAIN_RANGE = (0.1, 1000.0)   # largest magnitude in this range (as printed: 0.100 to 999.9): no power of ten
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def exponent_for(peak: float, levels: tuple[float, float] | None = None) -> int:
    """The power of ten the numbers are printed in (see the module docstring): from ``peak``, the
    largest magnitude among the values, or from the colour range's bound when ``peak`` is 0."""
    m = float(peak) if peak and np.isfinite(peak) else 0.0
    if m == 0.0 and levels is not None:
        m = max(abs(float(levels[0])), abs(float(levels[1])))
    low, high = PLAIN_RANGE
    if not np.isfinite(m) or m == 0.0 or low - 0.0005 <= m < high - 0.05:   # rounded as printed
        return 0
    return int(f"{m:.3e}".split("e")[1])   # the exponent of m rounded to 4 digits (9.9996 → 1.000e+01)


def _scaled(value: float, exponent: int) -> float:
    """value / 10^exponent, in two steps so that neither power of ten overflows (denormal values)."""
    half = exponent // 2
    return value / 10.0 ** half / 10.0 ** (exponent - half)


def exponent_suffix(exponent: int) -> str:
    """"  ×10⁻⁴" after a title (nothing for 10⁰)."""
    return f"  ×10{str(exponent).translate(_SUPERSCRIPT)}" if exponent else ""


def format_value(value: float, exponent: int = 0) -> str:
    """A cell's text: ``value`` / 10^exponent, three decimals below 10, one from 10 up; "≈0" for
    a non-zero value that would print as 0.000 (a bare "0" is exactly zero). Never e-notation."""
    value = float(value)
    if not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    if value == 0:
        return "0"
    scaled = _scaled(value, exponent) if exponent else value
    size = abs(scaled)
    if size < 0.0005:
        return "≈0"
    if size < 9.9995:
        return f"{scaled:.3f}"
    if size < 999.95:
        return f"{scaled:.1f}"
    return ">999" if scaled > 0 else "<-999"   # only round-off cells, left out of the exponent, get here


def peak_of(data: np.ndarray, valid: np.ndarray | None = None, roundoff: np.ndarray | None = None) -> float:
    """The largest magnitude among the finite, computed (``valid``), non-round-off values (0 if none)."""
    keep = np.isfinite(data)
    if valid is not None:
        keep &= np.asarray(valid, dtype=bool).reshape(data.shape)
    if roundoff is not None:
        keep &= ~np.asarray(roundoff, dtype=bool).reshape(data.shape)
    if keep.all():
        return float(np.abs(data).max()) if data.size else 0.0
    return float(np.abs(data[keep]).max()) if keep.any() else 0.0


def _bar_axis_width(font: QtGui.QFont) -> int:
    """px for a colour bar's tick labels: the widest sample, the tick and pyqtgraph's 5 px text offset."""
    return int(np.ceil(QtGui.QFontMetricsF(font).horizontalAdvance(BAR_TICK_SAMPLE))) + 7


def _bar_tick_strings(values: list[float], scale: float, spacing: float) -> list[str]:
    """Colour bar tick labels in plain decimals, as many as the tick spacing needs (pyqtgraph's
    own switch to e-notation below 0.001 and above 10000)."""
    step = abs(spacing * scale)
    places = 0
    while places < 6 and abs(round(step, places) - step) > 1e-9 * max(1.0, step):
        places += 1
    out = []
    for v in values:
        text = f"{v * scale:.{places}f}"
        out.append("0" if float(text) == 0 else text)
    return out


SHORT_BAR = 90.0   # px: a colour bar shorter than this is labelled at its ends (and 0 or its middle) only


def short_bar_ticks(levels: tuple[float, float], scale: float, length: float) -> list | None:
    """Ticks for a colour bar ``length`` px tall: None (pyqtgraph's own) when it is tall enough,
    else its two ends, with 0 or the middle between them when there is room for a third label."""
    if length >= SHORT_BAR:
        return None
    low, high = float(levels[0]), float(levels[1])
    values = [low, high]
    if length >= 40:
        values.insert(1, 0.0 if low < 0 < high else (low + high) / 2)
    return [[(v, "0" if v == 0 else f"{v * scale:.3g}") for v in values]]


SPACE_MARK = "▁"           # a space on an axis: a low bar that stays visible at small font sizes
TICK_POINT_SIZES = (8.0, 7.0, 6.0, 5.5)  # axis labels shrink through these before any is dropped


@lru_cache(maxsize=64)
def _axis_labels(names: tuple) -> tuple[str, ...]:
    """:func:`_label` of every name (kept: a vocabulary's axis is set again on every step)."""
    return tuple(_label(str(t)) for t in names)


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


def _pixel_size(vb: pg.ViewBox) -> tuple[float, float]:
    """The size of a screen pixel in view units; (0, 0) while the view is not on a screen yet."""
    try:
        return vb.viewPixelSize()
    except TypeError:   # pyqtgraph maps None while the view has no device transform yet
        return (0.0, 0.0)


class Heatmap(QtCore.QObject):
    """A heatmap inside a pyqtgraph GraphicsLayout (several share one view)."""

    hovered = QtCore.Signal(str)
    cell_double_clicked = QtCore.Signal(int, int)
    context_requested = QtCore.Signal(object, object)  # QPoint on screen, (row, col) under it or None: right-click

    def __init__(self, layout: pg.GraphicsLayout, kind: str, name: str, row: int, col: int,
                 parent: QtCore.QObject | None = None, rowspan: int = 1, colspan: int = 1,
                 shared_bar: bool = False):
        """``shared_bar``: the panel decides which colour bar shows this heatmap's scale
        (:func:`arrange_colour_bars`); otherwise it draws its own."""
        super().__init__(parent)
        self.kind = kind
        self.name = name
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=col, rowspan=rowspan, colspan=colspan,
                                                axisItems=StaticAxis.pair())
        self.plot.invertY(True)
        self.plot.hideButtons()
        # The title is over the heatmap and its colour bar: it may be as wide as both together.
        # (Column 6, after the bar, takes what a title is wider than both: a panel keeps the view's size.)
        self.plot.layout.removeItem(self.plot.titleLabel)
        self.plot.layout.addItem(self.plot.titleLabel, 0, 1, 1, 6)
        self.plot.setMenuEnabled(False)
        self.plot.getViewBox().setDefaultPadding(0.0)
        tick_font = QtGui.QFont()
        tick_font.setPointSize(8)
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setStyle(tickLength=0, tickFont=tick_font)
        self.image = PreparedImage(axisOrder="row-major")
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
        self._colour_kind = kind
        self.image.setColorMap(theme.colormap(kind))
        # The colour bar this heatmap can host (made now, as the plot: panels are built ahead, in idle
        # time) and the heatmaps whose scale the bar it is drawn with shows: ``group``, whose last
        # one hosts that bar.
        self._bar: pg.ColorBarItem = self._make_bar()
        self._hosting = False
        self.group: list[Heatmap] = [self]
        self._shared = shared_bar
        self._peak = 0.0        # largest magnitude among the values the exponent is chosen from
        self._exponent = 0      # the power of ten the numbers are printed in
        # Axes and titles rarely change: Qt keeps them as pixmaps
        # instead of calling their (Python) paint on every repaint of the canvas.
        cache = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
        for item in (self.plot.getAxis("left"), self.plot.getAxis("bottom"), self.plot.titleLabel):
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
        if not shared_bar:
            self._host([self])

    # ------------------------------------------------------------ colour bar
    @property
    def colorbar(self) -> pg.ColorBarItem:
        """The colour bar that shows this heatmap's scale (its own or one it shares)."""
        return self.group[-1]._bar

    @property
    def exponent(self) -> int:
        """The power of ten its numbers (and its colour bar's ticks) are printed in."""
        return self._exponent

    def cells(self) -> tuple[int, int]:
        """(rows, columns) of the matrix it shows, or of the dashed box that stands for it; a
        guess of a small matrix when neither is known."""
        spec = self._shown
        if spec is not None and spec.data is not None:
            shape = np.shape(spec.data)
            return (1, shape[0]) if len(shape) == 1 else (shape[0], shape[1])
        if spec is not None and spec.shape is not None and len(spec.shape) == 2 and min(spec.shape) >= 1:
            return (int(spec.shape[0]), int(spec.shape[1]))
        return UNKNOWN_SHAPE

    def has_numbers(self) -> bool:
        return self._shown is not None and self._shown.data is not None

    def scale_key(self, own: bool = False) -> tuple:
        """What must be equal for two heatmaps to share a colour bar: the colour kind and the
        levels. Levels computed from the heatmap's own numbers (no ``levels`` in its spec and no
        fixed range for its kind) and baseline differences (``own``) are its own."""
        spec = self._shown
        if own or spec is None or spec.diff is not None:
            return ("own", id(self))
        levels = spec.levels if spec.levels is not None else FIXED_LEVELS.get(self.kind)
        if levels is None:
            return ("own", id(self))
        return (self.kind, (float(levels[0]), float(levels[1])))

    def _make_bar(self) -> pg.ColorBarItem:
        bar = pg.ColorBarItem(values=FIXED_LEVELS.get(self.kind, (-1.0, 1.0)), colorMap=theme.colormap(self.kind),
                              interactive=False, width=10, colorMapMenu=False)
        bar.kind = self.kind
        for side in ("top", "bottom", "left"):  # frame-only axes: each would be painted on every change
            bar.hideAxis(side)
        axis = bar.axis
        axis.enableAutoSIPrefix(False)     # a maths tool: no SI prefixes, the scale is said as ×10ᵉ
        axis.tickStrings = _bar_tick_strings
        font = QtGui.QFont()
        font.setPointSizeF(BAR_POINT_SIZE)
        axis.setStyle(tickFont=font, maxTextLevel=0)   # labels on the major ticks only
        axis.setWidth(_bar_axis_width(font))
        cache = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
        axis.setCacheMode(cache)
        bar.bar.setCacheMode(cache)
        bar.hide()   # until it is hosted
        return bar

    def _host(self, members: list["Heatmap"]) -> None:
        """Draw the colour bar of ``members`` (this heatmap last) at this heatmap's right."""
        bar = self._bar
        if not self._hosting:
            self._hosting = True
            self.plot.layout.addItem(bar, 2, 5)            # where ColorBarItem's insert_in puts it
            self.plot.layout.setColumnFixedWidth(4, 5)     # room between the plot and the bar
            bar.show()
        # The bar hands its levels and colour map to the images it serves: first make them theirs.
        bar.setImageItem([])
        live = [m for m in members if m.has_numbers()]
        if live:
            set_bar_levels(bar, live[0]._levels)
        kind = members[-1]._colour_kind       # one kind in a group (see scale_key)
        if kind != bar.kind:
            bar.kind = kind
            bar.setColorMap(theme.colormap(kind))
        bar.setImageItem([m.image for m in members])

    def _fit_bar_ticks(self) -> None:
        """Label a short colour bar (as tall as this heatmap's view) at its ends only."""
        if not self._hosting:
            return
        bar = self._bar
        ticks = short_bar_ticks(tuple(bar.levels()), bar.axis.scale, self.plot.vb.height())
        if getattr(bar, "_short_ticks", None) != ticks:
            bar._short_ticks = ticks
            bar.axis.setTicks(ticks)

    def _unhost(self) -> None:
        if not self._hosting:
            return
        self._hosting = False
        bar = self._bar
        bar.setImageItem([])
        self.plot.layout.removeItem(bar)
        self.plot.layout.setColumnFixedWidth(4, 0)
        bar.hide()

    def _apply_exponent(self, exponent: int) -> None:
        """Print the numbers (and say so in the title) in units of 10^exponent."""
        if exponent == self._exponent:
            return
        self._exponent = exponent
        if self.has_numbers():
            self._set_title(self._shown.title + exponent_suffix(exponent))
            self.texts.set_exponent(exponent)

    def _set_title(self, title: str) -> None:
        if title != self._title:  # a new title re-lays out the whole canvas: only when it changes
            self._title = title
            set_title_keeping_room(self.plot, title)

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
        if spec.data is None:
            self._set_title(spec.title)
            self._levels, self._peak = None, 0.0
            self._show_placeholder(spec.note or "not computed yet", spec)
            if not self._shared:
                update_colour_bar(self.group)
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
        levels = (float(levels[0]), float(levels[1]))
        self.image.setImage(shown, levels=levels, autoLevels=False)
        got = self.image.levels
        if got is None or (float(got[0]), float(got[1])) != levels:  # a colour bar's levels, handed on before the first image
            self.image.setLevels(levels)
        self.image.show()
        self._levels = levels
        # The power of ten its numbers print in: from its own numbers when it has its own colour bar;
        # a shared bar's is chosen by update_colour_bar once every heatmap it serves is set (meanwhile
        # the last one stands, so a title does not flip back and forth on every step).
        self._peak = peak_of(data, spec.valid, spec.roundoff)
        if not self._shared:
            self._exponent = exponent_for(self._peak, levels)
        self._set_title(spec.title + exponent_suffix(self._exponent))
        self._set_overlay(spec.valid, bad)
        self._set_roundoff(spec.roundoff, spec.valid, data.shape)
        self._set_marker(spec.highlight, data.shape)
        self._set_emphasis(spec.emphasis)
        self._set_ticks(spec, data.shape, relayout=False)  # laid out below, once
        self._set_cell_texts(data, spec.valid, levels)
        self._set_marks(spec)
        self._relayout()
        if self._shape_changed(data.shape):
            vb = self.plot.getViewBox()
            vb.setLimits(xMin=-0.5 * data.shape[1], xMax=1.5 * data.shape[1],
                         yMin=-0.5 * data.shape[0], yMax=1.5 * data.shape[0])
            vb.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0)
        if not self._shared:
            update_colour_bar(self.group)
        return True

    def prepare(self, spec: HeatmapData) -> bool:
        """Idle time: colour the image and make the cell labels of ``spec`` (the next step's), as
        :meth:`set_data` will want them, so the click only hands them over. Numbers that need more
        (NaN/Inf, a difference view, another colour map) are left to the click. False: nothing done."""
        if spec.data is None or spec.diff is not None or spec.key() == self._key or self._colour_kind != self.kind:
            return False
        data = np.asarray(spec.data, dtype=np.float32)
        if data.ndim == 1:
            data = data[None, :]
        if data.ndim != 2 or not np.isfinite(data).all():
            return False
        levels = spec.levels or self._default_levels(data)
        levels = (float(levels[0]), float(levels[1]))
        done = self.image.prepare(data, levels)
        if self.texts.drawn:  # its labels were drawn last time: they will be again
            mask = None if spec.valid is None else np.asarray(spec.valid, dtype=bool).reshape(data.shape)
            self.texts.prepare(data, mask, levels, theme.colormap(self._colour_kind), self._exponent, format_value)
        return done

    def _set_colour_kind(self, kind: str) -> None:
        """The baseline difference hook: signed differences use the diverging map, whatever the heatmap's kind."""
        if kind != self._colour_kind:
            self._colour_kind = kind
            self.image.setColorMap(theme.colormap(kind))

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
        """A shaped placeholder has no axes, but keeps their room: they are drawn in transparent
        pens. (Its colour bar, transparent while no heatmap it serves has numbers, keeps its room too.)"""
        if hidden == self._decor_hidden:
            return
        self._decor_hidden = hidden
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
        self._set_colour_kind(self.kind)
        self.image.hide()
        self.overlay.hide()
        self._set_roundoff(None, None, (0, 0))
        self.marker.hide()
        self.halo.hide()
        self._set_emphasis("")
        self.texts.clear()
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

    def _set_ticks(self, spec: HeatmapData, shape: tuple[int, ...], relayout: bool = True) -> None:
        rows = _axis_labels(tuple(spec.row_labels)) if spec.row_labels is not None else None
        cols = _axis_labels(tuple(spec.col_labels)) if spec.col_labels is not None else None
        self._labels = (rows or [str(i) for i in range(shape[0])], cols or [str(i) for i in range(shape[1])])
        if relayout:
            self._relayout()

    def _cell_pixels(self) -> tuple[float, float]:
        """On-screen size of one cell (depends on the widget size and zoom)."""
        px_w, px_h = _pixel_size(self.plot.getViewBox())
        return (1.0 / px_w if px_w else 0.0, 1.0 / px_h if px_h else 0.0)

    def _place_frame(self) -> None:
        """The dashed box, one pixel inside the view's edges (the view clips what lies on them)."""
        if not self.frame.isVisible():
            return
        rows, cols = self._frame_shape
        px_w, px_h = _pixel_size(self.plot.getViewBox())
        dx, dy = min(px_w, cols / 4), min(px_h, rows / 4)
        self.frame.setRect(QtCore.QRectF(dx, dy, cols - 2 * dx, rows - 2 * dy))

    def _relayout(self, *args) -> None:
        """Thin out axis labels so that they never overlap."""
        self._place_frame()
        self._fit_bar_ticks()
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
        """The numbers to print in the cells; laid out only when painted with cells large enough."""
        mask = None if valid is None else np.asarray(valid, dtype=bool).reshape(data.shape)
        self.texts.set_values(data, mask, levels, theme.colormap(self._colour_kind), self._exponent, format_value)

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
            return (f"{where}: now {float(now[r, c]):.7g}, {spec.diff_label} {float(base[r, c]):.7g}, "
                    f"Δ {float(data[r, c]):+.7g}")
        roundoff = spec.roundoff
        if roundoff is not None and np.asarray(roundoff).reshape(data.shape)[r, c]:
            if spec.roundoff_base is not None:
                base = float(np.asarray(spec.roundoff_base).reshape(data.shape)[r, c])
                value = float(data[r, c])
                return (f"{where} = {value:.7g}: moved by round-off only ({value - base:+.1e}); "
                        f"in exact arithmetic it keeps {base:.7g}")
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


def update_colour_bar(members: Sequence[Heatmap]) -> None:
    """Bring the colour bar of ``members`` (hosted by the last) up to date: drawn only while one
    of them has numbers, their levels and colour map, and one power of ten for all of them."""
    bar = members[-1]._bar
    live = [m for m in members if m.has_numbers()]
    opacity = 1.0 if live else 0.0
    if bar.opacity() != opacity:
        bar.setOpacity(opacity)
    if not live:
        return
    levels = live[0]._levels
    if tuple(bar.levels()) != levels:
        set_bar_levels(bar, levels)   # the images have them already
    kind = live[0]._colour_kind
    if kind != bar.kind:
        bar.kind = kind
        bar.setColorMap(theme.colormap(kind))
    exponent = exponent_for(max(m._peak for m in live), levels)
    scale = 10.0 ** -exponent
    if bar.axis.scale != scale:
        bar.axis.setScale(scale)
    members[-1]._fit_bar_ticks()
    for m in live:
        m._apply_exponent(exponent)


def colour_groups(rows: Sequence[Sequence[Heatmap | None]], own: bool = False) -> list[list[Heatmap]]:
    """Heatmaps that share a colour bar: runs of neighbours in a row (left to right; None is a plot
    that is not a heatmap and ends a run) with one kind and one set of levels (see scale_key).
    ``own``: every heatmap keeps its own bar (baseline differences have their own levels)."""
    groups: list[list[Heatmap]] = []
    for row in rows:
        run: list[Heatmap] = []
        key = None
        for item in row:
            this = None if item is None else item.scale_key(own)
            if item is not None and run and this == key and this[0] != "own":
                run.append(item)
                continue
            if run:
                groups.append(run)
            run, key = ([item], this) if item is not None else ([], None)
        if run:
            groups.append(run)
    return groups


def arrange_colour_bars(rows: Sequence[Sequence[Heatmap | None]], own: bool = False) -> list[list[Heatmap]]:
    """One colour bar per group of :func:`colour_groups`, after its last heatmap; moves bars only
    when the groups change (after the numbers of every heatmap are set)."""
    groups = colour_groups(rows, own)
    for group in groups:
        ids = [id(m) for m in group]
        if group[-1]._hosting and all([id(x) for x in m.group] == ids for m in group):
            continue
        for m in group[:-1]:
            m._unhost()
        group[-1]._host(group)
        for m in group:
            m.group = group
    for group in groups:
        update_colour_bar(group)
    return groups
