"""The three editing panels: edits reach the controller and come back."""
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import PARAM_NAMES, Config, default_init
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.init import GATE_BIAS_ONLY, GATE_BIASES, MATRIX_ONLY, SCHEMES
from gru_debugger.core.model.phases import Step
from gru_debugger.ui.editors.hyper_panel import HyperPanel, lr_to_slider, slider_to_lr
from gru_debugger.ui.editors.init_panel import InitPanel
from gru_debugger.ui.editors.inputs_panel import InputsPanel


@pytest.fixture
def ctl():
    return Controller(Config(seed=0))


@pytest.fixture
def hyper(qtbot, ctl):
    panel = HyperPanel(ctl)
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def inputs(qtbot, ctl):
    panel = InputsPanel(ctl)
    qtbot.addWidget(panel)
    return panel


@pytest.fixture
def init(qtbot, ctl):
    panel = InitPanel(ctl)
    qtbot.addWidget(panel)
    return panel


def error_label(panel: QtWidgets.QWidget) -> QtWidgets.QLabel:
    label = panel.findChild(QtWidgets.QLabel, "edit-error")
    assert label is not None
    return label


def shows_error(panel: QtWidgets.QWidget) -> bool:
    label = error_label(panel)
    return bool(label.text()) and not label.isHidden()


# ---------------------------------------------------------------- hyperparameters

def test_lr_spin_box_reaches_the_controller_and_undo_comes_back(hyper, ctl):
    hyper.lr.setValue(2.5)
    assert ctl.config.learning_rate == 2.5
    assert hyper.lr_slider.value() == lr_to_slider(2.5)
    ctl.undo()
    assert ctl.config.learning_rate == 5.0
    assert hyper.lr.value() == 5.0
    assert hyper.lr_slider.value() == lr_to_slider(5.0)


def test_a_slider_drag_is_one_undo_step(hyper, ctl):
    hyper.lr_slider.setSliderDown(True)
    for position in (100, 250, 400, 550):
        hyper.lr_slider.setSliderPosition(position)
        assert hyper.lr.value() == slider_to_lr(position)  # the box shows where the drag is
    assert ctl.undo_texts == []  # nothing applied while dragging
    hyper.lr_slider.setSliderDown(False)  # let go
    assert ctl.undo_texts == [f"Learning rate = {slider_to_lr(550):.6g}"]
    assert ctl.config.learning_rate == slider_to_lr(550)
    hyper.lr.setValue(3.0)  # a typed value is a step of its own, with its own text
    assert ctl.undo_texts[-1] == "Learning rate = 3" and len(ctl.undo_texts) == 2
    ctl.undo()
    ctl.undo()
    assert hyper.lr.value() == 5.0 and ctl.config.learning_rate == 5.0


def test_slider_mapping_is_stable(hyper):
    for position in range(0, 1001, 7):
        lr = slider_to_lr(position)
        assert slider_to_lr(lr_to_slider(lr)) == lr
        assert abs(lr_to_slider(lr) - position) <= 5
    for position in (7, 203, 999):  # the handle stays where it was dragged
        hyper.lr_slider.setValue(position)
        assert hyper.lr_slider.value() == position
    assert slider_to_lr(0) == 0.001 and slider_to_lr(1000) == 100
    assert lr_to_slider(-3) == 0 and lr_to_slider(1e9) == 1000


def test_lr_applies_without_a_reset(hyper, ctl):
    ctl.run_to("update")
    cursor, before = ctl.cursor, ctl.snapshot().get("updated/h2g.weight").copy()
    hyper.lr.setValue(1.0)
    assert ctl.cursor == cursor
    assert ctl.snapshot().step == Step("update")
    grad = ctl.snapshot().get("grad/h2g.weight")
    np.testing.assert_allclose(ctl.snapshot().get("update/h2g.weight"), -1.0 * grad, rtol=1e-6)
    assert not np.array_equal(ctl.snapshot().get("updated/h2g.weight"), before) or not grad.any()


def test_update_preview_follows_gradients_and_lr(hyper, ctl):
    assert "gradients appear after backward" in hyper.preview.text()
    ctl.run_to("update")
    grad = float(ctl.snapshot().get("grad/h2g.weight")[0, 0])
    text = hyper.preview.text()
    assert "−lr·grad for h2g.weight[0, 0]" in text and "= −5 × " in text
    # the notebook's gradient here is round-off: it reads as such, not as its float32 digits
    # (tests/test_roundoff_marking.py checks a real one's digits)
    assert "≈0 (round-off)" in text and f"{-5.0 * grad:.4g}".replace("-", "−") not in text
    hyper.lr.setValue(2.0)
    assert "= −2 × " in hyper.preview.text()
    ctl.run_to_start()
    assert "gradients appear after backward" in hyper.preview.text()


def test_dropout_and_train_mode(hyper, ctl):
    hyper.dropout.setValue(0.3)
    hyper.dropout.stepBy(1)  # an arrow step lands on 0.35, not 0.35000000000000003
    assert ctl.config.dropout == 0.35 and hyper.dropout.text() == "0.35"
    assert ctl.undo_texts == ["Dropout p = 0.3", "Dropout p = 0.35"]
    hyper.train_mode.setChecked(False)
    assert ctl.config.train_mode is False
    assert len(ctl.undo_texts) == 3
    ctl.undo()
    assert hyper.train_mode.isChecked()
    ctl.undo()
    ctl.undo()
    assert hyper.dropout.value() == pytest.approx(0.1)


def test_sizes_are_staged_until_apply(hyper, ctl):
    hyper.hidden.setValue(3)
    hyper.n_embd.setValue(5)
    assert ctl.config.hidden_size == 2 and not ctl.undo_texts
    ctl.run_to("loss")  # a cursor move keeps what is staged
    assert hyper.hidden.value() == 3
    hyper.apply_sizes.click()
    assert (ctl.config.n_embd, ctl.config.hidden_size) == (5, 3)
    assert ctl.state.params["h2g.weight"].shape == (9, 3)
    assert not hyper.apply_sizes.isEnabled()
    ctl.undo()
    assert (hyper.n_embd.value(), hyper.hidden.value()) == (4, 2)


def test_refused_sizes_show_the_message_and_change_nothing(hyper, ctl):
    state, history = ctl.state, list(ctl.undo_texts)
    hyper.n_embd.setValue(4096)
    hyper.hidden.setValue(4096)
    hyper.apply_sizes.click()
    assert ctl.state is state and ctl.undo_texts == history
    assert shows_error(hyper)
    assert "GiB" in error_label(hyper).text()
    hyper.lr.setValue(1.5)  # the next successful edit clears it
    assert not shows_error(hyper)


# ---------------------------------------------------------------- inputs

def test_rejected_corpus_shows_the_message_and_changes_nothing(inputs, ctl):
    state, history = ctl.state, list(ctl.undo_texts)
    inputs.text_list.setCurrentRow(1)
    inputs.remove_button.click()
    assert inputs.text_list.count() == 1
    inputs.editor.setPlainText("too short")
    assert inputs.staged()["corpus"] == ("too short",)
    assert ctl.state is state  # staged, not applied
    inputs.apply_button.click()
    assert ctl.state is state and ctl.undo_texts == history
    assert shows_error(inputs)
    assert "B*T+1" in error_label(inputs).text()
    assert inputs.staged()["corpus"] == ("too short",)  # kept so it can be fixed
    inputs.revert_button.click()
    assert inputs.staged()["corpus"] == ctl.config.corpus
    assert not shows_error(inputs)


def test_apply_is_one_undo_step_and_undo_reloads(inputs, ctl):
    inputs.add_button.click()
    inputs.editor.setPlainText("a third text about matrices and vectors")
    inputs.merges.setValue(12)
    inputs.lowercase.setChecked(False)
    assert ctl.config.num_merges == 5
    assert inputs.apply_button.isEnabled()
    inputs.apply_button.click()
    assert not shows_error(inputs)
    assert len(ctl.undo_texts) == 1
    cfg = ctl.config
    assert (cfg.num_merges, cfg.lowercase, len(cfg.corpus)) == (12, False, 3)
    assert not inputs.apply_button.isEnabled()
    assert f"vocabulary of {len(ctl.snapshot().vocab)}" in inputs.stats.text()
    ctl.undo()
    assert inputs.merges.value() == 5 and inputs.lowercase.isChecked()
    assert inputs.text_list.count() == 2


def test_position_maximum_follows_b_and_t(inputs, ctl):
    n = len(ctl.snapshot().trace.corpus.tokens)
    assert inputs.position.maximum() == n - 2 * 8 - 1
    inputs.batch_size.setValue(4)
    inputs.context_length.setValue(10)
    assert inputs.position.maximum() == n - 2 * 8 - 1  # staged: the applied shape still counts
    inputs.apply_button.click()
    assert (ctl.config.batch_size, ctl.config.context_length) == (4, 10)
    assert inputs.position.maximum() == n - 4 * 10 - 1
    ctl.undo()
    assert inputs.position.maximum() == n - 2 * 8 - 1


def test_position_applies_at_once(inputs, ctl):
    inputs.position.setValue(40)
    assert ctl.state.position == 40 and ctl.config.position == 40
    assert ctl.undo_texts == ["Position = 40"]
    ctl.undo()
    assert inputs.position.value() == 0


def test_staged_edits_survive_other_changes(inputs, ctl):
    inputs.merges.setValue(9)
    ctl.run_to("loss")
    ctl.set_learning_rate(1.0)
    assert inputs.merges.value() == 9
    ctl.set_tokenizer(7, True)  # a change of that very setting wins
    assert inputs.merges.value() == 7


# ---------------------------------------------------------------- initialisation

def test_scheme_change_reinitialises_and_notebook_defaults_restore(init, ctl):
    original = ctl.state.params["x2g.weight"].clone()
    row = init.rows["x2g.weight"]
    row.combo.setCurrentIndex(row.combo.findData("normal"))
    assert ctl.state.params["x2g.weight"].equal(original)  # staged until the button
    assert not row.fields["mean"].isHidden() and row.fields["value"].isHidden()
    row.fields["std"].setValue(0.5)
    row.button.click()
    assert ctl.config.init["x2g.weight"] == {"scheme": "normal", "mean": 0.0, "std": 0.5}
    assert not ctl.state.params["x2g.weight"].equal(original)
    steps = len(ctl.undo_texts)
    init.defaults.click()
    assert not shows_error(init)
    assert len(ctl.undo_texts) == steps + 1 and ctl.undo_texts[-1] == "Notebook initialisation"
    assert {k: dict(v) for k, v in ctl.config.init.items()} == default_init()
    assert ctl.state.params["x2g.weight"].equal(original)
    assert row.combo.currentData() == "constant" and row.fields["value"].value() == 0.5


def test_bias_rows_offer_no_matrix_schemes(init):
    for name in PARAM_NAMES:
        offered = {init.rows[name].combo.itemData(i) for i in range(init.rows[name].combo.count())}
        expected = set(SCHEMES) - (MATRIX_ONLY if name.endswith(".bias") else set()) - \
            (set() if name in GATE_BIASES else GATE_BIAS_ONLY)
        assert offered == expected


def test_refused_init_shows_the_message_and_changes_nothing(init, ctl):
    state, history = ctl.state, list(ctl.undo_texts)
    row = init.rows["x2g.bias"]
    row.combo.setCurrentIndex(row.combo.findData("uniform"))
    row.fields["low"].setValue(2.0)
    row.button.click()
    assert ctl.state is state and ctl.undo_texts == history
    assert shows_error(init)
    assert "low must not exceed high" in error_label(init).text()
    row.fields["low"].setValue(0.0)
    row.button.click()
    assert not shows_error(init)
    assert ctl.config.init["x2g.bias"]["scheme"] == "uniform"


def test_seed_row_and_reinitialise_all(init, ctl):
    assert init.seed_fixed.isChecked() and init.seed.value() == 0
    init.seed.setValue(7)
    assert ctl.config.seed == 7
    init.seed_fixed.setChecked(False)
    assert ctl.config.seed is None and not init.seed.isEnabled()
    init.seed_fixed.setChecked(True)
    assert ctl.config.seed == 7
    ctl.set_param("wte.weight", (0, 0), 9.0)
    init.reinit_all.click()
    assert float(ctl.state.params["wte.weight"][0, 0]) == 1.0
    ctl.undo()
    assert float(ctl.state.params["wte.weight"][0, 0]) == 9.0


def test_staged_scheme_survives_cursor_moves_and_undo_reloads(init, ctl):
    row = init.rows["h2g.weight"]
    row.combo.setCurrentIndex(row.combo.findData("uniform"))
    ctl.run_to("loss")
    assert row.combo.currentData() == "uniform"
    row.button.click()
    ctl.undo()
    assert row.combo.currentData() == "constant" and row.fields["value"].value() == 0.25


@pytest.mark.parametrize("cls", [InputsPanel, InitPanel, HyperPanel])
def test_a_deleted_panel_is_left_alone(qtbot, ctl, cls):
    import shiboken6
    parent = QtWidgets.QWidget()
    panel = cls(ctl, parent)
    shiboken6.delete(parent)  # the C++ side goes, the Python wrapper lingers
    assert not shiboken6.isValid(panel)
    ctl.set_learning_rate(1.0)
    ctl.undo()
    assert ctl.config.learning_rate == 5.0


def test_typing_a_learning_rate_applies_it_once(qtbot, hyper, ctl):
    hyper.show()
    qtbot.waitExposed(hyper)
    hyper.lr.selectAll()
    qtbot.keyClicks(hyper.lr, "12.5")
    assert ctl.config.learning_rate == 5.0  # not "1", "12", "12." on the way
    assert hyper.lr.text() == "12.5"  # not rewritten under the cursor while typing
    qtbot.keyClick(hyper.lr, QtCore.Qt.Key.Key_Return)
    assert ctl.config.learning_rate == 12.5
    assert ctl.undo_texts == ["Learning rate = 12.5"]


def test_a_pause_after_typing_applies_the_number(qtbot, hyper, ctl):
    hyper.show()
    qtbot.waitExposed(hyper)
    hyper.lr.selectAll()
    qtbot.keyClicks(hyper.lr, "20")
    assert hyper._idle.isActive() and ctl.config.learning_rate == 5.0
    hyper._idle.timeout.emit()  # the pause, without waiting for it
    assert ctl.undo_texts == ["Learning rate = 20"]


@pytest.mark.parametrize("value", [1e-7, 12345.678, -2000.5, 3.0e38])
def test_the_lr_box_takes_every_value_the_config_takes(hyper, ctl, value):
    hyper.lr.setValue(value)
    assert ctl.config.learning_rate == value and hyper.lr.value() == value
    assert float(hyper.lr.text()) == value  # shown in full


def test_boxes_do_not_clamp_what_the_config_accepts(hyper, inputs, ctl):
    from gru_debugger.core.base.config import validate
    from dataclasses import replace
    top = inputs.merges.maximum()
    validate(replace(ctl.config, num_merges=top))
    with pytest.raises(Exception):
        validate(replace(ctl.config, num_merges=top + 1))
    for p in (0.999, 0.12345, 0.9999999999999999):
        hyper.dropout.setValue(p)
        assert ctl.config.dropout == p and float(hyper.dropout.text()) == p
    for spin in (inputs.batch_size, inputs.context_length, hyper.n_embd, hyper.hidden):
        assert (spin.minimum(), spin.maximum()) == (1, 4096)


def test_precision_is_one_undo_step(hyper, ctl):
    hyper.precision.setCurrentIndex(hyper.precision.findData("float64"))
    assert ctl.config.dtype == "float64" and ctl.undo_texts == ["Precision = float64"]
    import torch
    assert ctl.state.params["h2g.weight"].dtype == torch.float64
    ctl.undo()
    assert hyper.precision.currentData() == "float32"


def test_a_chosen_scheme_is_visibly_pending_until_applied(init, ctl):
    row = init.rows["x2g.weight"]
    row.combo.setCurrentIndex(row.combo.findData("normal"))
    assert row.pending() and row.button.text() == "Apply" and not row.note.isHidden()
    assert "Not applied yet" in row.note.text() and "constant" in row.note.text()
    assert "x2g.weight" in init.reinit_all.toolTip()
    before = ctl.state.params["x2g.weight"].clone()
    ctl.reset()  # Reset uses the applied scheme, as the note says; the row stays pending
    assert ctl.state.params["x2g.weight"].equal(before)
    assert row.pending() and not row.note.isHidden()
    row.button.click()
    assert ctl.undo_texts[-1] == "Initialise x2g.weight: normal"
    assert not row.pending() and row.note.isHidden() and row.button.text() == "Re-initialise"
    ctl.reset()
    assert not ctl.state.params["x2g.weight"].equal(before)  # Reset now draws with the applied normal scheme
