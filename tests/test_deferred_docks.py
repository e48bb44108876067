"""Start-up: the tabs behind the front ones are built after the first paint, and it looks the same."""
import subprocess
import sys

import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.deferred_docks import DEFERRED
from gru_debugger.ui.editors.edit_support import ExplainToggle
from gru_debugger.ui.main_window import MainWindow

LATER_MODULES = ("gru_debugger.ui.export_view", "gru_debugger.ui.views.tokenizer_view",
                 "gru_debugger.ui.editors.inputs_panel", "gru_debugger.ui.editors.init_panel")


def test_the_window_module_leaves_menu_only_and_hidden_tab_modules_for_later():
    code = ("import sys; import gru_debugger.ui.app, gru_debugger.ui.main_window; "
            f"print([m for m in {LATER_MODULES!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _settings(tmp_path, name):
    return QtCore.QSettings(str(tmp_path / f"{name}.ini"), QtCore.QSettings.Format.IniFormat)


def _first_paint(qtbot, window):
    """The window's image at its first paint, and the docks still waiting then."""
    seen = {}

    class FirstPaint(QtCore.QObject):
        def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
            if event.type() == QtCore.QEvent.Type.Paint and not seen:
                seen["pending"] = window.deferred.pending if window.deferred else ()
                QtCore.QTimer.singleShot(0, lambda: seen.setdefault("image", window.grab().toImage()))
            return False

    watcher = FirstPaint(window)
    window.installEventFilter(watcher)  # installed last: it sees the paint before the window's own filter
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: "image" in seen)
    window.removeEventFilter(watcher)
    return seen["image"], seen["pending"]


def test_the_first_paint_shows_the_same_window_and_the_hidden_tabs_follow(qtbot, tmp_path):
    eager = MainWindow(Controller(Config(seed=0)), _settings(tmp_path, "eager"))
    want, _ = _first_paint(qtbot, eager)
    window = MainWindow(Controller(Config(seed=0)), _settings(tmp_path, "deferred"), defer_hidden=True)
    assert not hasattr(window, "tokenizer")
    got, pending = _first_paint(qtbot, window)
    assert set(pending) == set(DEFERRED) == {"tokenizer", "inputs", "init"}  # not built before the first paint …
    assert got == want                     # … and the window looked the same
    qtbot.waitUntil(lambda: window.deferred.pending == ())  # built right after it
    assert window.docks["tokenizer"].widget() is window.tokenizer
    for key in ("inputs", "init"):
        assert type(window.editor(key)) is type(eager.editor(key))
        assert type(window.docks[key].widget()) is type(eager.docks[key].widget())


def test_a_hidden_tab_brought_to_the_front_is_built_before_it_paints(qtbot, tmp_path):
    window = MainWindow(Controller(Config(seed=0)), _settings(tmp_path, "w"), defer_hidden=True)
    qtbot.addWidget(window)
    window.removeEventFilter(window.deferred)  # no idle build: only the click builds it
    window.show()
    qtbot.waitExposed(window)
    assert "tokenizer" in window.deferred.pending
    window.docks["tokenizer"].raise_()
    qtbot.waitUntil(lambda: "tokenizer" not in window.deferred.pending)
    assert window.docks["tokenizer"].widget() is window.tokenizer


@pytest.mark.parametrize("start", [False, True])
def test_editors_built_later_share_show_explanations(qtbot, tmp_path, start):
    settings = _settings(tmp_path, "s")
    settings.setValue("editors/explanations", start)
    window = MainWindow(Controller(Config(seed=0)), settings, defer_hidden=True)
    qtbot.addWidget(window)
    hyper = window.editor("hyper").explain
    inputs = window.editor("inputs").findChild(ExplainToggle)
    init = window.editor("init").explain
    assert hyper.isChecked() == inputs.isChecked() == init.isChecked()
    inputs.setChecked(not inputs.isChecked())
    assert hyper.isChecked() == init.isChecked() == inputs.isChecked()
    assert settings.value("editors/explanations", type=bool) == inputs.isChecked()
    assert isinstance(window.docks["inputs"].widget(), QtWidgets.QScrollArea)
