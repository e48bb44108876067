"""View → Console: built on first showing, its namespace, and commands that drive the window."""
import numpy as np
import pytest
import torch
from PySide6 import QtCore

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.views.console import HELP, ConsoleDock


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_console_is_hidden_and_not_built_until_shown(window):
    dock = window.console
    assert isinstance(dock, ConsoleDock)
    assert dock.isHidden() and dock.console is None
    assert dock.toggleViewAction() in window.view_menu.actions()
    assert window.dockWidgetArea(dock) == QtCore.Qt.DockWidgetArea.BottomDockWidgetArea
    dock.toggleViewAction().trigger()  # View → Console
    assert dock.isVisible() and dock.console is not None and dock.widget() is dock.console
    assert dock.output_text().startswith(HELP.splitlines()[0])
    for example in ('ctl.step()', 'ctl.set_param("h2g.weight", (0, 0), 1.0)', 'snap().get("h")'):
        assert example in dock.output_text()


def test_namespace(window):
    window.console.show()
    namespace = window.console.console.localNamespace
    assert namespace["ctl"] is window.controller and namespace["win"] is window
    assert namespace["np"] is np and namespace["torch"] is torch
    assert namespace["snap"]().cursor == window.controller.snapshot().cursor


def test_commands_move_the_cursor_and_the_window_follows(window, qtbot):
    ctl = window.controller
    dock = window.console
    dock.show()
    assert ctl.snapshot().step is None
    dock.run("ctl.step()")
    assert ctl.snapshot().step.phase == "tokenize"
    dock.run("for _ in range(5): ctl.step()\n")  # a block ends with an empty line
    step = ctl.snapshot().step  # tokenize -> batch, embed, dropout_in, cell t=0, cell t=1
    assert (step.phase, step.t) == ("cell", 1)
    assert window.panels["cell"].is_showing()  # the window followed the cursor to the GRU cell
    dock.run('ctl.set_param("h2g.weight", (0, 0), 1.0)')
    assert ctl.snapshot().param("h2g.weight")[0, 0] == 1.0 and ctl.can_undo()
    dock.run('h = snap().get("h"); print(h.shape)')
    assert "(2, 8, 2)" in dock.output_text()
    # a mistake shows its traceback in the console and changes nothing
    before = ctl.snapshot().cursor
    dock.run('ctl.set_param("no.such", (0, 0), 1.0)')
    assert "ControllerError" in dock.output_text() and ctl.snapshot().cursor == before
    assert dock.console.input.isEnabled()
