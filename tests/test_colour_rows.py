"""One colour bar per group of neighbours in a panel row, one power of ten per bar, and one rule
for printing values in cells (they fit on screen or they are not drawn)."""
import re

import numpy as np
import pyqtgraph as pg
import pytest
from hypothesis import given, settings, strategies as st
from PySide6 import QtCore

from gru_debugger.core.base.config import Config
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.storage.examples import list_examples
from gru_debugger.ui.panels import cell as cell_panel, gradients, output, time as time_panel
from gru_debugger.ui.panels.baseline import BaselineHolder
from gru_debugger.ui.panels.tensor_panel import TensorPanel
from gru_debugger.ui.widgets import theme
from gru_debugger.ui.widgets.heatmap import (Heatmap, HeatmapData, arrange_colour_bars, colour_groups, exponent_for,
                                             exponent_suffix, format_value)
from gru_debugger.ui.widgets.view_state import ViewState

LABEL = re.compile(r"^(-?\d\.\d{3}|-?\d{2,3}\.\d|0|≈0|nan|inf|-inf|>999|<-999)$")
EXAMPLES = {e.path.stem: e for e in list_examples()}


@pytest.fixture
def panel_for(qtbot):
    def make(specs, config=None, size=(930, 700)):
        ctl = Controller(config or Config(seed=0))
        panel = TensorPanel("test", list(specs), ctl, ViewState())
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        qtbot.waitExposed(panel)
        panel.refresh()
        return ctl, panel
    return make


def heatmaps(panel):
    return [h for h in panel.heatmaps.values() if isinstance(h, Heatmap)]


def groups_by_name(panel):
    return [[m.name for m in g] for g in colour_groups(panel._rows)]


def settle(panel):
    panel.refresh()
    QtCore.QCoreApplication.processEvents()
    panel.canvas.grab()   # lay out and paint


# ---------------------------------------------------------------- bars shared along a row
def test_gru_cell_panel_shares_bars_between_neighbours_of_one_scale(panel_for):
    ctl, panel = panel_for(cell_panel.cell_specs("gru"))
    ctl.run_to("cell", 3)
    settle(panel)
    maps = heatmaps(panel)
    bars = {id(h.colorbar): h.colorbar for h in maps}
    assert len(bars) < len(maps)                       # 13 heatmaps, 9 bars
    assert sorted(map(sorted, groups_by_name(panel))) == sorted(map(sorted, [
        ["zx", "zh"], ["z"], ["x2g.weight"], ["rx", "rh"], ["r"], ["nx", "nh"], ["n"], ["h2g.weight"],
        ["h_prev", "h"]]))
    for bar in bars.values():
        members = [h for h in maps if h.colorbar is bar]
        levels = {tuple(map(float, h.image.levels)) for h in members}
        assert len(levels) == 1 and levels == {tuple(bar.levels())}       # one scale, the bar's
        assert len({h.kind for h in members}) == 1
        assert [img() for img in bar.img_list] == [h.image for h in members]
        host = members[-1]
        assert bar.isVisible() and bar.opacity() == 1.0 and bar.parentItem() is host.plot
        right = max(h.plot.vb.sceneBoundingRect().right() for h in members)
        assert bar.sceneBoundingRect().left() >= right                    # after the group's last plot
        exponents = {h.exponent for h in members}
        assert len(exponents) == 1 and bar.axis.scale == 10.0 ** -exponents.pop()
    for h in maps:   # a bar that is not drawn is out of its plot's layout
        if h.colorbar is not h._bar:
            assert not h._bar.isVisible()


def test_sharing_bars_gives_the_heatmaps_the_room_of_the_bars_left_out(panel_for):
    # narrow enough that the cells are not at their size cap: room left by a bar goes to the cells
    ctl, panel = panel_for(cell_panel.cell_specs("gru"), size=(640, 700))
    ctl.run_to("cell", 3)
    settle(panel)
    row = [h for h in panel._rows[0] if h is not None]     # zx zh | z | x2g.weight: 3 bars, not 4

    def widths():
        panel.pack()
        QtCore.QCoreApplication.processEvents()
        panel.canvas.grab()
        return sum(h.plot.vb.width() for h in row), panel.canvas.ci.effectiveSizeHint(
            QtCore.Qt.SizeHint.MinimumSize).width()

    shared, shared_min = widths()
    arrange_colour_bars(panel._rows, own=True)
    own, own_min = widths()
    bar = row[0].colorbar.width()
    assert bar > 30 and shared > own + bar / 2 and shared_min <= own_min
    arrange_colour_bars(panel._rows)
    assert widths() == (shared, shared_min)


def test_groups_do_not_change_while_numbers_arrive(panel_for):
    ctl, panel = panel_for(cell_panel.cell_specs("gru"))
    before = groups_by_name(panel)          # nothing computed yet: every heatmap a placeholder
    assert all(not h.has_numbers() for h in heatmaps(panel) if h.name not in ("x2g.weight", "h2g.weight"))
    assert all(h.colorbar.opacity() == 0.0 for h in heatmaps(panel) if h.name in ("z", "zx", "h"))
    ctl.run_to("cell", 2)
    ctl.step_into()
    while True:
        settle(panel)
        assert groups_by_name(panel) == before, ctl.snapshot().step
        if ctl.snapshot().step.sub == "h":
            break
        ctl.step_into()


def test_lstm_cell_state_and_its_previous_value_share_one_scale(panel_for):
    ctl, panel = panel_for(cell_panel.cell_specs("lstm"), Config(seed=0, cell="lstm"))
    for t in (0, 2):
        ctl.run_to("cell", t)
        settle(panel)
        c_prev, c = panel.heatmaps["c_prev"], panel.heatmaps["c"]
        assert c_prev.colorbar is c.colorbar and ["c_prev", "c"] in groups_by_name(panel)
        assert c_prev.shown.levels == c.shown.levels == tuple(c.colorbar.levels())


def test_lstm_forget_and_input_gates_over_time_share_a_bar(panel_for):
    ctl, panel = panel_for(time_panel.time_specs("lstm"), Config(seed=0, cell="lstm"))
    ctl.run_to("cell", 3)
    settle(panel)
    assert groups_by_name(panel) == [["time_h"], ["time_c"], ["time_f", "time_i"], ["time_g"], ["time_o"]]
    assert panel.heatmaps["time_f"].colorbar.levels() == (0.0, 1.0)


def test_a_title_may_be_as_wide_as_the_heatmap_and_its_bar(canvas):
    hm = Heatmap(canvas.ci, theme.SIGNED, "w", 0, 0, parent=canvas)
    hm.set_data(HeatmapData(np.ones((2, 2), np.float32), "a title much wider than its small heatmap, " * 2))
    QtCore.QCoreApplication.processEvents()
    minimum = lambda item: item.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width()  # noqa: E731
    title, axis, bar = minimum(hm.plot.titleLabel), minimum(hm.plot.getAxis("left")), minimum(hm.colorbar)
    assert bar > 30 and minimum(hm.plot) < title + axis + bar / 2


def test_baseline_differences_get_their_own_bars_and_plain_values_share_again(panel_for):
    ctl, panel = panel_for(cell_panel.cell_specs("gru"))
    ctl.run_to("cell", 4)
    holder = BaselineHolder(ctl)
    panel.attach_baseline(holder)
    holder.pin()
    ctl.set_param("h2g.weight", (0, 0), 1.0)
    settle(panel)
    maps = heatmaps(panel)
    assert len({id(h.colorbar) for h in maps}) == len(maps)
    for h in maps:
        if h.shown.diff is not None:
            low, high = h.colorbar.levels()
            assert low == -high and (low, high) == tuple(map(float, h.image.levels))
            assert h.colorbar.kind == theme.SIGNED and h.shown.title.startswith("Δ ")
    holder.set_show_diff(False)
    settle(panel)
    assert len({id(h.colorbar) for h in maps}) == 9
    assert panel.heatmaps["z"].colorbar.kind == theme.UNIT


def test_runs_break_at_other_plots_and_other_scales(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    a, b, c, d = (Heatmap(widget.ci, theme.SIGNED, n, 0, k, shared_bar=True) for k, n in enumerate("abcd"))
    for h, levels in ((a, (-2.0, 2.0)), (b, (-2.0, 2.0)), (c, (-1.0, 1.0)), (d, (-2.0, 2.0))):
        h.set_data(HeatmapData(np.full((2, 2), 0.5, np.float32), h.name, levels=levels))
    names = lambda groups: [[m.name for m in g] for g in groups]  # noqa: E731
    assert names(arrange_colour_bars([[a, b, c, d]])) == [["a", "b"], ["c"], ["d"]]
    assert a.colorbar is b.colorbar is b._bar and not a._bar.isVisible()
    assert names(arrange_colour_bars([[a, None, b, c, d]])) == [["a"], ["b"], ["c"], ["d"]]  # a curve between
    assert a.colorbar is a._bar and a._bar.isVisible()
    assert names(arrange_colour_bars([[a, b]], own=True)) == [["a"], ["b"]]
    e = Heatmap(widget.ci, theme.SIGNED, "e", 1, 0, shared_bar=True)   # levels from its own numbers: its own
    f = Heatmap(widget.ci, theme.SIGNED, "f", 1, 1, shared_bar=True)
    for h in (e, f):
        h.set_data(HeatmapData(np.full((2, 2), 0.5, np.float32), h.name))
    assert names(arrange_colour_bars([[e, f]])) == [["e"], ["f"]]


# ---------------------------------------------------------------- one power of ten
def test_exponent_rule():
    assert exponent_for(max(abs(v) for v in (4.7e-4, 2.9e-4, -7e-4))) == -4
    assert [format_value(v, -4) for v in (4.7e-4, 2.9e-4, -7e-4)] == ["4.700", "2.900", "-7.000"]
    assert exponent_suffix(-4) == "  ×10⁻⁴" and exponent_suffix(12) == "  ×10¹²" and exponent_suffix(0) == ""
    assert exponent_for(0.020) == -2                                      # the mixed case: 0.020 and 4.7e-4
    assert [format_value(v, -2) for v in (0.020, 4.7e-4, -7e-4)] == ["2.000", "0.047", "-0.070"]
    assert exponent_for(0.1) == 0 and exponent_for(0.86) == 0 and exponent_for(999.0) == 0
    assert exponent_for(1234.5) == 3 and format_value(1234.5, 3) == "1.234"
    assert exponent_for(9.9996e-4) == -3                                  # would print 10.000 ×10⁻⁴
    assert exponent_for(0.0) == 0 and exponent_for(0.0, (-3e-6, 3e-6)) == -6   # nothing non-zero: the bar's range
    assert format_value(3e-9, -4) == "≈0" and format_value(-3e-9, 0) == "≈0" and format_value(0.0, -4) == "0"
    assert format_value(float("nan")) == "nan" and format_value(-float("inf"), -3) == "-inf"


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=1, max_size=8))
def test_printed_values_never_use_e_notation_and_read_back(values):
    peak = max(abs(v) for v in values)
    e = exponent_for(peak)
    for v in values:
        text = format_value(v, e)
        assert LABEL.match(text), (v, e, text)
        if text not in ("0", "≈0"):
            # to the last printed digit: three decimals below 10, one from 10 up
            last = 0.05 if "." in text and len(text.split(".")[1]) == 1 else 5e-4
            assert float(text) == pytest.approx(v / 10.0 ** (e // 2) / 10.0 ** (e - e // 2), abs=last * 1.02)
        assert (text == "0") == (v == 0)                              # a bare 0 is exactly zero
    assert e == 0 or re.match(r"^-?[1-9]\.\d{3}$", format_value(peak, e))     # the largest: 1.000 to 9.999


@pytest.fixture
def canvas(plot_canvas):
    return plot_canvas(500, 400)


def test_title_cells_and_colour_bar_share_the_power_of_ten(canvas):
    hm = Heatmap(canvas.ci, theme.SIGNED, "g", 0, 0, parent=canvas)
    data = np.array([[4.7e-4, 2.9e-4], [-7e-4, 0.0]], np.float32)
    hm.set_data(HeatmapData(data, "dL/d x2g.weight  (summed so far)", describe=lambda r, c: f"g[{r},{c}]"))
    assert hm.plot.titleLabel.text == "dL/d x2g.weight  (summed so far)  ×10⁻⁴" and hm.exponent == -4
    canvas.grab()
    texts = [t for _, _, t, _ in hm.texts.labels()]
    assert texts == ["4.700", "2.900", "-7.000", "0"] and hm.texts.drawn == 4
    assert hm.hover_text(1, 0) == f"g[1,0] = {float(data[1, 0]):.7g}"            # hover stays exact
    axis = hm.colorbar.axis
    assert axis.scale == 1e4 and not axis.autoSIPrefix
    ticks = axis.tickStrings([-7e-4, -3.5e-4, 0.0, 3.5e-4, 7e-4], axis.scale, 3.5e-4)
    assert ticks == ["-7.0", "-3.5", "0", "3.5", "7.0"]
    hm.set_data(HeatmapData(np.array([[0.5, -0.25]], np.float32), "w"))     # back in the plain range
    assert hm.plot.titleLabel.text == "w" and axis.scale == 1.0 and hm.exponent == 0


def test_round_off_is_left_out_of_the_exponent_and_never_reads_as_zero(canvas):
    hm = Heatmap(canvas.ci, theme.SIGNED, "g", 0, 0, parent=canvas)
    data = np.array([[3.2e-3, 4e-9], [-1.5e-3, 0.0]], np.float32)
    roundoff = np.array([[False, True], [False, False]])
    hm.set_data(HeatmapData(data, "g", roundoff=roundoff))
    assert hm.exponent == -3
    assert [t for _, _, t, _ in hm.texts.labels()] == ["3.200", "≈0", "-1.500", "0"]


def test_a_shared_bar_gives_its_heatmaps_one_power_of_ten(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    a, b = (Heatmap(widget.ci, theme.SIGNED, n, 0, k, shared_bar=True) for k, n in enumerate("ab"))
    a.set_data(HeatmapData(np.array([[3e-3, -1e-3]], np.float32), "a", levels=(-0.01, 0.01)))
    b.set_data(HeatmapData(np.array([[5e-4, 2e-4]], np.float32), "b", levels=(-0.01, 0.01)))
    arrange_colour_bars([[a, b]])
    assert a.exponent == b.exponent == -3 and a.colorbar is b.colorbar
    assert a.plot.titleLabel.text.endswith("×10⁻³") and b.plot.titleLabel.text.endswith("×10⁻³")
    assert [t for _, _, t, _ in b.texts.labels()] == ["0.500", "0.200"]
    assert b.colorbar.axis.scale == 1e3


def test_no_e_notation_anywhere_in_the_gradients_panel(panel_for):
    for example in ("notebook", "random-init"):
        config = load_config(EXAMPLES[example].path)
        ctl, panel = panel_for(gradients.GRADIENT_SPECS, config.with_changes(seed=config.seed or 3))
        ctl.run_to("backward", 4)
        settle(panel)
        for h in heatmaps(panel):
            assert h.has_numbers(), h.name
            texts = [t for _, _, t, _ in h.texts.labels()]
            assert texts and all(LABEL.match(t) for t in texts), (example, h.name, texts)
            title = h.plot.titleLabel.text
            assert ("×10" in title) == (h.exponent != 0) and "e-" not in title
            assert h.colorbar.axis.scale == 10.0 ** -h.exponent
            if h.exponent:
                assert title.endswith(exponent_suffix(h.exponent))
                assert 1.0 <= h._peak / 10.0 ** h.exponent < 10.0 or h._peak == 0
        if example == "random-init":   # summed-so-far gradients of about 0.01
            assert any(h.exponent < 0 for h in heatmaps(panel))


# ---------------------------------------------------------------- printed when the cells hold them
@pytest.mark.parametrize("size, drawn", [((1100, 800), 12 * 20), ((400, 300), 0)])
def test_values_print_when_the_cells_hold_them_whatever_their_number(qtbot, size, drawn):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    hm = Heatmap(widget.ci, theme.UNIT, "p", 0, 0, parent=widget)
    hm.set_data(HeatmapData(np.full((12, 20), 0.5, np.float32), "p"))     # 240 cells
    widget.grab()
    width, height = hm._cell_pixels()
    assert hm.texts.cell_fits(width, height) == bool(drawn)
    assert hm.texts.drawn == drawn


def test_same_shaped_heatmaps_print_alike(panel_for):
    ctl, panel = panel_for(cell_panel.cell_specs("gru"))
    ctl.run_to("cell", 3)
    settle(panel)
    batch_by_unit = [h for h in heatmaps(panel) if h.shown.data.shape == (2, 2)]
    assert len(batch_by_unit) == 11 and {h.texts.drawn for h in batch_by_unit} == {4}


# ---------------------------------------------------------------- placeholders keep their place
def test_output_placeholders_are_boxes_of_their_shape(panel_for):
    ctl, panel = panel_for(output.OUTPUT_SPECS)
    cfg, V = ctl.config, len(ctl.snapshot().vocab)
    B, T, H = cfg.batch_size, cfg.context_length, cfg.hidden_size
    ctl.run_to("head")
    settle(panel)
    for name, shape in (("loss_per_position", (B, T)), ("probs", (V, T))):
        hm = panel.heatmaps[name]
        assert hm.shown.data is None and hm.shown.shape == shape, name
        assert hm.frame.isVisible() and hm.colorbar.opacity() == 0.0 and not hm.image.isVisible()
        assert f"{shape[0]}×{shape[1]}" in hm.placeholder.toPlainText()
    box = panel.heatmaps["loss_per_position"].plot.vb.sceneBoundingRect()
    ctl.run_to("cell", 0)
    settle(panel)
    for name, shape in (("h_out", (H, T)), ("logits", (V, T))):
        assert panel.heatmaps[name].shown.shape == shape and panel.heatmaps[name].frame.isVisible()
    ctl.run_to("loss")
    settle(panel)
    loss = panel.heatmaps["loss_per_position"]
    assert loss.has_numbers() and loss.colorbar.opacity() == 1.0 and not loss.frame.isVisible()
    assert loss.plot.vb.sceneBoundingRect().height() == box.height()
