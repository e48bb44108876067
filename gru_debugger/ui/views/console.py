"""View → Console: a Python console in a dock, to script an experiment and watch the window follow.

pyqtgraph's ``ConsoleWidget`` with the controller (``ctl``), ``snap()`` (the
snapshot at the cursor), ``np``, ``torch`` and the window (``win``) in its
namespace. Commands run in the window's thread, so every change the
controller makes is drawn as it happens. The console is built the first time
the dock is shown: start-up does not pay for it.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

OPENING_LINES = 10  # the output shows this many lines when the console opens (the help text and a result)

HELP = """\
# Python console: ctl (the controller), snap() (the snapshot at the cursor), np, torch, win (this window).
#   ctl.step()                                    one step, as F10; the window follows
#   ctl.set_param("h2g.weight", (0, 0), 1.0)      edit a weight (undo with ctl.undo() or Ctrl+Z)
#   for _ in range(5): ctl.step()                 (press Enter twice to run a block)
#   snap().get("h")                               an array at the cursor (None: not computed yet)
#   ctl.run_to("loss"); snap().loss               run to a phase, read the loss
"""


class ConsoleDock(QtWidgets.QDockWidget):
    """The console's dock: at the bottom of ``window``, hidden until View → Console shows it."""

    opened = QtCore.Signal()  # it has its opening height (the window's arrangement may size around it)

    def __init__(self, window: QtWidgets.QMainWindow, controller, menu: QtWidgets.QMenu | None = None):
        super().__init__("Console", window)
        self.setObjectName("dock-console")
        self.window_, self.controller = window, controller
        self.console = None  # the ConsoleWidget, once built
        self.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QtWidgets.QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, self)
        self.hide()
        action = self.toggleViewAction()
        action.setText("&Console")
        action.setToolTip("A Python console with the controller (ctl), snap(), np, torch and the window (win)")
        self.visibilityChanged.connect(self._on_visibility)
        if menu is not None:
            menu.addAction(action)

    def namespace(self) -> dict:
        """What the console's commands see."""
        import numpy as np
        import torch

        controller = self.controller

        def snap():
            """The snapshot at the cursor (controller.snapshot())."""
            return controller.snapshot()

        return {"ctl": controller, "snap": snap, "np": np, "torch": torch, "win": self.window_}

    def ensure_built(self):
        """The console widget, built now if it was not yet."""
        if self.console is None:
            from pyqtgraph.console import ConsoleWidget

            self.console = ConsoleWidget(self, namespace=self.namespace(), text=HELP)
            self.console.setObjectName("python-console")
            self.setWidget(self.console)
        return self.console

    def retheme(self) -> None:
        """View → Theme: the commands' band in the colour pyqtgraph gives it on this palette (it picks it
        once, when the console is built), for the commands shown and those to come."""
        if self.console is None:
            return
        repl = self.console.repl
        from ..widgets import theme
        band = QtGui.QColor("#335" if theme.current().dark else "#CCF")
        old = {QtGui.QColor("#335").rgb(), QtGui.QColor("#CCF").rgb()}
        repl.textStyles["command"][1].setBackground(band)
        block = repl.output.document().begin()
        while block.isValid():
            fmt = block.blockFormat()
            if fmt.hasProperty(QtGui.QTextFormat.Property.BackgroundBrush) and fmt.background().color().rgb() in old:
                fmt.setBackground(band)
                QtGui.QTextCursor(block).setBlockFormat(fmt)
            block = block.next()

    def run(self, command: str) -> None:
        """Run ``command`` as if typed and entered (a block needs a final empty line: end it with a newline)."""
        self.ensure_built().repl.handleCommand(command)

    def output_text(self) -> str:
        return "" if self.console is None else self.console.output.toPlainText()

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            first = self.console is None
            self.ensure_built()
            self.console.input.setFocus()
            if first:  # once laid out (the window's arrangement may move it first): tall enough to read
                QtCore.QTimer.singleShot(0, self, self.open_tall)

    def output_lines(self) -> float:
        """How many lines of text the output shows."""
        if self.console is None:
            return 0.0
        output = self.console.output
        margin = 2 * output.document().documentMargin()
        return (output.viewport().height() - margin) / QtGui.QFontMetricsF(output.font()).lineSpacing()

    def open_tall(self) -> None:
        """Make the docked console tall enough for :data:`OPENING_LINES` lines of output (the window's
        layout gives a new bottom dock only its minimum, about four): the output asks for that height
        until the window's layout has made the dock that tall (:meth:`resizeEvent`), then lets the
        user make it smaller again."""
        if self.console is None or self.isFloating() or not self.isVisible():
            return
        output = self.console.output
        need = OPENING_LINES * QtGui.QFontMetricsF(output.font()).lineSpacing() + 2 * output.document().documentMargin()
        tall = int(need + output.height() - output.viewport().height() + 0.999)
        if output.height() >= tall:
            return
        self._opening = (output.minimumHeight(), self.height() + tall - output.height())
        output.setMinimumHeight(tall)
        QtCore.QTimer.singleShot(2000, self, self._opened)  # in case the window has not that much room

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        opening = getattr(self, "_opening", None)
        if opening is not None and self.height() >= opening[1]:
            QtCore.QTimer.singleShot(0, self, self._opened)

    def _opened(self) -> None:
        """The layout gave the dock its opening height: the user may make it smaller again."""
        opening, self._opening = getattr(self, "_opening", None), None
        if opening is not None and self.console is not None:
            self.console.output.setMinimumHeight(opening[0])
            self.opened.emit()


def add_console(window: QtWidgets.QMainWindow, menu: QtWidgets.QMenu) -> ConsoleDock:
    """Add the (hidden) console dock to ``window`` and its toggle to ``menu``; the dock is ``window.console``."""
    window.console = ConsoleDock(window, window.controller, menu)
    return window.console
