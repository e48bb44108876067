"""A small line plot that lives in a panel's layout next to heatmaps."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from . import theme
from .static_axis import StaticAxis, set_title_keeping_room


@dataclass
class CurveData:
    title: str
    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    ys: dict[str, np.ndarray] = field(default_factory=dict)  # legend name -> values
    x_title: str = ""
    y_title: str = ""
    marker_x: float | None = None  # a vertical line (current timestep)
    x_range: tuple[float, float] | None = None  # fixed ranges keep the axes still while data fills in
    y_range: tuple[float, float] | None = None
    note: str = ""
    # legend name -> (colour, dashed); a curve not named here takes the plot's next colour, solid
    pens: dict[str, tuple[str, bool]] = field(default_factory=dict)
    legend_corner: str = "top right"   # where the curves leave room: "top right", "bottom right", "bottom left"…
    legend_room: float = 0.0           # y_range grows by this fraction on the legend's side (a short plot)
    legend_columns: int = 1            # names side by side: one row of legend in a short plot

    def key(self) -> tuple:
        return (self.title, self.x.tobytes(), tuple((k, v.tobytes()) for k, v in self.ys.items()),
                self.x_range, self.y_range,
                self.marker_x, self.note, tuple(sorted(self.pens.items())), self.legend_corner,
                self.legend_room, self.legend_columns)


class CurvePlot(QtCore.QObject):
    """Same contract as Heatmap: ``set_data`` redraws only on change."""

    PENS = ("#4a90d9", "#d0342c", "#2e9e5b", "#a05cc8")
    CORNERS = {"top right": (-6, 4), "bottom right": (-6, -4), "top left": (6, 4), "bottom left": (6, -4)}

    def __init__(self, layout: pg.GraphicsLayout, spec, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.name = spec.name
        self.kind = "curve"
        self.plot: pg.PlotItem = layout.addPlot(row=spec.row, col=spec.col, rowspan=spec.rowspan,
                                                colspan=spec.colspan, axisItems=StaticAxis.pair())
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.layout.removeItem(self.plot.titleLabel)   # as a heatmap's: over the view and what is right of it
        self.plot.layout.addItem(self.plot.titleLabel, 0, 1, 1, 6)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        for side in ("left", "bottom"):  # no "(x0.001)" prefix scaling: ticks read the plotted values
            self.plot.getAxis(side).enableAutoSIPrefix(False)
            self.plot.getAxis(side).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.legend = self.plot.addLegend(offset=self.CORNERS["top right"], labelTextSize="8pt",
                                          brush=self._legend_brush())
        self.legend.layout.setContentsMargins(2, 0, 2, 0)  # no more than the names need: it covers the plot
        self._corner = "top right"
        self._styles: dict[str, tuple[str, bool]] = {}
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.current().highlight, width=2))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.note = pg.TextItem("", anchor=(0.5, 0.5), color=theme.current().foreground)
        self.plot.addItem(self.note, ignoreBounds=True)
        self._key: tuple | None = None
        self.shown: CurveData | None = None
        self.repaints = 0
        self.shown_titles: tuple[str, str, str] | None = None

    @staticmethod
    def _legend_brush() -> QtGui.QColor:
        """The canvas's own background (the theme sets it), a little translucent: a curve under the
        legend still shows through, the names stay readable."""
        back = pg.mkColor(pg.getConfigOption("background"))
        back.setAlpha(200)
        return back

    def set_data(self, data: CurveData) -> bool:
        key = data.key()
        if key == self._key:
            return False
        self._key, self.shown = key, data
        self.repaints += 1
        if self.shown_titles != (data.title, data.x_title, data.y_title):  # each re-lays out the canvas
            self.shown_titles = (data.title, data.x_title, data.y_title)
            set_title_keeping_room(self.plot, data.title)
            self.plot.setLabel("bottom", data.x_title)
            self.plot.setLabel("left", data.y_title)
        if data.legend_corner != self._corner and data.legend_corner in self.CORNERS:
            self._corner = data.legend_corner
            self.legend.setOffset(self.CORNERS[data.legend_corner])
        if self.legend.columnCount != data.legend_columns:
            self.legend.setColumnCount(data.legend_columns)
        for name in [n for n in self.curves if n not in data.ys]:  # gone: out of the plot and the legend
            curve = self.curves.pop(name)
            self._styles.pop(name, None)
            self.legend.removeItem(curve)
            self.plot.removeItem(curve)
        for k, (name, ys) in enumerate(data.ys.items()):
            colour, dashed = data.pens.get(name, (self.PENS[k % len(self.PENS)], False))
            if name not in self.curves:
                self.curves[name] = self.plot.plot([], [], symbolSize=5, name=name)
            if self._styles.get(name) != (colour, dashed):  # a step changes the values, rarely the look
                self._styles[name] = (colour, dashed)
                style = QtCore.Qt.PenStyle.DashLine if dashed else QtCore.Qt.PenStyle.SolidLine
                self.curves[name].setPen(pg.mkPen(colour, width=2, style=style))
                self.curves[name].setSymbol("t" if dashed else "o")   # told apart without colour, too
                self.curves[name].setSymbolBrush(colour)
                self.curves[name].setSymbolPen(colour)
            ok = np.isfinite(ys)
            self.curves[name].setData(data.x[ok], ys[ok])
        if data.marker_x is None:
            self.marker.hide()
        else:
            self.marker.setPos(data.marker_x)
            self.marker.show()
        self.legend.setVisible(bool(data.ys))   # no empty box when nothing is drawn
        if self.legend.brush().color() != self._legend_brush():   # the theme changed
            self.legend.setBrush(self._legend_brush())
        for side in ("left", "bottom"):         # a note's plot has no axis values (nothing is plotted there);
            axis = self.plot.getAxis(side)      # they turn invisible, keeping their room: no re-layout
            colour = axis.textPen().color()
            if (colour.alpha() == 0) != bool(data.note):
                colour.setAlpha(0 if data.note else 255)
                axis.setTextPen(colour)
        self.note.setText(data.note)
        if data.note:
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.note.setPos(0.5, 0.5)
        elif data.x_range is not None and data.y_range is not None:
            low, high = data.y_range
            room = data.legend_room * (high - low) if data.ys else 0.0
            y_range = (low - room, high) if data.legend_corner.startswith("bottom") else (low, high + room)
            self.plot.setRange(xRange=data.x_range, yRange=y_range, padding=0.05)
        else:
            self.plot.enableAutoRange()
        return True
