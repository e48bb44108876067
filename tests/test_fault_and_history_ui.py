"""The window shows where a run went non-finite; the History panel survives dropped steps."""
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.analysis.faults import Fault
from gru_debugger.core.control.training import TrainingRun
from gru_debugger.ui.editors import training_panel
from gru_debugger.ui.editors.undo_bridge import UndoBridge
from gru_debugger.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot):
    ctl = Controller(Config(seed=0))
    win = MainWindow(ctl)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_a_huge_learning_rate_stops_the_run_and_the_window_shows_where(window):
    ctl = window.controller
    ctl.set_inits({n: {"scheme": "default"} for n in PARAM_NAMES})
    ctl.set_learning_rate(1e30)
    fault = ctl.snapshot().fault
    assert fault is not None
    panel = window.training
    panel.count.setValue(5)
    panel.start()
    panel._tick()
    assert not panel.running and ctl.state.iteration == 0
    assert fault.message in panel.status.text()
    assert panel.fault == fault
    assert fault.key in window.status.bad.text() and window.status.bad.isVisible()
    assert f"t={fault.t}" in window.status.bad.text()
    assert (fault.phase, fault.t) == ("forward_after", 0)
    assert window.timeline.fault_step() == ("forward_after", None)   # a chip without timestep cells
    assert window.timeline.fault_rect() == window.timeline.chip_rect("forward_after")
    QtWidgets.QApplication.processEvents()
    image = window.timeline.grab().toImage()
    rect = window.timeline.fault_rect()
    edge = image.pixelColor(rect.left() - 2, rect.center().y())
    assert edge.red() > 150 and edge.green() < 120 and edge.blue() < 120   # the red outline


def test_a_run_that_stops_at_a_fault_says_so(window, monkeypatch):
    fault = Fault("z", "cell", 3, "NaN", (0, 3, 1), "the first non-finite value (NaN) appears in z[0, 3, 1]")
    keys = []

    def fake(controller, n, merge_key=None):
        keys.append(merge_key)
        run = TrainingRun()
        run.append(training_panel.TrainingPoint(0, 0, 3.5, 3.4))
        if len(keys) == 2:
            run.fault = fault
        return run
    monkeypatch.setattr(training_panel, "train_iterations", fake)
    messages = []
    panel = window.training
    panel.message.connect(messages.append)
    panel.count.setValue(10)
    panel.start()
    panel._tick()
    panel.pause()
    panel.start()          # resume: the same run
    panel._tick()
    assert keys[0] is not None and keys[0] == keys[1]
    assert not panel.running and panel.remaining == 0
    assert fault.message in panel.status.text() and fault.message in messages[-1]
    panel.start()          # a new run: a new key
    panel._tick()
    assert keys[2] != keys[0]


def test_pause_and_resume_make_one_undo_step(window):
    panel = window.training
    panel.count.setValue(4)
    panel.speed.setValue(20)   # one iteration per tick
    panel.start()
    panel._tick()
    panel.pause()
    panel.start()
    panel._tick()
    panel.stop()
    texts = window.controller.undo_texts
    assert texts == ["Training run (2 iterations)"]


def test_history_rebuilds_when_old_steps_are_dropped(qtbot):
    probe = Controller(Config(seed=0))
    for i in range(3):
        probe.set_param("lm_head.weight", (i, 0), float(i + 2))
    ctl = Controller(Config(seed=0), history_budget=probe.history_bytes)  # room for three such steps
    bridge = UndoBridge(ctl)
    for i in range(6):
        ctl.set_param("lm_head.weight", (i, 0), float(i + 2))
    assert ctl.history_dropped >= 1 and len(ctl.undo_texts) >= 2
    stack = bridge.stack
    labels = [stack.text(i) for i in range(stack.count())]
    assert labels == ctl.undo_texts + ctl.redo_texts
    assert stack.index() == len(ctl.undo_texts)
    stack.undo()                                   # and Qt's undo still reaches the right step
    assert ctl.redo_texts == [labels[-1]]


def test_history_panel_names_the_dropped_steps(qtbot):
    ctl = Controller(Config(seed=0), history_budget=1)
    win = MainWindow(ctl)
    qtbot.addWidget(win)
    view = win.findChild(QtWidgets.QUndoView, "undo-history")
    assert view.emptyLabel() == "<start>"
    ctl.set_learning_rate(1.0)
    ctl.set_learning_rate(2.0)
    assert "dropped to save memory" in view.emptyLabel()
    assert view.emptyLabel() == ctl.history_note


def test_training_after_reset_starts_a_fresh_curve(qtbot):
    from gru_debugger.core.base.config import Config
    from gru_debugger.core.control.controller import Controller
    from gru_debugger.ui.editors.training_panel import TrainingPanel

    ctl = Controller(Config(seed=0))
    panel = TrainingPanel(ctl)
    qtbot.addWidget(panel)
    panel.run_now(3)
    assert [p.iteration for p in panel.points] == [0, 1, 2]
    ctl.reset()
    assert panel.points == [] and panel.status.text() == TrainingPanel.STATUS
    panel.run_now(2)
    xs = panel.before_curve.getData()[0]
    assert list(xs) == [0.0, 1.0]                 # no line back from the old run's last iteration
