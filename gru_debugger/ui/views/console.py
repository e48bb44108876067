"""View → Console: a Python console in a dock, to script an experiment and watch the window follow.

pyqtgraph's ``ConsoleWidget`` with the controller (``ctl``), ``snap()`` (the
snapshot at the cursor), ``np``, ``torch`` and the window (``win``) in its
namespace. Commands run in the window's thread, so every change the
controller makes is drawn as it happens. The console is built the first time
the dock is shown: start-up does not pay for it.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

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

    def run(self, command: str) -> None:
        """Run ``command`` as if typed and entered (a block needs a final empty line: end it with a newline)."""
        self.ensure_built().repl.handleCommand(command)

    def output_text(self) -> str:
        return "" if self.console is None else self.console.output.toPlainText()

    def _on_visibility(self, visible: bool) -> None:
        if visible:
            self.ensure_built()
            self.console.input.setFocus()


def add_console(window: QtWidgets.QMainWindow, menu: QtWidgets.QMenu) -> ConsoleDock:
    """Add the (hidden) console dock to ``window`` and its toggle to ``menu``; the dock is ``window.console``."""
    window.console = ConsoleDock(window, window.controller, menu)
    return window.console
