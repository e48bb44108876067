"""Honest numbers in the window: round-off hatched, the structural reason said (with its fix),
the shipped examples one menu click away, and a numerical gradient check from a right-click."""
import re

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.analysis.diagnosis import gradient_diagnosis
from gru_debugger.core.storage.examples import list_examples
from gru_debugger.ui import export_view
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.widgets.hatch import runs

EXAMPLES = {e.path.stem: e for e in list_examples()}
PARAMS = ("x2g.weight", "h2g.weight", "x2g.bias", "h2g.bias", "wte.weight")


def make_window(qtbot, tmp_path, example):
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    config = load_config(EXAMPLES[example].path)
    win = MainWindow(Controller(config.with_changes(seed=config.seed if config.seed is not None else 3)), settings)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def notebook(qtbot, tmp_path):
    return make_window(qtbot, tmp_path, "notebook")


@pytest.fixture
def random_init(qtbot, tmp_path):
    return make_window(qtbot, tmp_path, "random-init")


def shown(win, panel, name):
    win.show_panel(panel)
    QtWidgets.QApplication.processEvents()
    win.panels[panel].refresh()
    return win.panels[panel].heatmaps[name].shown


def test_default_example_marks_dl_dh_as_round_off_without_stretching_the_colours(notebook):
    notebook.controller.run_to("backward", 0)
    spec = shown(notebook, "gradients", "grad/h")
    values = np.asarray(spec.data)
    assert np.abs(values).max() < 1e-6 and np.abs(values).max() > 0  # float32 noise, not zeros
    assert spec.roundoff is not None and spec.roundoff.shape == values.shape and spec.roundoff.all()
    low, high = spec.levels
    assert low == -high and high >= 1e-3  # not ±1e-8: round-off does not set the scale
    heatmap = notebook.panels["gradients"].heatmaps["grad/h"]
    assert heatmap.hatch.isVisible() and heatmap.hatch.count >= 1
    text = heatmap.hover_text(0, 0)
    assert re.search(r"round-off: exactly 0 in exact arithmetic \(float32 value -?\d\.\de-\d+\)", text), text
    assert f"{float(values[0, 0]):.1e}" in text


def test_default_example_marks_the_cell_and_embedding_gradients_and_their_updates(notebook):
    ctl = notebook.controller
    ctl.run_to("backward", 4)
    for name in PARAMS:
        spec = shown(notebook, "gradients", f"grad/{name}")
        data = np.asarray(spec.data)
        assert spec.roundoff is not None and spec.roundoff.any(), name
        assert np.array_equal(spec.roundoff, data != 0), name  # every non-zero cell is round-off, nothing else
        assert spec.levels[1] >= 1e-3, name
    head = shown(notebook, "gradients", "grad/lm_head.weight")
    assert head.roundoff is None and head.levels[1] > 1e-3  # the head's own gradient is real
    notebook.view_state.select_param("x2g.weight")
    preview = shown(notebook, "update", "update_step")
    assert "preview" in preview.title and preview.roundoff is not None and preview.roundoff.all()
    assert preview.levels[1] >= 1e-3
    ctl.run_to("update")
    step = shown(notebook, "update", "update_step")
    assert "preview" not in step.title and step.roundoff is not None and step.roundoff.all()
    assert notebook.panels["update"].notice.isVisibleTo(notebook.panels["update"])
    notebook.view_state.select_param("lm_head.weight")
    assert shown(notebook, "update", "update_step").roundoff is None


def test_random_init_marks_nothing_and_says_nothing(random_init):
    ctl = random_init.controller
    ctl.run_to("backward", 0)
    for name in ("grad/h", *(f"grad/{p}" for p in PARAMS), "grad/lm_head.weight"):
        spec = shown(random_init, "gradients", name)
        assert spec.data is not None and spec.roundoff is None, name
    panel = random_init.panels["gradients"]
    assert not panel.notice.isVisibleTo(panel)
    ctl.run_to("update")
    assert shown(random_init, "update", "update_step").roundoff is None
    assert not random_init.panels["update"].notice.isVisibleTo(random_init.panels["update"])


def test_notice_names_lm_head_and_one_click_breaks_the_symmetry(notebook, qtbot):
    ctl = notebook.controller
    shown(notebook, "gradients", "grad/h")
    panel = notebook.panels["gradients"]
    assert not panel.notice.isVisibleTo(panel)  # before backward: nothing to say yet
    ctl.run_to("backward", 4)
    shown(notebook, "gradients", "grad/h")
    assert panel.notice.isVisibleTo(panel) and panel.fix_button.isVisibleTo(panel)
    assert "lm_head.weight" in panel.notice_text.text() and "Hatched cells are round-off" in panel.notice_text.text()
    assert panel.fix_button.text() == "Break the symmetry"
    undo_steps = len(ctl.undo_texts)
    qtbot.mouseClick(panel.fix_button, QtCore.Qt.MouseButton.LeftButton)
    assert len(ctl.undo_texts) == undo_steps + 1
    snap = ctl.snapshot()
    assert snap.step is not None and snap.step.phase == "backward"  # the cursor stays
    assert gradient_diagnosis(snap.trace) is None
    assert not snap.is_roundoff("grad/h") and np.abs(snap.trace["grad/h"]).max() > 1e-4
    spec = shown(notebook, "gradients", "grad/h")
    assert spec.roundoff is None and not panel.notice.isVisibleTo(panel)
    ctl.undo()
    shown(notebook, "gradients", "grad/h")
    assert panel.notice.isVisibleTo(panel) and "lm_head.weight" in panel.notice_text.text()


def test_examples_menu_switches_in_one_undo_step(notebook):
    ctl = notebook.controller
    actions = [a for a in notebook.examples_menu.actions() if not a.isSeparator()]
    assert [a.text() for a in actions] == [e.title for e in list_examples()]
    assert [a.toolTip() for a in actions] == [e.description for e in list_examples()]
    before = ctl.config.to_json_dict()
    ctl.run_to("backward", 2)
    undo_steps = len(ctl.undo_texts)
    chosen = next(a for a in actions if a.text() == EXAMPLES["random-init"].title)
    chosen.trigger()
    assert len(ctl.undo_texts) == undo_steps + 1
    assert ctl.undo_texts[-1] == f"Example: {EXAMPLES['random-init'].title}"
    assert ctl.config.to_json_dict() == load_config(EXAMPLES["random-init"].path).to_json_dict()
    snap = ctl.snapshot()
    assert snap.step is not None and snap.step.phase == "backward"
    assert not snap.is_roundoff("grad/h") and gradient_diagnosis(snap.trace) is None
    # the example's own numbers: its description's first loss
    assert f"{float(snap.trace['loss']):.3f}" == "4.130"
    ctl.undo()
    assert ctl.config.to_json_dict() == before


def test_right_click_checks_one_gradient_numerically(random_init, qtbot):
    ctl = random_init.controller
    ctl.run_to("backward", 0)
    shown(random_init, "gradients", "grad/h2g.weight")
    panel = random_init.panels["gradients"]
    heatmap = panel.heatmaps["grad/h2g.weight"]
    row, col = 4, 1
    scene = heatmap.plot.vb.mapViewToScene(QtCore.QPointF(col + 0.5, row + 0.5))
    with qtbot.waitSignal(heatmap.context_requested, timeout=2000) as blocker:
        qtbot.mouseClick(panel.canvas.viewport(), QtCore.Qt.MouseButton.RightButton,
                         pos=panel.canvas.mapFromScene(scene))
    assert blocker.args[1] == (row, col)
    menus = panel.findChildren(QtWidgets.QMenu, "heatmap-menu")
    assert menus
    action = next(a for a in menus[-1].actions() if a.text() == export_view.GRADCHECK_TEXT)
    assert action.isEnabled() and "h2g.weight[4, 1]" in action.toolTip()
    for menu in menus:
        menu.close()
    action.trigger()
    box = panel.findChild(QtWidgets.QMessageBox, "gradcheck-box")
    assert box is not None and box.isVisible()
    text = box.text() + "\n" + box.informativeText()
    fd = float(re.search(r"finite difference:\s+(\S+)", text).group(1))
    ag = float(re.search(r"autograd:\s+(\S+)", text).group(1))
    assert abs(fd) > 1e-4  # a real gradient
    assert abs(fd - ag) <= 1e-6 * max(abs(fd), abs(ag))
    assert f"{float(ctl.snapshot().trace['grad/h2g.weight'][row, col]):.3g}"[:4] in f"{ag:.3g}"
    assert "float64" in text and "central differences" in text and "ε = 0.001" in text
    assert "difference:" in text and "relative error:" in text and "They agree" in text
    box.close()


def test_gradient_check_entry_only_for_parameter_heatmaps(notebook):
    ctl = notebook.controller
    ctl.run_to("backward", 4)
    cell = notebook.panels["cell"]
    shown(notebook, "cell", "z")
    cell.context_cell = ("z", (0, 0))
    texts = [a.text() for a in export_view.heatmap_menu(cell, cell.heatmaps["z"]).actions()]
    assert export_view.GRADCHECK_TEXT not in texts
    params = notebook.panels["params"]
    shown(notebook, "params", "param/x2g.bias")
    params.context_cell = ("param/x2g.bias", (0, 3))
    menu = export_view.heatmap_menu(params, params.heatmaps["param/x2g.bias"])
    action = next(a for a in menu.actions() if a.text() == export_view.GRADCHECK_TEXT)
    assert action.isEnabled() and "x2g.bias[3]" in action.toolTip()  # a bias is one row: its column is the index
    params.context_cell = ("param/x2g.bias", None)  # clicked beside the cells
    menu = export_view.heatmap_menu(params, params.heatmaps["param/x2g.bias"])
    assert not next(a for a in menu.actions() if a.text() == export_view.GRADCHECK_TEXT).isEnabled()
    notebook.view_state.select_param("wte.weight")
    update = notebook.panels["update"]
    shown(notebook, "update", "update_grad")
    assert export_view.checked_parameter(update, update.heatmaps["update_grad"]) == "wte.weight"


def test_gradient_check_of_a_round_off_cell_says_so(notebook):
    ctl = notebook.controller
    ctl.run_to("backward", 0)
    text = "\n".join(export_view.gradient_check_text(ctl, "h2g.weight", (0, 0)))
    assert "is round-off: it is 0 in exact arithmetic" in text and "They agree" in text
    assert "during backward the heatmaps show the sum so far" not in text  # backward t=0 is its last step


def test_hatch_runs_merge_neighbours():
    mask = np.array([[1, 1, 0, 1], [1, 1, 0, 1], [0, 1, 1, 0]], bool)
    rects = runs(mask)
    covered = np.zeros(mask.shape, bool)
    for rect in rects:
        covered[int(rect.top()):int(rect.bottom()), int(rect.left()):int(rect.right())] = True
    assert np.array_equal(covered, mask)
    assert len(rects) == 3  # two two-row runs and one in the last row
    assert runs(np.zeros((2, 2), bool)) == []


def test_learning_rate_preview_marks_a_round_off_gradient():
    from gru_debugger.ui.editors.hyper_panel import HyperPanel

    ctl = Controller(Config(seed=0))                 # the notebook's constants: the GRU's gradient is round-off
    ctl.run_to("backward", 4)
    assert "round-off" in HyperPanel.preview_text(ctl.snapshot())
    real = Controller(Config(seed=0, init={n: {"scheme": "default"} for n in Config().init}))
    real.run_to("backward", 4)
    assert "round-off" not in HyperPanel.preview_text(real.snapshot())
