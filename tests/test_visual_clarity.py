"""Visual clarity: one colour scale per family, and the outline marks exactly what a step writes."""
import numpy as np
import pytest

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.phases import Step
from gru_debugger.ui.panels import cell as cell_panel, gradients, params, update
from gru_debugger.ui.panels.spec_helpers import MIN_RELATIVE, family_levels
from gru_debugger.ui.widgets.heatmap import Heatmap, HeatmapData
from gru_debugger.ui.widgets.view_state import ViewState


@pytest.fixture
def ctl():
    return Controller(Config(seed=0))


def at(ctl, step):
    ctl._move(ctl.steps.index(step))
    return ctl.snapshot()


def built(specs, snap, vs):
    return {s.name: s.build(snap, vs) for s in specs if s.kind != "curve"}


def test_preactivations_share_one_range_over_blocks_sources_and_timesteps(qapp, ctl):
    vs = ViewState()
    specs = cell_panel.cell_specs("gru")
    first = built(specs, at(ctl, Step("cell", 1, "h")), vs)
    later = built(specs, at(ctl, Step("cell", 6, "h")), vs)
    levels = {first[n].levels for n in ("zx", "zh", "rx", "rh", "nx", "nh")} | {later["nh"].levels, later["zx"].levels}
    assert len(levels) == 1                                 # one range for the whole family
    low, high = levels.pop()
    snap = ctl.snapshot()
    assert low == -high and high == pytest.approx(max(np.abs(snap.final("gx")).max(), np.abs(snap.final("gh")).max()))
    # gates and the state keep their fixed ranges (the heatmap's kind)
    assert first["z"].levels is None and first["h"].levels is None


def test_parameter_and_gradient_families_keep_their_range(qapp, ctl):
    vs = ViewState()
    before = built(params.PARAM_SPECS, at(ctl, Step("loss")), vs)["param/h2g.weight"]
    after = built(params.PARAM_SPECS, at(ctl, Step("forward_after")), vs)["param/h2g.weight"]
    assert before.levels == after.levels                    # before and after the update: one scale
    upd = built(update.UPDATE_SPECS, ctl.snapshot(), vs)
    assert upd["update_before"].levels == upd["update_after"].levels == before.levels
    vs.param = "lm_head.weight"   # a gradient that is not round-off in this model
    upd = built(update.UPDATE_SPECS, ctl.snapshot(), vs)
    assert upd["update_step"].levels != upd["update_grad"].levels   # −lr·grad has its own range
    early = built(gradients.GRADIENT_SPECS, at(ctl, Step("backward", 6)), vs)
    late = built(gradients.GRADIENT_SPECS, at(ctl, Step("backward", 0)), vs)
    for name in ("grad/h", "grad/h2g.weight", "grad/wte.weight"):
        assert early[name].levels == late[name].levels, name


def test_minimum_range(qapp):
    tiny = np.full((2, 2), 1e-12, np.float32)
    assert family_levels(tiny) == (-MIN_RELATIVE, MIN_RELATIVE)      # round-off reads as ≈0, not full colour
    assert family_levels(tiny, scale=0.5) == (-0.5 * MIN_RELATIVE, 0.5 * MIN_RELATIVE)
    assert family_levels(np.array([0.3, -2.0])) == (-2.0, 2.0)       # real values set the range


def outlined(specs, snap, vs):
    shown = built(specs, snap, vs)
    return ({n for n, d in shown.items() if d.highlight is not None},
            {n for n, d in shown.items() if d.emphasis == "main"},
            {n for n, d in shown.items() if d.emphasis == "read"})


def test_outline_is_exactly_what_the_step_writes(qapp, ctl):
    vs = ViewState()
    specs = cell_panel.cell_specs("gru")
    written, main, read = outlined(specs, at(ctl, Step("cell", 2, "z")), vs)
    assert written == main == {"z"} and read == {"zx", "zh"}
    written, main, read = outlined(specs, at(ctl, Step("cell", 2, "n")), vs)
    assert written == {"n"} and read == {"nx", "nh", "r"}
    written, main, read = outlined(specs, at(ctl, Step("cell", 2, "x2g")), vs)
    assert written == {"zx", "rx", "nx"} and read == {"x2g.weight"}
    # a whole-timestep stop wrote every pre-activation, gate and h of its timestep; h is the result
    written, main, read = outlined(specs, at(ctl, Step("cell", 3, "h")), vs)
    assert written == {"zx", "zh", "rx", "rh", "nx", "nh", "z", "r", "n", "h"} and main == {"h"}
    assert read == {"h_prev", "x2g.weight", "h2g.weight"}
    written, _, _ = outlined(specs, at(ctl, Step("loss")), vs)
    assert written == set()
    written, main, _ = outlined(gradients.GRADIENT_SPECS, at(ctl, Step("backward", 4)), vs)
    assert main == {"grad/h"} and "grad/h2g.weight" in written
    written, _, _ = outlined(params.PARAM_SPECS, at(ctl, Step("update")), vs)
    assert written == {s.name for s in params.PARAM_SPECS}


def test_main_result_is_drawn_thickest(qtbot):
    import pyqtgraph as pg
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    hm = Heatmap(view.ci, "tanh", "h", 0, 0)
    hm.set_data(HeatmapData(np.zeros((2, 2)), "h", highlight=("all", 0, 0), emphasis="written"))
    thin = hm.marker.pen().widthF()
    hm.set_data(HeatmapData(np.ones((2, 2)), "h", highlight=("all", 0, 0), emphasis="main"))
    assert hm.marker.isVisible() and hm.marker.pen().widthF() > thin >= 3
    hm.set_data(HeatmapData(np.ones((2, 2)), "h", emphasis="read"))
    assert not hm.marker.isVisible() and hm.plot.titleLabel.opacity() < 1


@pytest.mark.parametrize("dark", [False, True])
def test_timeline_done_tint_reads_and_substeps_show(qtbot, dark):
    from PySide6 import QtGui
    from gru_debugger.ui.views import timeline
    from gru_debugger.ui.widgets import theme
    old = theme.current()
    try:
        scheme = theme.apply(dark)
        colours = {k: QtGui.QColor(getattr(scheme, k)) for k in ("done", "active", "pending")}
        background = QtGui.QColor(scheme.background)
        for container in (False, True):
            fill = timeline.chip_fill("done", colours, background, container)
            assert timeline.contrast_ratio(theme.contrast_text(fill), fill) >= 4.5
        fill = timeline.chip_fill("active", colours, background, False)
        assert timeline.contrast_ratio(theme.contrast_text(fill), fill) >= 4.5
    finally:
        theme.apply(old.dark)
    ctl = Controller(Config(seed=0))
    view = timeline.TimelineView(ctl)
    qtbot.addWidget(view)
    at(ctl, Step("cell", 2, "z"))
    assert view.substep_progress() == [("x2g", "done"), ("h2g", "done"), ("z", "active"), ("r", "pending"),
                                       ("n", "pending"), ("h", "pending")]
    at(ctl, Step("cell", 2, "h"))
    assert view.substep_progress() is None       # a whole timestep: no sub-step line


def test_vocabulary_axis_labels_every_row_at_the_default_size(qtbot, tmp_path):
    from PySide6 import QtCore, QtWidgets
    from gru_debugger.ui.main_window import MainWindow
    settings = QtCore.QSettings(str(tmp_path / "s.ini"), QtCore.QSettings.Format.IniFormat)
    ctl = Controller(Config(seed=0))
    win = MainWindow(ctl, settings)
    qtbot.addWidget(win)
    win.resize(1600, 1000)
    win.show()
    qtbot.waitExposed(win)
    at(ctl, Step("loss"))
    win.show_panel("output")
    QtWidgets.QApplication.processEvents()
    probs = win.panels["output"].heatmaps["probs"]
    labels = [text for _, text in probs._ticks["left"][0]]
    assert len(labels) == len(ctl.snapshot().vocab) == 36       # none dropped
    assert "▁a" in labels and not any("␣" in text for text in labels)   # the space marker that survives small fonts
