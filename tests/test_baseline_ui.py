"""The window side of the baseline and the hover read-out."""
import numpy as np
import pytest
from PySide6 import QtCore

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.panels.tensor_panel import HOVER_HINT


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    cfg = Config(seed=0, init={n: {"scheme": "default"} for n in Config().init})
    win = MainWindow(Controller(cfg), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def cell_panel(win):
    win.docks["cell"].raise_()
    QtCore.QCoreApplication.processEvents()
    return win.panels["cell"]


def test_pin_edit_shows_exact_differences_and_clear_returns_plain_values(window):
    ctl = window.controller
    ctl.run_to("cell", t=4)
    panel = cell_panel(window)
    h_plain = panel.heatmaps["h"].shown.data.copy()
    window.pin_baseline_action.trigger()
    assert window.show_diff_action.isChecked() and window.clear_baseline_action.isEnabled()
    assert "Baseline: iteration 0" in window.baseline_status.text()
    ctl.set_param("h2g.weight", (0, 0), 1.0)
    panel.refresh()
    shown = panel.heatmaps["h"].shown
    now, base = shown.diff
    assert np.array_equal(shown.data, now - base) and shown.data.dtype == np.float64
    assert np.any(shown.data != 0)
    assert np.array_equal(base, h_plain.astype(np.float64))
    zx = panel.heatmaps["zx"].shown  # upstream of h2g: no difference
    assert zx.diff is not None and np.all(zx.data == 0)
    text = panel.heatmaps["h"].hover_text(0, 0)
    assert "now " in text and "baseline " in text and "Δ " in text
    assert "Δloss" in window.baseline_status.text()
    window.show_diff_action.setChecked(False)
    assert panel.heatmaps["h"].shown.diff is None
    window.show_diff_action.setChecked(True)
    window.clear_baseline_action.trigger()
    assert panel.heatmaps["h"].shown.diff is None and not window.show_diff_action.isEnabled()
    assert window.baseline_status.isHidden()


def test_undo_keeps_the_baseline_and_differences_follow(window):
    ctl = window.controller
    ctl.run_to("cell", t=4)
    panel = cell_panel(window)
    ctl.set_param("h2g.weight", (0, 0), 1.0)
    window.pin_baseline_action.trigger()
    assert np.all(panel.heatmaps["h"].shown.data == 0)
    window.undo_action.trigger()  # undo past the pin
    assert window.baseline.baseline is not None
    assert np.any(panel.heatmaps["h"].shown.data != 0)
    window.redo_action.trigger()
    assert np.all(panel.heatmaps["h"].shown.data == 0)


def test_a_shape_change_is_not_comparable(window):
    ctl = window.controller
    ctl.run_to("cell", t=2)
    panel = cell_panel(window)
    window.pin_baseline_action.trigger()
    ctl.set_sizes(4, 3)
    assert panel.heatmaps["h"].shown.data is None
    assert panel.heatmaps["h"].shown.note.startswith("not comparable")
    ctl.set_batch(2, 5)
    assert "not comparable" in window.baseline_status.text() or "not computed" in window.baseline_status.text()
    assert panel.heatmaps["h"].shown.note.startswith("not comparable (T changed")


def test_hover_read_out_is_recomputed_after_every_change(window, qtbot):
    ctl = window.controller
    ctl.run_to("cell", t=4)
    panel = cell_panel(window)
    heatmap = panel.heatmaps["h"]
    qtbot.wait(10)
    centre = heatmap.plot.vb.mapViewToScene(QtCore.QPointF(0.5, 0.5))
    panel.canvas.scene().sigMouseMoved.emit(centre)
    before = panel.info.text()
    assert before.startswith("h[") or "=" in before
    ctl.set_param("h2g.weight", (0, 0), 1.0)
    assert panel.info.text() == heatmap.hover_text(0, 0) != before
    ctl.run_to("cell", t=3)  # back to t = 3: the hovered cell holds another number now
    assert panel.info.text() == heatmap.hover_text(0, 0) != before
    ctl.reset()  # back to the start: h is not computed, so no number stays on screen
    assert heatmap.shown.data is None and panel.info.text() == HOVER_HINT


def test_undo_and_redo_work_from_the_learning_rate_box_with_one_label(window, qtbot):
    ctl = window.controller
    window.activateWindow()
    window.docks["hyper"].raise_()
    hyper = window.editor("hyper")
    box = hyper.lr
    box.setFocus()
    qtbot.waitUntil(box.hasFocus)
    box.selectAll()
    qtbot.keyClicks(box, "20")
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Return)
    assert ctl.undo_texts == ["Learning rate = 20"]
    assert window.undo.stack.undoText() == "Learning rate = 20"
    assert window.undo_action.text().endswith("Learning rate = 20")
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert ctl.config.learning_rate == 5.0 and box.value() == 5.0
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Z,
                   QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert ctl.config.learning_rate == 20.0 and box.value() == 20.0
    # typed but not finished: Ctrl+Z first applies it (one step), then undoes it
    box.selectAll()
    qtbot.keyClicks(box, "7")
    qtbot.keyClick(box, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert ctl.config.learning_rate == 20.0 and ctl.redo_texts == ["Learning rate = 7"]


def test_the_shortcuts_list_names_every_action_with_keys(window):
    rows = dict((text, keys) for keys, text in window.shortcut_rows())
    for name in ("Undo", "Redo", "Continue", "Step", "Step Back", "Reset", "Toggle Breakpoint"):
        assert name in rows, name
    assert "Ctrl+Y" in rows["Redo"] and "Ctrl+Shift+Z" in rows["Redo"]


def test_an_export_says_saved(window, tmp_path):
    assert window.export_view(str(tmp_path / "view.png"))
    assert window.statusBar().currentMessage() == "Saved view.png"


def test_the_log_norm_axis_has_no_si_prefix(window):
    ctl = window.controller
    ctl.run_to_end()
    window.docks["gradients"].raise_()
    panel = window.panels["gradients"]
    panel.refresh()
    axis = panel.heatmaps["grad_norm"].plot.getAxis("left")
    assert axis.labelString().find("x0.") == -1 and "(x" not in axis.labelString()
    assert not axis.autoSIPrefix and axis.autoSIPrefixScale == 1.0
