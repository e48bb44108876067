"""Shapes: cells capped and nearly square, vectors as strips, panels packed, short panels scroll."""
import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.panels.packing import ASPECT, CAP, MIN_VIEW, Box, pack
from gru_debugger.ui.widgets.heatmap import Heatmap

TOL = 1.0   # px of rounding
PANELS = ("input", "cell", "time", "output", "gradients", "update", "params")
STOPS = [("embed",), ("cell", 3), ("loss",), ("backward", 4), ("forward_after",)]


def settle(win=None):
    for _ in range(4):
        QtWidgets.QApplication.processEvents()
        QtCore.QThread.msleep(5)
    QtWidgets.QApplication.processEvents()


@pytest.fixture
def big(qtbot):
    win = MainWindow(Controller(Config(seed=0)), settings=None)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    return win


def front(win, key):
    win.show_panel(key)
    settle()
    panel = win.panels[key]
    panel.heatmaps   # built
    settle()
    panel.canvas.grab()
    return panel


def cell_size(hm: Heatmap) -> tuple[float, float]:
    rows, cols = hm.cells()
    vb = hm.plot.vb
    return vb.width() / cols, vb.height() / rows


# ---------------------------------------------------------------- the rules alone
def test_a_bias_is_a_strip_of_square_cells():
    bias = Box(0, 0, 1, 1, 1, 6, decor_w=40, decor_h=50)
    done = pack([bias], 900, 700, 6, 12)
    (p,) = done.placed
    assert p.view_h <= CAP and p.cell_w <= CAP
    assert max(p.cell_w / p.cell_h, p.cell_h / p.cell_w) <= ASPECT
    assert done.heights[0] <= 50 + CAP + TOL     # its grid row is no taller than the strip


def test_a_tall_matrix_uses_its_room_with_small_cells():
    tall = Box(0, 0, 1, 1, 300, 4, decor_w=40, decor_h=50)
    (p,), *_ = pack([tall], 900, 700, 6, 12).placed, None
    assert p.view_h == pytest.approx(650, abs=TOL)          # all the height
    assert p.cell_w <= ASPECT * p.cell_h + 1e-6              # not stretched sideways


def test_lines_share_by_need_and_shrink_to_their_plots():
    small = Box(0, 0, 1, 1, 2, 8, decor_w=40, decor_h=50)
    big = Box(1, 0, 1, 1, 36, 4, decor_w=40, decor_h=50)
    done = pack([small, big], 900, 700, 6, 12)
    a, b = done.placed
    assert b.view_h > a.view_h                                # more rows, more height
    assert sum(done.heights) + 12 <= 700 + TOL
    for box, p, h in zip((small, big), done.placed, done.heights):
        assert h == pytest.approx(box.decor_h + p.view_h, abs=TOL)   # no empty room in a row


def test_too_little_room_gives_the_minimum_and_says_how_much_is_needed():
    boxes = [Box(r, 0, 1, 1, 2, 2, decor_w=40, decor_h=50) for r in range(6)]
    done = pack(boxes, 600, 200, 6, 12)
    assert all(p.view_h >= MIN_VIEW - TOL for p in done.placed)
    assert done.need_h >= 6 * (50 + MIN_VIEW) + 5 * 12 - TOL > 200


# ---------------------------------------------------------------- the window
def test_every_heatmap_is_capped_and_nearly_square_at_1600x1000(big):
    ctl = big.controller
    for stop in STOPS:
        ctl.run_to(*stop)
        for key in PANELS:
            panel = front(big, key)
            for name, hm in panel.heatmaps.items():
                if not isinstance(hm, Heatmap) or np.prod(hm.cells()) < 2:
                    continue
                w, h = cell_size(hm)
                assert w <= CAP + TOL and h <= CAP + TOL, (stop, key, name, w, h)
                assert max(w / h, h / w) <= ASPECT + 0.05, (stop, key, name, w, h)


def test_biases_are_strips(big):
    big.controller.run_to("forward_after")
    for key, names in (("gradients", ("grad/x2g.bias", "grad/h2g.bias")),
                       ("params", ("param/x2g.bias", "param/h2g.bias"))):
        panel = front(big, key)
        for name in names:
            hm = panel.heatmaps[name]
            assert hm.cells() == (1, 6)
            assert hm.plot.vb.height() <= CAP + TOL, name
            w, h = cell_size(hm)
            assert max(w / h, h / w) <= ASPECT + 0.05, name
            host = hm.group[-1]   # the bar is as tall as the views it serves
            assert host.colorbar.height() == pytest.approx(host.plot.vb.height(), abs=TOL), name


def test_panels_leave_no_room_their_plots_could_use(big):
    """The grid fills the panel in at least one direction (it grew until the room ran out), or every
    heatmap is at its cap; and no grid row is taller than its tallest plot."""
    big.controller.run_to("forward_after")
    for key in PANELS:
        panel = front(big, key)
        view = panel.scroll.viewport().size()
        grid = panel.canvas.ci.geometry()
        filled = max(grid.width() / view.width(), grid.height() / view.height())
        maps = [h for h in panel.heatmaps.values() if isinstance(h, Heatmap)]
        capped = all(max(cell_size(h)) >= CAP - TOL or min(cell_size(h)) * ASPECT >= max(cell_size(h)) - TOL
                     and max(cell_size(h)) >= CAP - TOL for h in maps)
        assert filled >= 0.9 or capped, (key, filled)
        layout = panel.canvas.ci.layout
        for spec in panel.specs:
            plot = panel.heatmaps[spec.name].plot
            if spec.rowspan == 1:
                assert plot.height() <= layout.rowMaximumHeight(spec.row) + TOL
        rows = {}
        for spec in panel.specs:
            if spec.rowspan == 1:
                rows.setdefault(spec.row, []).append(panel.heatmaps[spec.name].plot.height())
        for row, heights in rows.items():
            assert layout.rowMaximumHeight(row) <= max(heights) + TOL, (key, row)


def test_nothing_scrolls_at_1600x1000(big):
    ctl = big.controller
    for stop in STOPS:
        ctl.run_to(*stop)
        for key in PANELS:
            panel = front(big, key)
            assert panel.scroll.verticalScrollBar().maximum() == 0, (stop, key)
            need = panel.canvas.ci.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize)
            assert need.width() <= panel.canvas.viewport().width() + TOL, (stop, key)


def test_a_short_lstm_cell_panel_scrolls_instead_of_squashing(qtbot):
    win = MainWindow(Controller(Config(seed=0, cell="lstm")), settings=None)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    win.controller.run_to("cell", 3)
    panel = front(win, "cell")
    for name, hm in panel.heatmaps.items():
        rows, _ = hm.cells()
        assert hm.plot.vb.height() >= min(MIN_VIEW, rows * CAP) - TOL, name
    bar = panel.scroll.verticalScrollBar()
    room = panel.scroll.viewport().height()
    assert panel.canvas.height() >= panel.canvas.minimumHeight()
    if panel.canvas.minimumHeight() > room:     # shorter than its plots need: it scrolls
        assert bar.maximum() > 0
    # the grid fits the width (no horizontal scrolling, nothing cut off)
    need = panel.canvas.ci.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize)
    assert need.width() <= panel.canvas.viewport().width() + TOL


def test_placeholders_keep_their_geometry(big):
    ctl = big.controller
    ctl.run_to("dropout_in")
    panel = front(big, "output")
    names = ("h_out", "loss_per_position", "logits", "probs")
    before = {n: panel.heatmaps[n].plot.vb.sceneBoundingRect() for n in names}
    assert not any(panel.heatmaps[n].has_numbers() for n in names)
    ctl.run_to("loss")
    panel = front(big, "output")
    for n in names:
        assert panel.heatmaps[n].has_numbers()
        assert panel.heatmaps[n].plot.vb.sceneBoundingRect() == before[n], n
