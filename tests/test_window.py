"""End to end: the real window, its shortcuts and its views, offscreen."""
import gc

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.phases import Step
from gru_debugger.ui.main_window import MainWindow


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    win = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    return win


def shown(win, panel, name):
    """What a heatmap shows once its panel is brought to the front."""
    win.show_panel(panel)
    QtWidgets.QApplication.processEvents()
    return win.panels[panel].heatmaps[name].shown


def press(qtbot, win, key, modifier=QtCore.Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(win, key, modifier)


def test_f10_walks_the_whole_iteration(qtbot, window):
    ctl = window.controller
    count = 0
    while ctl.can_step():
        press(qtbot, window, QtCore.Qt.Key.Key_F10)
        count += 1
        if ctl.snapshot().step == Step("loss"):
            assert "3.5835" in window.status.loss.text()
    assert count == 11 + 2 * 8  # phases, plus one step per timestep in gru and backward
    assert not window.debug["step"].isEnabled()
    assert window.debug["step_back"].isEnabled()


def test_shortcuts_drive_the_controller(qtbot, window):
    ctl = window.controller
    ctl.run_to("dropout_in")
    press(qtbot, window, QtCore.Qt.Key.Key_F11)
    assert ctl.snapshot().step == Step("cell", 0, "x2g")
    press(qtbot, window, QtCore.Qt.Key.Key_F11, QtCore.Qt.KeyboardModifier.ShiftModifier)
    assert ctl.snapshot().step == Step("cell", 7, "h")
    press(qtbot, window, QtCore.Qt.Key.Key_Left, QtCore.Qt.KeyboardModifier.AltModifier)
    assert ctl.snapshot().step == Step("cell", 0, "x2g")
    press(qtbot, window, QtCore.Qt.Key.Key_F9)
    assert "cell" in ctl.breakpoints
    ctl.run_to_start()
    press(qtbot, window, QtCore.Qt.Key.Key_F5)
    assert ctl.snapshot().step == Step("cell", 0, "h")
    press(qtbot, window, QtCore.Qt.Key.Key_F5, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert ctl.snapshot().at_end


def test_views_show_the_controllers_numbers(window):
    ctl = window.controller
    ctl.run_to("cell", 3)
    snap = ctl.snapshot()
    np.testing.assert_array_equal(shown(window, "cell", "z").data, snap.get("z")[:, 3, :])
    np.testing.assert_array_equal(shown(window, "cell", "h_prev").data, snap.get("h")[:, 2, :])
    time_h = shown(window, "time", "time_h")
    np.testing.assert_array_equal(time_h.data, snap.get("h")[0].T)
    assert time_h.valid[:, :4].all() and not time_h.valid[:, 4:].any()
    window.view_state.select(batch_row=1)
    np.testing.assert_array_equal(window.panels["time"].heatmaps["time_h"].shown.data, snap.get("h")[1].T)
    assert shown(window, "gradients", "grad/h2g.weight").data is None
    ctl.run_to("loss")
    logits = shown(window, "output", "logits")
    np.testing.assert_array_equal(logits.data, ctl.snapshot().get("logits")[1].T)
    assert len(logits.marks) == 8


def test_step_back_restores_the_views(window):
    ctl = window.controller
    ctl.run_to("backward", 5)
    before = shown(window, "gradients", "grad/x2g.weight").data.copy()
    ctl.step()
    after = window.panels["gradients"].heatmaps["grad/x2g.weight"].shown.data
    assert not np.array_equal(before, after)
    ctl.step_back()
    np.testing.assert_array_equal(window.panels["gradients"].heatmaps["grad/x2g.weight"].shown.data, before)


def test_hover_text_is_exact(window):
    ctl = window.controller
    ctl.run_to("cell", 2)
    shown(window, "cell", "h")
    text = window.panels["cell"].heatmaps["h"].hover_text(1, 0)
    value = ctl.snapshot().get("h")[1, 2, 0]
    assert text == f"h[b=1, t=2, j=0] = {float(value):.7g}"
    shown(window, "input", "wte.weight")
    wte = window.panels["input"].heatmaps["wte.weight"]
    assert "'␣a'" not in wte.hover_text(30, 0) and "(␣a, e0)" in wte.hover_text(30, 0)


def test_follow_raises_the_panel_of_the_phase(window):
    window.controller.run_to("backward")
    QtWidgets.QApplication.processEvents()
    assert window.panels["gradients"].is_showing()
    assert not window.panels["input"].is_showing()


def test_only_changed_views_repaint(window):
    ctl = window.controller
    ctl.run_to("cell", 2)
    QtWidgets.QApplication.processEvents()
    params = window.panels["cell"].heatmaps["x2g.weight"]
    count = params.repaints
    ctl.step()
    assert params.repaints == count  # weights did not change: not redrawn
    assert window.panels["cell"].refresh() == 0


def test_layout_round_trips_through_settings(qtbot, settings):
    win = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(win)
    win.show()
    win.docks["tokenizer"].hide()
    win.close()
    again = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(again)
    again.show()
    assert not again.docks["tokenizer"].isVisible()
    again.reset_layout()
    assert again.docks["tokenizer"].isVisible()


def test_docks_have_unique_object_names(window):
    names = [d.objectName() for d in window.findChildren(QtWidgets.QDockWidget)]
    assert len(names) == len(set(names)) and all(names)


def test_errors_reach_the_status_bar_not_a_traceback(qtbot, window):
    ctl = window.controller
    ctl.run_to_end()
    window.debug["step_into"].setEnabled(True)
    window.debug["step_into"].trigger()
    assert "finished" in window.status.currentMessage()


def test_no_widget_leaks(qtbot, settings):
    before = set(QtWidgets.QApplication.topLevelWidgets())
    win = MainWindow(Controller(Config(seed=0)), settings)
    win.show()
    win.close()
    win.deleteLater()
    del win
    qtbot.wait(10)
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    gc.collect()  # pyqtgraph's view-box menus go with their Python owners
    QtWidgets.QApplication.processEvents()
    leaked = [w for w in QtWidgets.QApplication.topLevelWidgets() if w not in before]
    assert leaked == []


def test_no_stray_tab_bars_cover_the_panels(qtbot, window):
    qtbot.wait(20)
    bars = [b for b in window.findChildren(QtWidgets.QTabBar) if b.isVisible()]
    tabs = sorted(tuple(b.tabText(i) for i in range(b.count())) for b in bars)
    assert len(tabs) == len(set(tabs)) == 2  # the tensor panels and the editing panels


def test_an_exception_in_a_slot_is_shown_not_fatal(qtbot, window, monkeypatch, capsys):
    import sys
    from gru_debugger.ui.app import install_excepthook
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    install_excepthook(window)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    boxes = [w for w in window.findChildren(QtWidgets.QMessageBox) if w.isVisible()]
    assert boxes and "boom" in boxes[0].text() and "keep working" in boxes[0].text()
    boxes[0].close()
    assert "RuntimeError: boom" in capsys.readouterr().err
    window.controller.step()  # still usable
    assert window.controller.cursor == 0


def test_a_deleted_window_stops_listening(qtbot, settings):
    ctl = Controller(Config(seed=0))
    win = MainWindow(ctl, settings)
    connected = len(ctl.changed)
    assert connected > 10
    win.deleteLater()
    QtWidgets.QApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    assert len(ctl.changed) == 0
    ctl.step()  # nobody left to call into a deleted widget
    assert ctl.cursor == 0


def test_every_debug_action_reaches_the_controller(window):
    ctl = window.controller
    ctl.run_to_end()
    window.debug["next_iteration"].trigger()
    assert ctl.state.iteration == 1 and ctl.cursor == -1
    window.debug["step"].trigger()
    window.debug["reset"].trigger()
    assert ctl.state.iteration == 0 and ctl.cursor == -1 and ctl.undo_texts[-1] == "Reset"


def test_panels_build_their_plots_when_first_needed(qtbot, settings):
    """Start-up builds only the front panel's plots; the others when shown, asked for, or soon after."""
    win = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(win)
    assert not any(p.built for p in win.panels.values())  # nothing is built before the window shows
    plots = win.panels["gradients"].heatmaps  # asking builds and fills them
    assert win.panels["gradients"].built and plots
    assert all(h.shown is not None for h in plots.values())
    win.show()
    qtbot.waitExposed(win)
    front = [k for k, p in win.panels.items() if p.is_showing()]
    assert front and all(win.panels[k].built for k in front)
    win.start_prebuild()
    qtbot.waitUntil(win.panels_built, timeout=10000)  # the rest are built in idle time


def test_equation_current_line_is_scrolled_into_view(qtbot, window):
    window.resize(1600, 1000)
    ctl = window.controller
    ctl.run_to("cell", 1)
    eq = window.equations
    seen = 0
    while ctl.snapshot().step.t <= 2:
        ctl.step_into()
        QtWidgets.QApplication.processEvents()
        rect = eq.current_line_rect()
        viewport = eq.page().viewport().rect()
        if rect is not None and ctl.snapshot().step.t == 2:
            seen += 1
            assert viewport.contains(rect), (ctl.snapshot().step, rect, viewport)
    assert seen >= 3
    # only the selection changes: the scroll position stays
    bar = eq.page().verticalScrollBar()
    ctl.step_back()
    QtWidgets.QApplication.processEvents()
    bar.setValue(bar.maximum() // 2)
    kept = bar.value()
    window.view_state.select(unit=1)
    QtWidgets.QApplication.processEvents()
    assert bar.value() == kept


def test_placeholder_keeps_the_place_of_the_numbers(qtbot, window):
    window.resize(1600, 1000)
    ctl = window.controller
    ctl.run_to("cell", 2)
    ctl.step_into()   # t = 3, its first sub-step: n and h are not computed yet
    window.show_panel("cell")
    QtWidgets.QApplication.processEvents()
    heatmaps = window.panels["cell"].heatmaps
    # n has its own colour bar, drawn once it has numbers; h shares one with h(t-1), which has them
    assert heatmaps["h"].colorbar is heatmaps["h_prev"].colorbar is not heatmaps["n"].colorbar
    bar_drawn = {"n": 0.0, "h": 1.0}
    before = {}
    for name in ("n", "h"):
        hm = heatmaps[name]
        assert hm.shown.data is None and hm.shown.shape == (2, 2)
        assert hm.frame.isVisible() and hm.colorbar.opacity() == bar_drawn[name]
        assert "2×2" in hm.placeholder.toPlainText()
        before[name] = hm.plot.getViewBox().sceneBoundingRect()
    while ctl.snapshot().step.sub != "h":
        ctl.step_into()
    QtWidgets.QApplication.processEvents()
    for name in ("n", "h"):
        hm = heatmaps[name]
        assert hm.shown.data is not None
        assert not hm.frame.isVisible() and hm.colorbar.opacity() == 1.0
        assert hm.plot.getViewBox().sceneBoundingRect() == before[name], name


def test_zero_grad_shows_cleared_gradients(qtbot, window):
    ctl = window.controller
    ctl.run_to("loss")
    grad = shown(window, "gradients", "grad/h2g.weight")
    assert grad.data is None and grad.shape == tuple(ctl.snapshot().param("h2g.weight").shape)
    ctl.run_to("zero_grad")
    grad = shown(window, "gradients", "grad/h2g.weight")
    assert grad.title.endswith("(cleared)")
    assert grad.data.shape == ctl.snapshot().param("h2g.weight").shape and not grad.data.any()
    bias = shown(window, "gradients", "grad/x2g.bias")
    assert bias.data.shape[0] == 1 and not bias.data.any()


def test_explanations_are_collapsed_and_remembered(qtbot, window, settings):
    hyper = window.editor("hyper")
    assert not hyper.explain.isChecked()
    assert not any(label.isVisible() for label in hyper.explain.labels)
    hyper.explain.setChecked(True)
    assert window.editor("init").explain.isChecked()
    assert any(label.isVisible() for label in hyper.explain.labels)
    assert settings.value("editors/explanations", type=bool)


def test_the_equation_panel_gets_the_height_of_its_column(qtbot, window):
    assert window.docks["equations"].height() > window.docks["hyper"].height()
