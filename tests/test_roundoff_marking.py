"""Round-off marked wherever it shows (the weights after the update, the Equation pages, the
learning-rate preview), and float32 that cannot resolve an example says so."""
import re

import numpy as np
import pytest

from gru_debugger.core.analysis import precision
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.model.engine import compute_trace
from gru_debugger.core.storage.examples import list_examples
from gru_debugger.core.analysis.roundoff import change_roundoff_mask, roundoff_mask

EXAMPLES = {e.path.stem: e for e in list_examples()}
RANDOM = {name: {"scheme": "default"} for name in PARAM_NAMES}


def example_config(stem: str, **changes) -> Config:
    config = load_config(EXAMPLES[stem].path)
    return config.with_changes(seed=config.seed if config.seed is not None else 3, **changes)


# ------------------------------------------------------------------ core: the weights after the update
def test_weights_moved_only_by_round_off_are_marked():
    trace = compute_trace(fresh_state(Config(seed=0)))
    for name in ("x2g.bias", "h2g.bias"):
        after, before = trace[f"updated/{name}"], trace[f"param/{name}"]
        assert not before.any() and after.any()          # 0 − lr·(round-off): noise after the update
        mask = change_roundoff_mask(trace, name)
        np.testing.assert_array_equal(mask, after != before)
        assert mask.shape == after.shape and not mask.flags.writeable
    for name in ("x2g.weight", "h2g.weight", "wte.weight"):
        mask = change_roundoff_mask(trace, name)
        step = roundoff_mask(trace, f"update/{name}")
        moved = trace[f"updated/{name}"] != trace[f"param/{name}"]
        assert step is not None and step.any(), name
        # exactly the weights whose round-off step changed the float32 sum; absorbed steps are not marked
        np.testing.assert_array_equal(mask if mask is not None else np.zeros_like(moved), step & moved)
        if name != "wte.weight":   # 1.0 + 5e-8 rounds back to 1.0: wte's ones may not move at all
            assert mask is not None and mask.any() and not mask.all(), name
    assert change_roundoff_mask(trace, "lm_head.weight") is None   # the head's update is real
    with pytest.raises(KeyError):
        change_roundoff_mask(trace, "nope.weight")


def test_real_updates_are_not_marked():
    trace = compute_trace(fresh_state(Config(seed=0, init=RANDOM)))
    for name in PARAM_NAMES:
        assert change_roundoff_mask(trace, name) is None, name


def test_snapshot_marks_changes_only_once_the_update_ran():
    ctl = Controller(Config(seed=0))
    ctl.run_to("backward", 0)
    assert ctl.snapshot().change_roundoff_mask("x2g.bias") is None
    ctl.run_to("update")
    assert ctl.snapshot().change_roundoff_mask("x2g.bias").all()


# ------------------------------------------------------------------ core: float32 that cannot resolve
def test_exploding_example_is_not_resolved_by_float32():
    trace = compute_trace(fresh_state(example_config("rnn-exploding")))
    found = precision.unresolved(trace)
    assert found is not None
    assert found.key in precision.forward_keys("rnn") and found.t is not None
    T = trace["h"].shape[1]
    # chaotic: float32 drifts late in the sequence (t ≈ 25 here; the exact step depends on the CPU)
    assert T // 2 <= found.t < T
    assert found.index[1] == found.t
    # the numbers it quotes are the trace's own and the float64 recomputation's
    assert found.value32 == pytest.approx(float(trace[found.key][found.index]), abs=0)
    assert found.error > precision.RESOLVE_RTOL * found.scale
    # and nothing before that timestep is off by as much (it names the first)
    exact = compute_trace(fresh_state(example_config("rnn-exploding", dtype="float64")))
    for key in precision.forward_keys("rnn"):
        scale = np.abs(exact[key]).max()
        err = np.abs(trace[key][:, :found.t].astype(np.float64) - exact[key][:, :found.t])
        assert err.max() <= precision.RESOLVE_RTOL * scale, key
    assert "float64" in found.message and f"t={found.t}" in found.message and "dtype" in found.message


@pytest.mark.parametrize("stem", ["notebook", "random-init", "lstm", "rnn-vanishing"])
def test_stable_examples_are_resolved(stem):
    trace = compute_trace(fresh_state(example_config(stem)))
    assert precision.unresolved(trace) is None


def test_float64_runs_have_nothing_to_report_and_the_answer_is_kept():
    trace = compute_trace(fresh_state(example_config("rnn-exploding", dtype="float64")))
    assert precision.known(trace) == (False, None)
    assert precision.unresolved(trace) is None
    assert precision.known(trace) == (True, None)


def test_snapshot_and_worker_expose_it():
    ctl = Controller(example_config("rnn-exploding"))
    snap = ctl.snapshot()
    precision.start(snap.trace)
    found = snap.precision
    assert found is not None and precision.known(snap.trace) == (True, found)
    assert Controller(example_config("notebook")).snapshot().precision is None


def test_export_cli_notes_it(tmp_path, capsys):
    from gru_debugger.cli import main

    path = tmp_path / "exploding.json"
    path.write_text(EXAMPLES["rnn-exploding"].path.read_text())
    assert main(["export", "--config", str(path), "--out", str(tmp_path / "a.npz")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^note: float32 cannot resolve this example: h\[.*float64", err, re.M), err


# ------------------------------------------------------------------ the window
def _shown(win, panel, name):
    from PySide6 import QtWidgets

    win.show_panel(panel)
    QtWidgets.QApplication.processEvents()
    win.panels[panel].refresh()
    return win.panels[panel].heatmaps[name]


def test_update_and_parameters_panels_hatch_weights_moved_by_round_off(shown_window):
    from gru_debugger.ui.widgets.heatmap import format_value

    ctl, win = shown_window()
    ctl.run_to("update")
    win.view_state.select_param("x2g.bias")
    after = _shown(win, "update", "update_after")
    spec = after.shown
    values = np.asarray(spec.data)
    assert np.abs(values).max() > 0 and np.abs(values).max() < 1e-5           # 0 − lr·(round-off)
    assert spec.roundoff is not None and spec.roundoff.all()
    assert spec.levels == (-1.0, 1.0)            # the colour scale of zeros, not ±the noise: drawn as 0
    assert after.hatch.isVisible() and after.hatch.count >= 1
    assert format_value(values[0, 0], after._exponent) == "≈0"
    text = after.hover_text(0, 0)
    assert re.search(r"moved by round-off only \([+-]\d\.\de-\d+\); in exact arithmetic it keeps 0$", text), text
    assert _shown(win, "update", "update_step").shown.roundoff.all()          # −lr·grad: round-off too
    before = _shown(win, "update", "update_before").shown
    assert before.roundoff is None                                            # the weights before: real zeros
    panel = win.panels["update"]
    assert panel.notice.isVisibleTo(panel) and "keeps its value from before" in panel.notice_text.text()

    win.view_state.select_param("x2g.weight")   # 0.5 + round-off: hatched where float32 moved it, kept 0.5
    spec = _shown(win, "update", "update_after").shown
    moved = ctl.snapshot().get("updated/x2g.weight") != ctl.snapshot().get("param/x2g.weight")
    np.testing.assert_array_equal(spec.roundoff, moved)
    assert "keeps 0.5" in _shown(win, "update", "update_after").hover_text(*np.argwhere(moved)[0])
    win.view_state.select_param("lm_head.weight")
    assert _shown(win, "update", "update_after").shown.roundoff is None      # a real update

    params = _shown(win, "params", "param/h2g.bias").shown                   # the Parameters panel too
    assert params.roundoff is not None and params.roundoff.all() and params.levels == (-1.0, 1.0)
    assert _shown(win, "params", "param/lm_head.weight").shown.roundoff is None
    ctl.run_to("backward", 0)                                                # before the update: nothing
    assert _shown(win, "params", "param/h2g.bias").shown.roundoff is None


def test_random_weights_after_the_update_are_not_hatched(shown_window):
    ctl, win = shown_window(init=RANDOM)
    ctl.run_to("update")
    for name in PARAM_NAMES:
        win.view_state.select_param(name)
        assert _shown(win, "update", "update_after").shown.roundoff is None, name
        assert _shown(win, "params", f"param/{name}").shown.roundoff is None, name


def _equations(win) -> tuple[str, str]:
    from PySide6 import QtWidgets

    win.equations._refresh()
    QtWidgets.QApplication.processEvents()
    return win.equations.plain_text(), win.equations.html()


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_equation_pages_print_round_off_in_grey_never_bold(shown_window, cell):
    from gru_debugger.ui.widgets.equation_format import ROUNDOFF_COLOUR, ROUNDOFF_TEXT

    ctl, win = shown_window(cell=cell)
    for where in (("backward", 3), ("backward", ctl.config.context_length - 1), ("update",)):
        ctl.run_to(*where)
        text, html = _equations(win)
        assert ROUNDOFF_TEXT in text, where
        assert f'color:{ROUNDOFF_COLOUR}' in html
        # no bold number is a tiny float32 value: round-off never reads as a live result
        bold = re.findall(r"font-weight:\s*(?:600|700|bold)[^>]*>([^<]*)<", html)
        assert bold, where
        for number in bold:
            assert not re.fullmatch(r"\s*−?\d\.\d{3}e−(0[5-9]|[1-9]\d)\s*", number), (where, number)
    snap = ctl.snapshot()
    grad = float(snap.get("grad/x2g.bias")[0])
    assert f"{grad:.3e}".replace("-", "−") not in text                     # the noise's digits are not printed
    assert "x2g.bias[0]" in text and f"= {ROUNDOFF_TEXT}" in text           # 0 − lr·(round-off) = ≈0 (round-off)


def test_equation_pages_keep_real_gradients_bold(shown_window):
    from gru_debugger.ui.widgets.equation_format import ROUNDOFF_TEXT, fmt
    from gru_debugger.ui.views.equation_pages import build_page

    ctl, win = shown_window(init=RANDOM)
    ctl.run_to("backward", 3)
    text, html = _equations(win)
    assert ROUNDOFF_TEXT not in text
    page = build_page(ctl.snapshot(), 0, 0)
    assert any(f"= <b>{fmt(ctl.snapshot().get('grad/h')[0, 3, 0])}</b>" in line.html for line in page.lines)
    ctl.run_to("update")
    text, _ = _equations(win)
    assert ROUNDOFF_TEXT not in text and "round-off" not in text


def test_learning_rate_preview_prints_round_off_in_grey_and_real_steps_in_digits():
    from gru_debugger.ui.editors.hyper_panel import HyperPanel, num
    from gru_debugger.ui.widgets.equation_format import ROUNDOFF_TEXT

    ctl = Controller(Config(seed=0))
    ctl.run_to("update")
    text = HyperPanel.preview_text(ctl.snapshot())
    grad = float(ctl.snapshot().get("grad/h2g.weight")[0, 0])
    assert text.count(ROUNDOFF_TEXT) == 2 and num(-5.0 * grad) not in text
    real = Controller(Config(seed=0, init=RANDOM))
    real.run_to("update")
    text = HyperPanel.preview_text(real.snapshot())
    grad = float(real.snapshot().get("grad/h2g.weight")[0, 0])
    assert ROUNDOFF_TEXT not in text and num(-5.0 * grad) in text


def _wait_for_notice(qtbot, win):
    qtbot.waitUntil(lambda: precision.known(win.controller.snapshot().trace)[0], timeout=20000)
    qtbot.wait(2 * 200)   # the window's clock looks again every PRECISION_POLL_MS
    return win.status.precision


def test_status_bar_says_when_float32_cannot_resolve_the_example(qtbot, tmp_path):
    from PySide6 import QtCore

    from gru_debugger.ui.main_window import MainWindow

    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    win = MainWindow(Controller(example_config("rnn-exploding")), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    label = _wait_for_notice(qtbot, win)
    found = win.controller.snapshot().precision
    assert label.isVisible() and label.text() == found.short
    assert "float32 cannot resolve" in label.text() and f"t={found.t}" in label.text()
    assert "float64" in label.toolTip() and "dtype" in label.toolTip()
    win.controller.configure("Precision = float64", dtype="float64")   # the suggested fix: the notice goes
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=5000)


def test_status_bar_says_nothing_for_the_notebook(qtbot, shown_window):
    ctl, win = shown_window()
    label = _wait_for_notice(qtbot, win)
    assert not label.isVisible() and label.text() == ""


def test_step_delta_of_the_update_hatches_what_only_round_off_moved(shown_window):
    ctl, win = shown_window()
    ctl.run_to("zero_grad")
    ctl.run_to("backward", 0)
    win.step_delta_action.trigger()
    ctl.run_to("update")                      # Δ since last step: the update's change of each weight
    for name in ("x2g.weight", "x2g.bias", "lm_head.weight"):
        spec = _shown(win, "params", f"param/{name}").shown
        assert spec.diff is not None and spec.title.startswith("Δ "), name
        moved = ctl.snapshot().change_roundoff_mask(name)
        if name == "lm_head.weight":
            assert moved is None and spec.roundoff is None     # a real step: not hatched
        else:                                  # 0.5 + 3e-7 − 0.5 is round-off as much as 0 + 3e-7 − 0
            assert spec.roundoff is not None and np.array_equal(spec.roundoff, moved.reshape(spec.roundoff.shape)), name
            assert spec.roundoff_base is None     # the Δ's exact value is 0, not the weight before
