"""A panel of heatmaps that share one pyqtgraph view, built from specs.

A spec names a heatmap, its colour kind, its grid cell and a function that
turns a Snapshot (and the ViewState) into :class:`HeatmapData`. The panel
redraws only heatmaps whose data changed, and only while it is visible.
Neighbours in a grid row with one colour kind and one set of levels share a
colour bar, drawn after the last of them (see ``arrange_colour_bars`` in
widgets/heatmap.py); while the panel shows differences from a baseline every
heatmap has its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ...core.control.controller import ControllerError
from ...core.analysis.snapshot import Snapshot
from .baseline import DiffCache, base_views
from ..widgets.curve import CurvePlot, CurveData
from ..widgets.heatmap import Heatmap, HeatmapData, arrange_colour_bars
from ..widgets.view_state import ViewState
from .packing import Box, pack
from ..widgets.subscribe import subscribe

BAR_GAP = 5   # px between a heatmap and its colour bar (see Heatmap._host)
HOVER_HINT = "Hover a cell to see its exact value."

Builder = Callable[[Snapshot, ViewState], "HeatmapData | CurveData"]
# A notice above the heatmaps: snapshot -> (text, fix or None), or None for no notice. A fix is
# (parameter, init spec) for controller.set_init, offered as a button.
Notice = Callable[[Snapshot], "tuple[str, tuple[str, Any] | None] | None"]
NOTICE_STYLE = ("QFrame#panel-notice { background: rgba(230, 160, 20, 0.13); border: 1px solid rgba(200, 140, 20, 0.55);"
                " border-radius: 4px; }")


class _Canvas(pg.GraphicsLayoutWidget):
    """The panel's plots (one scene for all of them)."""


TITLE_COLUMN = 6   # the column of a plot's own layout that takes a title's width beyond its view and bar


def size_view(plot: pg.PlotItem, width: float, height: float, beside: float = 0.0) -> None:
    """Draw ``plot``'s view ``width``×``height`` px, its axes as long as the view (its colour bar,
    in the view's row, as tall), and the plot no larger than it needs around them. ``beside``: px
    right of the view (a colour bar); a title wider than the view and that goes beyond the bar,
    not into the view."""
    width, height = float(int(width)), float(int(height))   # whole pixels: images of a plot are exact
    layout = plot.layout
    if getattr(plot, "_view_size", None) != (width, height):
        plot._view_size = (width, height)
        for item in (plot.vb,):
            item.setMinimumSize(width, height)
            item.setMaximumSize(width, height)
        for side in ("top", "bottom"):
            plot.getAxis(side).setMaximumWidth(width)
        for side in ("left", "right"):
            plot.getAxis(side).setMaximumHeight(height)
    title = plot.titleLabel.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width()
    layout.setColumnMinimumWidth(TITLE_COLUMN, max(0.0, title - width - beside))
    layout.setColumnMaximumWidth(TITLE_COLUMN, max(0.0, title - width - beside))
    plot.setMaximumSize(layout.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize))


def span_title(plot: pg.PlotItem) -> None:
    """The title over the view, the colour bar and the title column (see size_view)."""
    plot.layout.removeItem(plot.titleLabel)
    plot.layout.addItem(plot.titleLabel, 0, 1, 1, TITLE_COLUMN)


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str
    row: int
    col: int
    build: Builder
    editable_param: str | None = None  # parameter a double-click edits (see the editing panel)
    rowspan: int = 1
    colspan: int = 1


class TensorPanel(QtWidgets.QWidget):
    """Heatmaps for one part of the network (input, GRU cell, output, …)."""

    cell_edit_requested = QtCore.Signal(str, int, int, str)  # heatmap name, row, col, parameter
    hover = QtCore.Signal(str)
    context_menu_requested = QtCore.Signal(object, str, object)  # this panel, heatmap name, QPoint on screen

    def __init__(self, title: str, specs: list[Spec], controller, view_state: ViewState,
                 parent: QtWidgets.QWidget | None = None, intro: str = "",
                 header: QtWidgets.QWidget | None = None, caption: Callable[[Snapshot, ViewState], str] | None = None,
                 specs_for: Callable[[str], Sequence[Spec]] | None = None,
                 intro_for: Callable[[str], str] | None = None, notice: Notice | None = None):
        super().__init__(parent)
        self.setObjectName(f"panel-{title}")
        self.title = title
        self.specs = specs
        # Panels whose heatmaps depend on the cell rebuild them when it changes.
        self._specs_for, self._intro_for = specs_for, intro_for
        self._cell = controller.config.cell
        self.view_state = view_state
        self.controller = controller
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        if header is not None:
            header.setParent(self)
            layout.addWidget(header)
        self.intro = QtWidgets.QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.intro.setObjectName("panel-intro")
        self.intro.setVisible(bool(intro))
        layout.addWidget(self.intro)
        self.caption_for = caption
        self.caption = QtWidgets.QLabel(self)
        self.caption.setObjectName("panel-caption")
        self.caption.setStyleSheet("font-weight: bold;")
        self.caption.setWordWrap(True)  # never force the panel wider than its dock
        self.caption.setVisible(caption is not None)
        layout.addWidget(self.caption)
        self._build_notice(layout, notice)
        # The plots, in a scroll area: a panel shorter than its plots' minimum height scrolls
        # instead of squashing them (see panels/packing.py for how big each plot is drawn).
        self.scroll = QtWidgets.QScrollArea(self)
        self.scroll.setObjectName("panel-scroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.canvas = _Canvas(parent=self)
        self.canvas.ci.setSpacing(6)
        self.canvas.ci.layout.setVerticalSpacing(12)  # room between an axis and the next title
        self.scroll.setWidget(self.canvas)
        self.scroll.viewport().installEventFilter(self)
        layout.addWidget(self.scroll, 1)
        self._packed: tuple | None = None   # what the plots were last sized for
        self._repacks = 0                   # checks after a packing (the axes settle their room)
        self._settle_timer = QtCore.QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(0)
        self._settle_timer.timeout.connect(self._settle)
        self.info = QtWidgets.QLabel(HOVER_HINT, self)
        self.info.setObjectName("hover-info")
        self.info.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.info)
        # Built the first time the panel is shown or asked for them (see ``heatmaps``): a window
        # starts with only its front panel's plots.
        self._heatmaps: dict[str, Heatmap | CurvePlot] = {}
        self._rows: list[list[Heatmap | None]] = []  # the plots of each grid row, left to right (None: a curve)
        self._built = False
        self._hovered: tuple[str, int, int] | None = None  # the cell the read-out describes
        self.canvas.scene().sigMouseMoved.connect(self._track_hover)
        self.baseline = None  # a BaselineHolder (panels/baseline.py) once the window attaches one
        self._diffs = DiffCache()
        self.context_cell: tuple[str, tuple[int, int] | None] | None = None  # the last right-click
        self._snapshot: Snapshot | None = None
        self._stale = True
        subscribe(controller.changed, self, self._on_changed)
        view_state.changed.connect(self._on_view_changed)
        self._on_changed(controller.snapshot())

    def _build_notice(self, layout: QtWidgets.QVBoxLayout, notice: Notice | None) -> None:
        """A quiet box that says why (with a one-click fix when there is one); hidden when there is nothing to say."""
        self.notice_for = notice
        self._fix: tuple[str, Any] | None = None
        self.notice = QtWidgets.QFrame(self)
        self.notice.setObjectName("panel-notice")
        self.notice.setStyleSheet(NOTICE_STYLE)
        row = QtWidgets.QHBoxLayout(self.notice)
        row.setContentsMargins(8, 4, 6, 4)
        self.notice_text = QtWidgets.QLabel(self.notice)
        self.notice_text.setObjectName("panel-notice-text")
        self.notice_text.setWordWrap(True)
        self.notice_text.setStyleSheet("background: transparent; border: none;")
        self.notice_text.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.notice_text, 1)
        self.fix_button = QtWidgets.QPushButton("Break the symmetry", self.notice)
        self.fix_button.setObjectName("panel-notice-fix")
        self.fix_button.clicked.connect(self._apply_fix)
        row.addWidget(self.fix_button, 0, QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.notice.hide()
        layout.addWidget(self.notice)

    def _show_notice(self, snapshot: Snapshot) -> None:
        found = self.notice_for(snapshot) if self.notice_for is not None else None
        if found is None:
            self._fix = None
            self.notice.hide()
            return
        text, self._fix = found
        self.notice_text.setText(text)
        self.fix_button.setVisible(self._fix is not None)
        if self._fix is not None:
            name, spec = self._fix
            values = ", ".join(f"{k} {v:g}" for k, v in spec.items() if k != "scheme" and isinstance(v, (int, float)))
            self.fix_button.setToolTip(f"Draw {name} anew ({spec.get('scheme', '')}{': ' + values if values else ''});"
                                       " one undo step")
        self.notice.show()

    def _apply_fix(self) -> None:
        if self._fix is None:
            return
        try:
            self.controller.set_init(*self._fix)
        except ControllerError as exc:
            self.notice_text.setText(f"Could not apply the fix: {exc}")
            self.fix_button.hide()

    @property
    def heatmaps(self) -> dict[str, "Heatmap | CurvePlot"]:
        """The plots by spec name, built (and filled) on first use."""
        if not self._built:
            self.build()
            if self._stale:
                self.refresh()
        return self._heatmaps

    @property
    def built(self) -> bool:
        return self._built

    def build(self) -> None:
        """Create the plots (once; again after the cell changed)."""
        if not self._built:
            self._built = True
            self._build(self.specs)

    def _build(self, specs: Sequence[Spec]) -> None:
        rows: dict[int, list[tuple[int, Heatmap | None]]] = {}
        for spec in specs:
            if spec.kind == "curve":
                self._heatmaps[spec.name] = CurvePlot(self.canvas.ci, spec, parent=self)
                rows.setdefault(spec.row, []).append((spec.col, None))
                continue
            heatmap = Heatmap(self.canvas.ci, spec.kind, spec.name, spec.row, spec.col, parent=self,
                              rowspan=spec.rowspan, colspan=spec.colspan, shared_bar=True)
            heatmap.hovered.connect(self._on_hover)
            heatmap.cell_double_clicked.connect(self._on_double_click)
            heatmap.context_requested.connect(self._on_context_requested)
            self._heatmaps[spec.name] = heatmap
            rows.setdefault(spec.row, []).append((spec.col, heatmap))
        self._rows = [[item for _, item in sorted(rows[r], key=lambda pair: pair[0])] for r in sorted(rows)]
        self.info.setVisible(any(spec.kind != "curve" for spec in specs))  # no cell to hover over: no hint
        top_left = QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop
        for item in self._heatmaps.values():   # a plot smaller than its grid cell sits at its top left
            self.canvas.ci.layout.setAlignment(item.plot, top_left)

    def _rebuild_for(self, cell: str) -> None:
        """The cell changed: drop this panel's heatmaps and build the new cell's."""
        self._cell = cell
        self.specs = list(self._specs_for(cell))
        self._rebuild()
        if self._intro_for is not None:
            text = self._intro_for(cell)
            self.intro.setText(text)
            self.intro.setVisible(bool(text))

    def _rebuild(self) -> None:
        """The plots anew, from ``self.specs`` (if they were built)."""
        if self._built:
            for item in self._heatmaps.values():
                item.deleteLater()
            self._heatmaps = {}
            self.canvas.ci.clear()
            self._packed = None
            self._build(self.specs)

    def retheme(self) -> None:
        """View → Theme: the plots are built again in the new scheme (colour maps, outlines, texts)."""
        from ..widgets import theme
        self.canvas.setBackground(theme.current().background)
        self._rebuild()
        self._stale = True
        if self.is_showing():
            self.refresh()

    # ------------------------------------------------------------ updates
    def _on_changed(self, snapshot: Snapshot) -> None:
        if self._specs_for is not None and snapshot.config.cell != self._cell:
            self._rebuild_for(snapshot.config.cell)
        self._snapshot = snapshot
        self._stale = True
        if self.is_showing():
            self.refresh()

    def _on_view_changed(self) -> None:
        self._stale = True
        if self.is_showing():
            self.refresh()

    def is_showing(self) -> bool:
        """On screen: a panel behind another dock tab is 'visible' to Qt but covered."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def on_dock_visibility(self, visible: bool) -> None:
        """Connected to the dock's visibilityChanged: catch up when a tab is raised."""
        if visible and self._stale:
            self.refresh()

    def heatmaps_shown(self) -> bool:
        return any(h.shown is not None for h in self._heatmaps.values())

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._stale:
            return
        if self.is_showing():
            self.refresh()
        else:  # every tab of a dock group is shown with the window: only the front one builds
            QtCore.QTimer.singleShot(0, self, self._catch_up)

    def _catch_up(self) -> None:
        if self._stale and self.is_showing():
            self.refresh()

    def refresh(self) -> int:
        """Bring every heatmap up to date; returns how many were redrawn."""
        if self._snapshot is None:
            return 0
        self.build()
        redrawn = 0
        if self.caption_for is not None:
            self.caption.setText(self.caption_for(self._snapshot, self.view_state))
        diffs = self.baseline is not None and self.baseline.active
        if self.notice_for is not None:
            self._show_notice(self._snapshot)
        for spec in self.specs:
            data = spec.build(self._snapshot, self.view_state)
            if diffs and isinstance(data, HeatmapData):
                base = base_views(self._snapshot, self.baseline, lambda snap, spec=spec: spec.build(snap, self.view_state))
                data = self._diffs.view(spec.name, data, base)
            redrawn += self._heatmaps[spec.name].set_data(data)
        arrange_colour_bars(self._rows, own=diffs)
        self.pack()
        self._stale = False
        self._refresh_hover()
        return redrawn

    def prepare_ahead(self, snapshot: Snapshot) -> int:
        """Idle time, for the panel in front: colour the images and make the labels of ``snapshot``
        (the next step's) so that step only hands them over. Returns how many heatmaps prepared
        something (none while a comparison view is on: what it subtracts depends on the click)."""
        if not self._built or (self.baseline is not None and self.baseline.active):
            return 0
        prepared = 0
        for spec in self.specs:
            heatmap = self._heatmaps.get(spec.name)
            if isinstance(heatmap, Heatmap):
                data = spec.build(snapshot, self.view_state)
                if isinstance(data, HeatmapData) and heatmap.prepare(data):
                    prepared += 1
        return prepared

    def paint_ahead(self, snapshot: Snapshot, size: QtCore.QSize) -> bool:
        """Fill this hidden panel with ``snapshot``'s numbers (the next step's) and paint it off screen
        at ``size``: the click that brings it up then finds them drawn. It stays stale, holding the
        current snapshot again, so it catches up before it is seen if that click does not come.
        Not while a comparison view is on (what it subtracts depends on the click). False: not done."""
        if self._snapshot is None or (self.baseline is not None and self.baseline.active):
            return False
        current = self._snapshot
        self._snapshot = snapshot
        try:
            if self.size() != size:
                self.resize(size)
            self.refresh()
            self.grab()
        finally:
            self._snapshot = current
            self._stale = True
        return True

    def attach_baseline(self, holder) -> None:
        """Show differences from the holder's baseline while it asks for them."""
        self.baseline = holder
        holder.changed.connect(self._on_view_changed)

    # ------------------------------------------------------------ sizes
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self.scroll.viewport() and event.type() == QtCore.QEvent.Type.Resize:
            self.pack()
        return super().eventFilter(watched, event)

    def _boxes(self) -> list[tuple[Box, "Heatmap | CurvePlot"]]:
        out = []
        for spec in self.specs:
            item = self._heatmaps.get(spec.name)
            if item is None:
                continue
            plot = item.plot
            left = plot.getAxis("left")
            margins = plot.layout.getContentsMargins()
            decor_w = left.minimumWidth() + margins[0] + margins[2]
            if isinstance(item, Heatmap):
                rows, cols = item.cells()
                if item._hosting:
                    decor_w += item._bar.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width() + BAR_GAP
            else:
                rows = cols = 0
            vb_min = plot.vb.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).height()
            decor_h = plot.layout.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).height() - vb_min
            title_w = plot.titleLabel.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width()
            inner = left.minimumWidth() + margins[0] + margins[2]   # what is left of the view
            out.append((Box(spec.row, spec.col, spec.rowspan, spec.colspan, rows, cols, float(decor_w),
                            float(decor_h), float(title_w + inner), float(inner)), item))
        return out

    def pack(self) -> None:
        """Size every plot's view by the rules of panels/packing.py for the room the panel has;
        does nothing when neither the room nor what the plots need changed."""
        if not self._built:
            return
        boxes = self._boxes()
        ci = self.canvas.ci.layout
        left, top, right, bottom = ci.getContentsMargins()
        room = self.scroll.viewport().size()
        width = room.width() - left - right - 2 * self.canvas.frameWidth()
        height = room.height() - top - bottom - 2 * self.canvas.frameWidth()
        key = (width, height, tuple((b.rows, b.cols, round(b.decor_w), round(b.decor_h), round(b.min_w))
                                    for b, _ in boxes))
        if key == self._packed:
            return
        self._packed = key
        done = pack([b for b, _ in boxes], width, height, ci.horizontalSpacing(), ci.verticalSpacing())
        for (box, item), where in zip(boxes, done.placed):
            size_view(item.plot, where.view_w, where.view_h, box.decor_w - box.inner_w)
        for setters, sizes in (((ci.setColumnMinimumWidth, ci.setColumnMaximumWidth), done.widths),
                               ((ci.setRowMinimumHeight, ci.setRowMaximumHeight), done.heights)):
            for i, size in enumerate(sizes):
                for put in setters:
                    put(i, size)
        gaps_w = ci.horizontalSpacing() * max(0, len(done.widths) - 1)
        gaps_h = ci.verticalSpacing() * max(0, len(done.heights) - 1)
        # the grid at the top left of the panel, no larger than its lines
        self.canvas.ci.setMaximumSize(sum(done.widths) + gaps_w + left + right, sum(done.heights) + gaps_h + top + bottom)
        self.canvas.setMinimumHeight(int(np.ceil(done.need_h + top + bottom)) + 2 * self.canvas.frameWidth())
        # the axes and titles settle their room once laid out: check again then (a few times at most)
        if self._repacks < 3:
            self._settle_timer.start()

    def _settle(self) -> None:
        self._repacks += 1
        self.pack()
        if not self._settle_timer.isActive():
            self._repacks = 0

    # ------------------------------------------------------------ mouse
    def _on_hover(self, text: str) -> None:
        self.info.setText(text)
        self.hover.emit(text)

    def _track_hover(self, pos) -> None:
        """Remember which cell the read-out describes, to recompute it when the numbers change."""
        for name, heatmap in self._heatmaps.items():
            cell = heatmap.cell_at(pos) if isinstance(heatmap, Heatmap) else None
            if cell is not None:
                self._hovered = (name, *cell)
                return

    def _refresh_hover(self) -> None:
        """After any change the read-out tells the hovered cell's new value, or goes back to the hint."""
        if self._hovered is None:
            return
        name, r, c = self._hovered
        heatmap = self._heatmaps.get(name)
        text = None
        if isinstance(heatmap, Heatmap) and heatmap.shown is not None and heatmap.shown.data is not None:
            rows, cols = np.atleast_2d(heatmap.shown.data).shape
            if r < rows and c < cols:
                text = heatmap.hover_text(r, c)
        if text is None:
            self._hovered = None
            text = HOVER_HINT
        if text != self.info.text():
            self.info.setText(text)
            self.hover.emit("" if text == HOVER_HINT else text)

    def _on_double_click(self, row: int, col: int) -> None:
        sender = self.sender()
        for spec in self.specs:
            if self._heatmaps.get(spec.name) is sender:
                param = spec.editable_param or ""
                self.cell_edit_requested.emit(spec.name, row, col, param)
                return

    def _on_context_requested(self, pos, cell=None) -> None:
        """A heatmap was right-clicked: ask the window for its menu (it knows what to offer).
        ``context_cell`` keeps (heatmap name, (row, col) or None) for the menu."""
        sender = self.sender()
        for name, heatmap in self._heatmaps.items():
            if heatmap is sender:
                self.context_cell = (name, cell)
                self.context_menu_requested.emit(self, name, pos)
                return
