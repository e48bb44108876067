"""Where the window's docks go, for the window's width.

A wide window (1600 px: the default size of the window, the screenshots and
the benchmark) has three columns: the Network, the tensor panels' tab group,
and the Equation over the editing panels' tab group. A narrower window (a
1280x800 laptop screen) cannot give the tensor panels the width their plots
need beside two other columns, so it uses the compact arrangement: the
Network keeps its column and the whole height, the tensor panels take the
rest of the width, and the Equation and the editing panels' tab group move,
side by side, to a row under the tensor panels.

The window switches between the two as its width crosses COMPACT_WIDTH
(less a window frame's borders, FRAME_SLACK),
until the user moves or floats a dock: then the arrangement is theirs and
stays as it is (View → Reset Layout hands it back). Closed docks stay closed
and the panels on top of their tab groups stay on top across a switch.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

COMPACT_WIDTH = 1600        # windows narrower than this use the compact arrangement
# Window managers count a window's borders in its width: a window dragged to 1600 px, or restored from
# geometry saved at 1600 px, can have a client area a few pixels narrower (1598 px was seen, and it stayed
# compact, through View → Reset Layout too). Widths this close to COMPACT_WIDTH are still wide.
FRAME_SLACK = 16
NETWORK_WIDTH = 240         # the Network column (both arrangements)
EQUATION_SHARE = 0.19       # compact: the Equation row's part of the window's height, but no more than
PANEL_ROOM = 460            # leaves to the tensor panels (the Gradients panel with a notice needs that much)
EDIT_WIDTH = 420            # compact: the editing panels beside the Equation (as wide as their wide column)

_HORIZONTAL, _VERTICAL = QtCore.Qt.Orientation.Horizontal, QtCore.Qt.Orientation.Vertical


class DockArranger:
    """Puts the window's docks in the wide or the compact arrangement (see the module's text)."""

    def __init__(self, window: QtWidgets.QMainWindow, docks: dict[str, QtWidgets.QDockWidget],
                 main: list[QtWidgets.QDockWidget], edits: list[QtWidgets.QDockWidget], version: int,
                 console: QtWidgets.QDockWidget | None = None):
        self.window, self.docks, self.main, self.edits = window, docks, main, edits
        self.console = console  # the bottom row of the wide window (hidden until View → Console)
        self.all = list(docks.values()) + ([console] if console is not None else [])
        self.version = version
        self.default_state = window.saveState(version)
        self.wide_state: QtCore.QByteArray | None = None  # the wide arrangement at the last wide size
        self.auto = True       # the window arranges the docks (the user has not)
        self.busy = False
        for dock in self.all:  # a dock the user moves or floats ends the arranging
            dock.dockLocationChanged.connect(self._moved)
            dock.topLevelChanged.connect(self._moved)
        if console is not None:  # compact: the console opens under the Equation's row, not in it
            console.visibilityChanged.connect(self._console_shown)
            opened = getattr(console, "opened", None)  # and once it has its opening height, sized again
            if opened is not None:
                opened.connect(lambda: self._console_shown(True))

    @property
    def compact(self) -> bool:
        """The docks are in the compact arrangement (the Equation under the tensor panels)."""
        return self.window.dockWidgetArea(self.docks["equations"]) == QtCore.Qt.DockWidgetArea.BottomDockWidgetArea

    def wants_compact(self) -> bool:
        """Narrower than COMPACT_WIDTH, by more than a window frame's borders (FRAME_SLACK)."""
        return self.window.width() < COMPACT_WIDTH - FRAME_SLACK

    def window_resized(self) -> None:
        """The window changed size: switch arrangements when its width crosses COMPACT_WIDTH; a compact
        window keeps the Network's width and the Equation row's share and gives the rest to the panels."""
        if not self.auto or self.busy or not self.window.isVisible():
            return  # a hidden window is arranged when it shows (Qt may still be restoring its layout)
        if self.wants_compact() != self.compact:
            self.arrange(self.wants_compact())
        elif self.compact:
            self._size_compact()
        else:  # what a switch back from compact restores
            self.wide_state = self.window.saveState(self.version)

    def reset(self) -> None:
        """View → Reset Layout: the arrangement for the window's width, every dock shown, the arranging back on."""
        self.auto = True
        self.wide_state = None
        self.arrange(self.wants_compact(), keep_closed=False)
        self.wide_state = None  # not the arrangement it replaced

    def restore(self, state: QtCore.QByteArray, arranged: bool) -> bool:
        """A saved layout (``arranged``: one the window had made, not the user)."""
        self.busy = True
        try:
            restored = self.window.restoreState(state, self.version)
        finally:
            self.busy = False
        self.auto = not restored or arranged
        return restored

    def arrange(self, compact: bool, keep_closed: bool = True) -> None:
        window = self.window
        front = [d for d in self.all if not d.isHidden() and not d.visibleRegion().isEmpty()]
        closed = [d for d in self.all if d.isHidden()] if keep_closed else []
        self.busy = True
        try:
            if compact:
                window.restoreState(self.default_state, self.version)
                self._make_compact()
            else:
                window.restoreState(self.wide_state or self.default_state, self.version)
            for dock in self.all:
                dock.setVisible(dock not in closed)
            self._raise(front)
            if compact:
                self._size_compact()
        finally:
            self.busy = False
        QtCore.QTimer.singleShot(0, window, window.hide_stray_tab_bars)

    def _make_compact(self) -> None:
        """From the default arrangement: the Equation in a row under the tensor panels, the editing
        panels' tab group beside it (and the console, when shown, under that row)."""
        window, console = self.window, self.console
        equation, first, *rest = self.docks["equations"], *self.edits
        window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, equation)
        if console is not None:
            window.splitDockWidget(equation, console, _VERTICAL)
        window.splitDockWidget(equation, first, _HORIZONTAL)
        for dock in rest:
            window.tabifyDockWidget(first, dock)

    def _raise(self, front: list[QtWidgets.QDockWidget]) -> None:
        """The docks that were on top of their tab groups come back on top (with no tensor panel
        on top, the panel of the current phase comes up)."""
        edits = [d for d in front if d in self.edits] or [self.edits[0]]
        main = [d for d in front if d in self.main] or [self.docks.get(self.window.phase_panel(), self.main[0])]
        for dock in edits + main:
            dock.raise_()

    def _size_compact(self) -> None:
        """The Network at its width, the Equation row at its share of the height; the panels get the rest.
        (Sizes are given in pixels that add up to the space there is: Qt scales them otherwise.)"""
        window, equation, diagram = self.window, self.docks["equations"], self.docks["diagram"]
        main = next((d for d in self.main + self.edits if not d.isHidden()), None)
        if main is None or diagram.isHidden() or diagram.isFloating():
            return
        separator = window.style().pixelMetric(QtWidgets.QStyle.PixelMetric.PM_DockWidgetSeparatorExtent,
                                               None, window)
        self.busy = True
        try:
            window.layout().activate()  # the docks' geometry as arranged now
            window.resizeDocks([diagram, main], [NETWORK_WIDTH, window.width() - NETWORK_WIDTH - separator],
                               _HORIZONTAL)
            if not equation.isHidden() and not equation.isFloating():
                column = diagram.geometry().height() - separator  # the Network has the whole height
                row = min(round(window.height() * EQUATION_SHARE), column - PANEL_ROOM)  # Qt keeps its minimum
                docks, heights = [main, equation], [column - row, row]
                console = self.console
                if console is not None and console.isVisible() and not console.isFloating():
                    docks.append(console)  # under the row, as tall as it is
                    heights = [column - row - console.height() - separator, row, console.height()]
                window.resizeDocks(docks, heights, _VERTICAL)
                edits = next((d for d in self.edits if not d.isHidden() and not d.isFloating()), None)
                if edits is not None and window.dockWidgetArea(edits) == window.dockWidgetArea(equation):
                    beside = window.width() - NETWORK_WIDTH - separator
                    window.resizeDocks([equation, edits], [beside - EDIT_WIDTH - separator, EDIT_WIDTH],
                                       _HORIZONTAL)
        finally:
            self.busy = False

    def _console_shown(self, visible: bool) -> None:
        if visible and self.auto and not self.busy and self.compact:
            QtCore.QTimer.singleShot(0, self.window, self._resize_compact)

    def _resize_compact(self) -> None:
        if self.auto and not self.busy and self.compact:
            self._size_compact()

    def _moved(self, *_args) -> None:
        if not self.busy:
            self.auto = False
