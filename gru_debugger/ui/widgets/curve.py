"""A small line plot that lives in a panel's layout next to heatmaps."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

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

    def key(self) -> tuple:
        return (self.title, self.x.tobytes(), tuple((k, v.tobytes()) for k, v in self.ys.items()),
                self.x_range, self.y_range,
                self.marker_x, self.note)


class CurvePlot(QtCore.QObject):
    """Same contract as Heatmap: ``set_data`` redraws only on change."""

    PENS = ("#4a90d9", "#d0342c", "#2e9e5b", "#a05cc8")

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
        self.legend = self.plot.addLegend(offset=(-8, 8), labelTextSize="8pt")  # curves say which is which
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.current().highlight, width=2))
        self.marker.hide()
        self.plot.addItem(self.marker)
        self.note = pg.TextItem("", anchor=(0.5, 0.5), color=theme.current().foreground)
        self.plot.addItem(self.note, ignoreBounds=True)
        self._key: tuple | None = None
        self.shown: CurveData | None = None
        self.repaints = 0
        self.shown_titles: tuple[str, str, str] | None = None

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
        for k, (name, ys) in enumerate(data.ys.items()):
            if name not in self.curves:
                pen = pg.mkPen(self.PENS[k % len(self.PENS)], width=2)
                self.curves[name] = self.plot.plot([], [], pen=pen, symbol="o", symbolSize=5,
                                                   symbolBrush=self.PENS[k % len(self.PENS)], name=name)
            ok = np.isfinite(ys)
            self.curves[name].setData(data.x[ok], ys[ok])
        for name, curve in self.curves.items():
            if name not in data.ys:
                curve.setData([], [])
        if data.marker_x is None:
            self.marker.hide()
        else:
            self.marker.setPos(data.marker_x)
            self.marker.show()
        self.note.setText(data.note)
        if data.note:
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.note.setPos(0.5, 0.5)
        elif data.x_range is not None and data.y_range is not None:
            self.plot.setRange(xRange=data.x_range, yRange=data.y_range, padding=0.05)
        else:
            self.plot.enableAutoRange()
        return True
