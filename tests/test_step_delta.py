"""The "Δ since last step" view: which position it compares with, and what heatmaps show."""
import numpy as np
import pytest
from PySide6 import QtCore

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.analysis.step_delta import MODEL_CHANGED, NO_STEP_YET, StepTracker
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.panels.step_delta import DELTA_SUFFIX, NEW_SUFFIX, PAUSED_SUFFIX


def cfg() -> Config:
    return Config(seed=0, init={n: {"scheme": "default"} for n in Config().init})


# ------------------------------------------------------------ the rules, without Qt
def test_a_step_compares_with_where_the_user_was():
    ctl = Controller(cfg())
    tracker = StepTracker()
    tracker.observe(ctl.snapshot())
    assert tracker.before(ctl.snapshot()) == NO_STEP_YET
    ctl.run_to("cell", t=2)
    at_2 = ctl.cursor
    tracker.observe(ctl.snapshot())
    ctl.step()
    before = tracker.before(ctl.snapshot())
    assert before.cursor == at_2 and before.state is ctl.state


def test_step_back_compares_with_the_position_it_left():
    ctl = Controller(cfg())
    tracker = StepTracker()
    ctl.run_to("cell", t=3)
    at_3 = ctl.cursor
    tracker.observe(ctl.snapshot())
    ctl.step_back()
    assert tracker.before(ctl.snapshot()).cursor == at_3


def test_an_edit_pauses_until_the_next_step_which_compares_in_the_new_model():
    ctl = Controller(cfg())
    tracker = StepTracker()
    ctl.run_to("cell", t=2)
    tracker.observe(ctl.snapshot())
    ctl.set_param("h2g.weight", (0, 0), 1.0)
    assert tracker.before(ctl.snapshot()) == MODEL_CHANGED
    at_edit = ctl.cursor
    ctl.step()
    before = tracker.before(ctl.snapshot())
    assert before.cursor == at_edit and before.state is ctl.state   # the edited model, not the old one
    ctl.undo()
    assert tracker.before(ctl.snapshot()) == MODEL_CHANGED


def test_the_first_step_of_an_iteration_compares_with_its_start():
    ctl = Controller(cfg())
    tracker = StepTracker()
    ctl.run_to_end()
    tracker.observe(ctl.snapshot())
    ctl.next_iteration()
    assert tracker.before(ctl.snapshot()) == MODEL_CHANGED
    ctl.step()
    before = tracker.before(ctl.snapshot())
    assert before.cursor == -1 and before.state is ctl.state


def test_asking_twice_or_before_hearing_of_the_change_gives_the_same_answer():
    ctl = Controller(cfg())
    tracker = StepTracker()
    ctl.run_to("cell", t=1)
    tracker.observe(ctl.snapshot())
    at_1 = ctl.cursor
    ctl.step()
    now = ctl.snapshot()
    assert tracker.before(now).cursor == at_1     # asked before observe: the tracker catches up
    tracker.observe(now)
    tracker.observe(ctl.snapshot())                # the same position again: nothing moves
    assert tracker.before(now).cursor == at_1


# ------------------------------------------------------------ the window
@pytest.fixture
def window(qtbot, tmp_path):
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(Controller(cfg()), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def cell_panel(win):
    win.docks["cell"].raise_()
    QtCore.QCoreApplication.processEvents()
    return win.panels["cell"]


def test_off_by_default_with_a_free_shortcut(window):
    action = window.step_delta_action
    assert action.isCheckable() and not action.isChecked() and not window.step_delta.on
    assert action.shortcut().toString() == "Ctrl+D"
    others = [a for a in window.findChildren(type(action)) if a is not action]
    assert all(a.shortcut().toString() != "Ctrl+D" for a in others)
    assert action in window.view_menu.actions() and action in window.toolbar.actions()
    assert window.step_delta_status.isHidden()


def test_at_t3_after_stepping_from_t2_h_shows_h3_minus_h2_and_weights_show_zeros(window):
    ctl = window.controller
    ctl.run_to("cell", t=2)
    panel = cell_panel(window)
    ctl.step()
    window.step_delta_action.trigger()
    assert window.step_delta.on and window.baseline.active
    shown = panel.heatmaps["h"].shown
    h = ctl.snapshot().get("h")
    h3, h2 = h[:, 3, :].astype(np.float64), h[:, 2, :].astype(np.float64)
    assert shown.data.dtype == np.float64 and np.array_equal(shown.data, h3 - h2)
    assert np.array_equal(shown.diff[0], h3) and np.array_equal(shown.diff[1], h2)
    assert np.any(shown.data != 0)
    assert shown.title.startswith("Δ ") and shown.title.endswith(DELTA_SUFFIX)
    for name in ("x2g.weight", "h2g.weight"):
        weights = panel.heatmaps[name].shown
        assert weights.diff is not None and np.all(weights.data == 0)
    text = panel.heatmaps["h"].hover_text(0, 1)
    assert "h[b=0, t=3, j=1]" in text and "before this step" in text
    assert f"now {h3[0, 1]:.7g}, before this step {h2[0, 1]:.7g}" in text and "baseline" not in text
    assert f"Δ {h3[0, 1] - h2[0, 1]:+.7g}" in text
    assert window.step_delta_status.text() == "Δ since last step: GRU t=3 − GRU t=2"
    window.step_delta_action.trigger()   # off: plain values again
    plain = panel.heatmaps["h"].shown
    assert plain.diff is None and np.array_equal(plain.data, h[:, 3, :]) and "Δ" not in plain.title
    assert window.step_delta_status.isHidden()


def test_step_back_shows_what_it_undid(window):
    ctl = window.controller
    ctl.run_to("cell", t=2)
    ctl.step()
    panel = cell_panel(window)
    window.step_delta_action.trigger()
    ctl.step_back()
    shown = panel.heatmaps["h"].shown
    h = ctl.snapshot().get("h").astype(np.float64)
    assert ctl.snapshot().step.t == 2
    assert np.array_equal(shown.data, h[:, 2, :] - h[:, 3, :])
    assert window.step_delta_status.text() == "Δ since last step: GRU t=2 − GRU t=3"


def test_after_an_edit_values_until_the_next_step(window):
    ctl = window.controller
    ctl.run_to("cell", t=2)
    panel = cell_panel(window)
    window.step_delta_action.trigger()
    ctl.set_param("h2g.weight", (0, 0), 1.0)
    shown = panel.heatmaps["h"].shown
    assert shown.diff is None and shown.title.endswith(PAUSED_SUFFIX)
    assert np.array_equal(shown.data, ctl.snapshot().get("h")[:, 2, :])
    assert "no step since the model changed" in window.step_delta_status.text()
    ctl.step()
    h = ctl.snapshot().get("h").astype(np.float64)   # the edited model at t=3 and t=2
    assert np.array_equal(panel.heatmaps["h"].shown.data, h[:, 3, :] - h[:, 2, :])


def test_new_arrays_and_new_cells_show_values_and_say_so(window):
    ctl = window.controller
    panel = cell_panel(window)
    window.step_delta_action.trigger()
    ctl.run_to("embed")
    ctl.run_to("cell", t=0)      # h did not exist at the previous position
    shown = panel.heatmaps["h"].shown
    assert shown.diff is None and shown.title.endswith(NEW_SUFFIX)
    assert np.array_equal(shown.data, ctl.snapshot().get("h")[:, 0, :])
    ctl.step()                   # over time: a new column of h
    window.docks["time"].raise_()
    QtCore.QCoreApplication.processEvents()
    over_time = window.panels["time"].heatmaps["time_h"].shown
    assert over_time.diff is None and over_time.title.endswith(NEW_SUFFIX)


def test_gradients_show_what_one_backward_step_added(window):
    ctl = window.controller
    ctl.run_to("backward", t=3)
    before = ctl.snapshot().get("grad/h2g.weight").astype(np.float64)
    ctl.step()
    window.docks["gradients"].raise_()
    window.step_delta_action.trigger()
    QtCore.QCoreApplication.processEvents()
    shown = window.panels["gradients"].heatmaps["grad/h2g.weight"].shown
    now = ctl.snapshot().get("grad/h2g.weight").astype(np.float64)
    assert shown.diff is not None
    assert np.array_equal(np.asarray(shown.diff[0]).ravel(), now.ravel())
    assert np.array_equal(np.asarray(shown.diff[1]).ravel(), before.ravel())


def test_exclusive_with_the_baseline(window):
    ctl = window.controller
    ctl.run_to("cell", t=2)
    panel = cell_panel(window)
    window.pin_baseline_action.trigger()
    assert window.show_diff_action.isChecked()
    window.step_delta_action.trigger()    # on: the baseline difference goes off, the baseline stays
    assert window.step_delta.on and not window.show_diff_action.isChecked()
    assert window.baseline.baseline is not None and window.clear_baseline_action.isEnabled()
    ctl.step()
    assert panel.heatmaps["h"].shown.title.endswith(DELTA_SUFFIX)
    window.show_diff_action.trigger()     # the baseline on: Δ since last step goes off
    assert not window.step_delta.on and not window.step_delta_action.isChecked()
    shown = panel.heatmaps["h"].shown
    assert shown.diff is not None and not shown.title.endswith(DELTA_SUFFIX)
    assert np.all(shown.data == 0)        # now − baseline: nothing edited
    window.step_delta_action.trigger()
    window.pin_baseline_action.trigger()  # pinning shows the baseline difference: step off
    assert not window.step_delta.on


def test_cell_and_size_changes_do_not_break_it(window):
    ctl = window.controller
    ctl.run_to("cell", t=2)
    panel = cell_panel(window)
    window.step_delta_action.trigger()
    ctl.set_cell("lstm")
    QtCore.QCoreApplication.processEvents()
    assert panel.heatmaps["h"].shown.title.endswith(PAUSED_SUFFIX)
    assert "no step since the model changed" in window.step_delta_status.text()
    ctl.step()
    c = ctl.snapshot().get("c").astype(np.float64)
    t = ctl.snapshot().step.t
    assert np.array_equal(panel.heatmaps["c"].shown.data, c[:, t, :] - c[:, t - 1, :])
    ctl.set_sizes(4, 3)
    ctl.step()
    assert panel.heatmaps["h"].shown.data.shape == (ctl.config.batch_size, 3)
    ctl.set_cell("rnn")
    ctl.step()
    assert panel.heatmaps["h"].shown.title.endswith(DELTA_SUFFIX)


def test_no_new_plot_items_per_step_and_nothing_computed_when_off(window, monkeypatch):
    ctl = window.controller
    ctl.run_to("cell", t=1)
    panel = cell_panel(window)
    import gru_debugger.ui.panels.baseline as baseline

    def refuse(*args, **kwargs):
        raise AssertionError("computed while off")

    with monkeypatch.context() as m:
        m.setattr(baseline, "before_view", refuse)
        ctl.step()
        ctl.step()
    window.step_delta_action.trigger()
    ctl.step()
    items = len(panel.canvas.scene().items())
    for _ in range(3):
        ctl.step()
    ctl.step_back()
    assert len(panel.canvas.scene().items()) == items
    assert panel.heatmaps["h"].shown.title.endswith(DELTA_SUFFIX)
