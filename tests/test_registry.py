"""One registry for panels, one table of phase facts, one UI module per cell: nothing may lack an entry."""
import re

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.model.cells import CELLS
from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.phases import PHASE_FACTS, PHASES, PhaseFacts, build_steps
from gru_debugger.ui.cells import VIEWS
from gru_debugger.ui.docs import screenshots
from gru_debugger.ui.docs.captions import panel_caption, stop_caption
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.registry import BY_KEY, MAIN, PANELS, diagram_targets, main_tab_keys, shots
from gru_debugger.ui.views.diagram_layout import BLOCKS, SIDE_LABELS, hit, layout
from gru_debugger.ui.views.equation_pages import build_page

RANDOM_INIT = {n: {"scheme": "default"} for n in Config().init}


def test_every_phase_has_every_fact_and_a_panel():
    assert list(PHASE_FACTS) == list(PHASES)
    for phase, facts in PHASE_FACTS.items():
        for field in PhaseFacts.__dataclass_fields__:
            assert getattr(facts, field).strip(), f"{phase} has no {field}"
        assert facts.panel in BY_KEY, f"{phase}'s panel {facts.panel!r} is not in the panel registry"


def test_every_panel_is_complete():
    keys = [p.key for p in PANELS]
    assert len(keys) == len(set(keys))
    for p in PANELS:
        assert p.tensor or (p.make and hasattr(MainWindow, p.make)), f"{p.key}: no way to build it"
        if p.shot is not None:
            assert p.shot.stem.startswith("panel-") and len(p.shot.caption) > 60
    assert set(main_tab_keys()) == {p.key for p in PANELS if p.area == MAIN}
    assert [p.key for p in screenshots.PANELS if p.key != "training"] == \
        [p.key for p in shots() if p.key != "training"] and screenshots.PANELS[-1].key == "training"


def test_every_diagram_block_opens_a_panel():
    targets = diagram_targets()
    for name, _ in BLOCKS + SIDE_LABELS:
        assert targets.get(name) in BY_KEY, f"diagram block {name} opens no panel"
    assert targets["gradients"] == "gradients"


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_cell_has_a_complete_ui_module(cell):
    view = VIEWS[cell]
    c = CELLS[cell]
    assert view.cell is c
    for gate in c.gates:
        assert gate in view.gate_names and gate in view.gate_titles and gate in view.gate_kinds, gate
    assert set(view.substep_text) == set(c.substeps)
    assert set(view.over_time) <= set(c.gates) and "h" in view.over_time
    assert [n for row in view.diagram_rows for n in row] == list(c.substeps)
    assert view.block_help and view.panel_intro and view.backward_text and view.variant_note
    for t in (0, 3, 7):
        assert len(view.caption_intro(t, 8)) > 80 and len(view.backward_intro(t, 8)) > 60


@pytest.mark.parametrize("cell", list(CELLS))
def test_diagram_layout_places_every_box_inside_the_cell_block(cell):
    rows = VIEWS[cell].diagram_rows
    for width, height in ((240, 560), (260, 900), (220, 480)):
        lay = layout(width, height, 15.0, 120.0, rows)
        block = lay.blocks["cell"]
        for name in (n for row in rows for n in row):
            r = lay.gates[name]
            assert block.x < r.x and r.right < block.right and block.y < r.y and r.bottom < block.bottom, name
        tops = [lay.gates[row[0]].y for row in rows]
        assert tops == sorted(tops) and len(set(tops)) == len(tops)       # rows top to bottom
        names = [n for n, _ in BLOCKS]
        ys = [lay.blocks[n].y for n in names]
        assert ys == sorted(ys)
        assert hit(lay, block.cx, block.cy) == "cell" and hit(lay, 0, 0) is None


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_page_and_caption_of_every_cell_builds_and_shows_the_recorded_numbers(cell):
    ctl = Controller(Config(seed=0, cell=cell, init=RANDOM_INIT))
    s = None
    for i, step in enumerate(build_steps(8, cell)):
        ctl.run_to_start() if i == 0 else None
        ctl.step_into()
        s = ctl.snapshot()
        assert s.step == step
        page = build_page(s, 1, 1)
        text = " ".join(line.html for line in page.lines) + page.explanation
        assert page.title and page.lines
        if step.phase == "cell":
            for gate in CELLS[cell].gates:
                if CELLS[cell].substeps.index(gate) <= CELLS[cell].substeps.index(step.sub):
                    value = s.get(gate)[1, step.t, 1]
                    assert re.search(rf"<b>{re.escape(_fmt(value))}</b>", text), (step, gate)
        if step.phase == "backward":
            assert f"<b>{_fmt(s.get('grad/h')[1, step.t, 1])}</b>" in text
            for key in [f"grad/{g}" for g in CELLS[cell].gates if g != "h"]:
                assert f"<b>{_fmt(s.get(key)[1, step.t, 1])}</b>" in text, key
        assert stop_caption(step, 8, cell, s, 1, 1)


def _fmt(value):
    from gru_debugger.ui.widgets.equation_format import fmt
    return fmt(value)


def test_window_derives_docks_menu_and_follow_from_the_registry(qtbot):
    win = MainWindow(Controller(Config(seed=0)), settings=None)
    qtbot.addWidget(win)
    win.show()
    assert set(win.docks) == set(BY_KEY)
    menu_texts = {a.text() for a in win.view_menu.actions()}
    for key, dock in win.docks.items():
        assert dock.toggleViewAction().text() in menu_texts, key
    assert set(win.panels) == {p.key for p in PANELS if p.tensor}
    for phase in PHASES:
        win.controller.run_to(phase)
        QtWidgets.QApplication.processEvents()
        dock = win.docks[PHASE_FACTS[phase].panel]
        assert not dock.visibleRegion().isEmpty(), f"following {phase} did not show {dock.windowTitle()}"
    for p in shots():
        assert panel_caption(p.key, 3)


def test_switching_the_cell_in_the_window_rebuilds_the_cell_panel(qtbot):
    from gru_debugger.ui.editors.cell_chooser import CellChooser

    win = MainWindow(Controller(Config(seed=0)), settings=None)
    qtbot.addWidget(win)
    win.show()
    ctl = win.controller
    ctl.run_to("cell", 2)
    chooser = win.findChild(CellChooser)
    chooser.combo.setCurrentIndex(chooser.combo.findData("lstm"))
    chooser.combo.activated.emit(chooser.combo.currentIndex())
    assert ctl.config.cell == "lstm" and ctl.undo_texts[-1] == "Cell = LSTM"
    win.show_panel("cell")
    QtWidgets.QApplication.processEvents()
    panel = win.panels["cell"]
    assert {"i", "f", "g", "o", "c", "c_prev", "h", "h_prev", "ix", "oh"} <= set(panel.heatmaps)
    assert "z" not in panel.heatmaps
    assert win.docks["cell"].windowTitle() == "LSTM cell"
    s = ctl.snapshot()
    np.testing.assert_array_equal(panel.heatmaps["c"].shown.data, s.get("c")[:, 2, :])
    H = ctl.config.hidden_size
    np.testing.assert_array_equal(panel.heatmaps["fx"].shown.data, s.get("gx")[:, 2, H:2 * H])
    ctl.undo()
    QtWidgets.QApplication.processEvents()
    assert "z" in win.panels["cell"].heatmaps and win.docks["cell"].windowTitle() == "GRU cell"
    assert chooser.combo.currentData() == "gru"


def test_compare_panel_shows_every_cell(qtbot):
    win = MainWindow(Controller(Config(seed=0, init=RANDOM_INIT)), settings=None)
    qtbot.addWidget(win)
    win.show()
    win.controller.run_to("backward", 0)
    win.show_panel("compare")
    QtWidgets.QApplication.processEvents()
    panel = win.panels["compare"]
    panel.refresh()
    curve = panel.heatmaps["compare_last"].shown
    assert len(curve.ys) == 4 and all(np.isfinite(v).all() for v in curve.ys.values())  # the LSTM: h and c
    assert "GRU" in panel.caption.text() and "LSTM" in panel.caption.text() and "RNN" in panel.caption.text()


def test_timeline_widths_are_plain_arithmetic():
    from gru_debugger.ui.views.timeline_layout import ChipText, chip_widths

    chips = [ChipText(60, 20, 35, False), ChipText(40, 20, None, True), ChipText(80, 30, 45, False)]
    roomy = chip_widths(1000, chips, 8)
    assert sum(roomy) == pytest.approx(1000) and roomy[1] > roomy[0]
    tight = chip_widths(120, chips, 8)
    assert sum(tight) == pytest.approx(120) and all(w > 0 for w in tight)
    # more room never makes a chip narrower
    assert all(a <= b + 1e-9 for a, b in zip(chip_widths(400, chips, 8), chip_widths(600, chips, 8)))
