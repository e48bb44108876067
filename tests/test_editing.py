"""Live editing in the window: weights, undo/redo through Qt, training runs."""
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.phases import Step
from gru_debugger.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def test_editing_one_weight_recomputes_downstream_and_undoes(window, qtbot):
    ctl = window.controller
    ctl.run_to("loss")
    before = ctl.snapshot()
    window.panels["params"].cell_edit_requested.emit("param/h2g.weight", 0, 1, "h2g.weight")
    dialog = window.cell_editor.dialog
    assert dialog is not None and "h2g.weight[0, 1]" in dialog.labelText()
    dialog.setTextValue("2.5")
    dialog.accept()
    after = ctl.snapshot()
    assert after.step == Step("loss")  # the cursor stays where it was
    assert float(after.trace["param/h2g.weight"][0, 1]) == 2.5
    for key in ("zh", "z", "h"):
        assert not np.array_equal(after.get(key), before.get(key)), key
    assert window.undo.stack.count() == 1 and "h2g.weight[0, 1]" in window.undo.stack.text(0)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z, QtCore.Qt.KeyboardModifier.ControlModifier)
    for key in ("z", "h", "logits"):
        np.testing.assert_array_equal(ctl.snapshot().get(key), before.get(key))
    qtbot.keyClick(window, QtCore.Qt.Key.Key_Z,
                   QtCore.Qt.KeyboardModifier.ControlModifier | QtCore.Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(ctl.snapshot().get("h"), after.get("h"))


def test_bad_weight_values_are_refused(window):
    ctl = window.controller
    state = ctl.state
    for text in ("abc", "nan", "inf", ""):
        assert not window.cell_editor.apply("h2g.weight", (0, 0), text)
        assert ctl.state is state
    assert "not a number" in window.status.currentMessage() or "finite" in window.status.currentMessage()
    assert window.undo.stack.count() == 0


def test_computed_tensors_are_not_editable(window):
    window.panels["cell"].cell_edit_requested.emit("z", 0, 0, "")
    assert "cannot be edited" in window.status.currentMessage()
    assert window.cell_editor.dialog is None


def test_qt_stack_follows_controller_undo_and_merges(window):
    ctl = window.controller
    hyper = window.editor("hyper")
    from gru_debugger.ui.editors.hyper_panel import lr_to_slider, slider_to_lr
    hyper.lr_slider.setSliderDown(True)   # one drag through several values is one undo step
    for lr in (1.0, 2.0, 3.0):
        hyper.lr_slider.setSliderPosition(lr_to_slider(lr))
    hyper.lr_slider.setSliderDown(False)
    dragged = slider_to_lr(lr_to_slider(3.0))
    assert window.undo.stack.count() == 1 and window.undo.stack.text(0) == f"Learning rate = {dragged:.6g}"
    ctl.set_dropout(0.2)
    assert window.undo.stack.count() == 2
    ctl.undo()  # undo from the controller side: the Qt stack follows
    assert window.undo.stack.index() == 1 and window.undo.stack.canRedo()
    window.undo.stack.undo()  # and from the Qt side: the controller follows
    assert ctl.config.learning_rate == 5.0 and ctl.config.dropout == 0.1
    window.undo.stack.redo()
    assert ctl.config.learning_rate == dragged
    ctl.set_seed(4)  # a new edit drops the redo history on both sides
    assert window.undo.stack.count() == 2 and not ctl.can_redo() and not window.undo.stack.canRedo()


def test_learning_rate_applies_mid_iteration_without_reset(window):
    ctl = window.controller
    ctl.run_to("update")
    grad = ctl.snapshot().get("grad/lm_head.weight")
    ctl.set_learning_rate(0.5)
    snap = ctl.snapshot()
    assert snap.step == Step("update")
    np.testing.assert_allclose(snap.get("update/lm_head.weight"), -0.5 * grad, rtol=1e-6)
    window.view_state.select_param("lm_head.weight")
    window.show_panel("update")
    QtWidgets.QApplication.processEvents()
    shown = window.panels["update"].heatmaps["update_step"].shown
    np.testing.assert_allclose(shown.data, -0.5 * grad, rtol=1e-6)


def test_training_run_stops_on_request(window, qtbot):
    training = window.training
    training.count.setValue(10_000)
    training.speed.setValue(200)
    training.start()
    qtbot.waitUntil(lambda: len(training.points) >= 3, timeout=20_000)
    training.stop()
    n = len(training.points)
    qtbot.wait(200)
    assert len(training.points) == n and not training.running
    ctl = window.controller
    assert ctl.state.iteration == n
    xs, ys = training.before_curve.getData()
    assert len(xs) == n and len(ys) == n  # one point per iteration
    ctl.step_back()  # back into the last iteration of the run
    assert ctl.state.iteration == n - 1 and ctl.snapshot().at_end


def test_training_lowers_the_loss_curve(window):
    window.training.run_now(50)
    points = window.training.points
    assert len(points) == 50
    assert np.mean([p.loss for p in points[-10:]]) < np.mean([p.loss for p in points[:10]])
