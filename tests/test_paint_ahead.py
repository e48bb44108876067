"""Work done in idle time for the next click gives exactly what the click would have computed."""
import time

import pytest

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.views.equation_view import AHEAD_MS, EquationView, render_html
from gru_debugger.ui.views.equation_pages import build_page
from gru_debugger.ui.widgets.view_state import ViewState


def idle(qapp, ms):
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        qapp.processEvents()
        time.sleep(0.002)


def test_snapshot_ahead_is_the_next_step():
    ctl = Controller(Config())
    ctl.run_to("cell", 2)
    ahead = ctl.snapshot().ahead()
    ctl.step()
    assert ahead.cursor == ctl.snapshot().cursor and ahead.step == ctl.snapshot().step
    ctl.run_to_end()
    assert ctl.snapshot().ahead() is None


def test_the_equation_page_prepared_ahead_is_the_one_the_step_shows(qapp, caplog):
    ctl = Controller(Config())
    view = EquationView(ctl, ViewState())
    view.resize(500, 600)
    view.show()
    used = 0
    for _ in range(12):  # tokenize … into the cell and beyond
        idle(qapp, AHEAD_MS * 3)
        prepared = view._ahead
        ctl.step()
        snap = ctl.snapshot()
        b, j = view.selection()
        assert view.html() == render_html(build_page(snap, b, j), b, j)
        if prepared is not None and prepared[0] == view.html():
            assert view.page().document() is prepared[1]  # shown without parsing it again
            used += 1
        text = view.plain_text()
        view.page().setHtml(view.html())  # parsed afresh: the same text
        assert view.plain_text() == text
    assert used >= 8
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    view.close()


# ---------------------------------------------------------------- timeline and diagram pictures
def _key_at(view, snapshot):
    shown = view._snap
    view._snap = snapshot
    try:
        return view._picture_key()
    finally:
        view._snap = shown


def test_timeline_and_diagram_paint_the_next_step_ahead_and_it_is_the_picture_the_step_shows(qapp):
    from PySide6 import QtGui
    from gru_debugger.ui.views.diagram import DiagramView
    from gru_debugger.ui.views.timeline import TimelineView
    from gru_debugger.ui.widgets.picture_cache import AHEAD_MS as PICTURE_AHEAD_MS

    ctl = Controller(Config())
    timeline, diagram = TimelineView(ctl), DiagramView(ctl)
    timeline.resize(1400, 56)
    diagram.resize(240, 800)
    for view in (timeline, diagram):
        view.show()
    ctl.run_to("cell", 2)
    idle(qapp, PICTURE_AHEAD_MS * 3)
    following = ctl.snapshot().ahead()
    for view in (timeline, diagram):
        key = _key_at(view, following)
        assert key != view._picture_key() and key in view._pictures._pictures  # painted before the click
        ahead = QtGui.QImage(view._pictures._pictures[key])
        view._pictures.clear()
        ctl.step()
        assert view._picture_key() == key
        assert QtGui.QImage(view._pictures.prepare(key)) == ahead  # the very pixels the step paints itself
        ctl.step_back()
        view.close()


def test_picture_keys_tell_apart_what_the_drawing_shows(qapp):
    from gru_debugger.ui.views.diagram import DiagramView
    from gru_debugger.ui.views.timeline import TimelineView

    ctl = Controller(Config())
    timeline, diagram = TimelineView(ctl), DiagramView(ctl)
    for view in (timeline, diagram):
        view.resize(300, 300)
    keys = {view: set() for view in (timeline, diagram)}
    ctl.run_to_start()
    positions = 1
    while True:  # every step of the iteration looks different in both views
        for view in keys:
            keys[view].add(view._picture_key())
        if not ctl.can_step():
            break
        ctl.step()
        positions += 1
    assert len(keys[timeline]) == positions and len(keys[diagram]) == positions
    before = timeline._picture_key()
    ctl.toggle_breakpoint("loss")
    assert timeline._picture_key() != before  # a breakpoint's red dot
    before = diagram._picture_key()
    diagram._hover = "loss"
    assert diagram._picture_key() != before  # the hovered block
    ctl.set_learning_rate(2.5)
    assert diagram._picture_key() != before  # "SGD update (lr = 2.5)"


# ---------------------------------------------------------------- the next panel
@pytest.fixture
def window(shown_window):
    """A shown window whose hidden panels are built (as the idle pre-build does)."""
    def make(**config):
        ctl, win = shown_window(**config)
        win.prebuild_now()
        return ctl, win
    return make


def _repaints(panel):
    return {name: h.repaints for name, h in panel.heatmaps.items() if hasattr(h, "repaints")}


def test_the_panel_the_next_step_brings_up_is_filled_and_painted_ahead(window, qapp):
    from gru_debugger.ui.panels.panel_ahead import AHEAD_MS as PANEL_AHEAD_MS

    ctl, win = window()
    ctl.run_to("loss")
    idle(qapp, PANEL_AHEAD_MS * 4)
    panel = win.panels["gradients"]
    assert not panel.is_showing() and win.panel_ahead.painted[-1:] == ["gradients"]
    before = _repaints(panel)
    ctl.step()  # Zero grad brings the Gradients panel up
    idle(qapp, 10)
    assert panel.is_showing()
    assert _repaints(panel) == before  # every heatmap already showed these numbers
    for name, heatmap in panel.heatmaps.items():  # ... and they are the step's own
        spec = next(s for s in panel.specs if s.name == name)
        assert heatmap.shown.key() == spec.build(ctl.snapshot(), panel.view_state).key()


def test_a_panel_painted_ahead_shows_the_current_numbers_if_the_click_does_not_come(window, qapp):
    from gru_debugger.ui.panels.panel_ahead import AHEAD_MS as PANEL_AHEAD_MS

    ctl, win = window()
    ctl.run_to("update")
    idle(qapp, PANEL_AHEAD_MS * 4)
    assert win.panel_ahead.painted[-1:] == ["output"]  # Forward after: the second pass's logits
    ctl.set_learning_rate(1.0)  # an edit instead of the step
    win.show_panel("output")
    idle(qapp, 10)
    panel = win.panels["output"]
    for name, heatmap in panel.heatmaps.items():
        spec = next(s for s in panel.specs if s.name == name)
        assert heatmap.shown.key() == spec.build(ctl.snapshot(), panel.view_state).key()


def test_nothing_is_painted_ahead_when_steps_do_not_bring_panels_up(window, qapp):
    from gru_debugger.ui.panels.panel_ahead import AHEAD_MS as PANEL_AHEAD_MS

    ctl, win = window()
    win.view_state.follow = False
    ctl.run_to("loss")
    idle(qapp, PANEL_AHEAD_MS * 4)
    assert win.panel_ahead.painted == []


# ---------------------------------------------------------------- images and labels prepared ahead
def _pyqtgraph_pixels(image, levels, lut):
    """The colours pyqtgraph's own ImageItem gives ``image``, as 32-bit ARGB pixels."""
    import pyqtgraph as pg
    scratch = pg.ImageItem(axisOrder="row-major")
    scratch.setImage(image, levels=levels, autoLevels=False, lut=lut)
    scratch.render()
    return _pixels(scratch.qimage)


def _pixels(qimage):
    import numpy as np
    from PySide6 import QtGui
    argb = qimage.convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    return np.array([[argb.pixel(x, y) for x in range(argb.width())] for y in range(argb.height())], np.uint32)


def _fresh_qimage(item):
    return _pyqtgraph_pixels(item.image, item.levels, item.lut)


def test_a_prepared_image_is_the_one_pyqtgraph_colours_and_is_used_only_for_those_numbers(qapp):
    import numpy as np
    from gru_debugger.ui.widgets import theme
    from gru_debugger.ui.widgets.prepared_image import PreparedImage

    rng = np.random.default_rng(0)
    item = PreparedImage(axisOrder="row-major")
    item.setColorMap(theme.colormap(theme.SIGNED))
    data = rng.normal(size=(5, 7)).astype(np.float32)
    data.flags.writeable = False
    assert item.prepare(data, (-2.0, 2.0))
    item.setImage(data, levels=(-2.0, 2.0), autoLevels=False)
    item.render()
    assert item.prepared_used == 1 and (_pixels(item.qimage) == _fresh_qimage(item)).all()
    assert item.prepare(data, (-2.0, 2.0))
    item.setImage(data, levels=(-3.0, 3.0), autoLevels=False)  # other levels: coloured afresh
    item.render()
    assert item.prepared_used == 1 and (_pixels(item.qimage) == _fresh_qimage(item)).all()
    other = np.array(data)  # equal numbers elsewhere in memory: not taken for them
    assert item.prepare(data, (-2.0, 2.0))
    item.setImage(other, levels=(-2.0, 2.0), autoLevels=False)
    item.render()
    assert item.prepared_used == 1
    assert not item.prepare(np.array([[np.nan, 1.0]], np.float32), (-1.0, 1.0))  # NaN: left to the click


def test_images_are_coloured_exactly_as_pyqtgraph_colours_them(qapp):
    """The fast colouring (32-bit pixels from a table made once) against pyqtgraph's own path, on
    numbers at and beyond the levels, equal levels, infinities, float64, short and translucent tables."""
    import numpy as np
    from PySide6 import QtGui
    from gru_debugger.ui.widgets import theme
    from gru_debugger.ui.widgets.prepared_image import colour

    rng = np.random.default_rng(1)
    tables = [theme.colormap(kind).getLookupTable(nPts=256) for kind in (theme.SIGNED, theme.UNIT, theme.TANH)]
    tables.append(rng.integers(0, 256, size=(17, 3), dtype=np.uint8))
    translucent = rng.integers(0, 256, size=(256, 4), dtype=np.uint8)
    tables.append(translucent)
    checked = 0
    for lut in tables:
        for dtype in (np.float32, np.float64):
            for levels in ((-1.0, 1.0), (0.0, 1.0), (-3e-9, 3e-9), (0.25, 0.25)):
                low, high = levels
                data = rng.uniform(low - 0.5 * abs(high - low) - 1e-9, high + 0.5 * abs(high - low) + 1e-9,
                                   size=(6, 9)).astype(dtype)
                data[0, :5] = [low, high, np.inf, -np.inf, (low + high) / 2]
                mine = colour(data, levels, lut)
                assert mine is not None
                opaque = lut.shape[1] == 3 or (lut[:, 3] == 255).all()
                assert mine.format() == (QtGui.QImage.Format.Format_ARGB32_Premultiplied if opaque
                                         else QtGui.QImage.Format.Format_ARGB32)
                expected = _pyqtgraph_pixels(data, levels, lut)
                assert (_pixels(mine) == expected).all(), (lut.shape, dtype, levels)
                checked += 1
    assert checked == 5 * 2 * 4
    assert colour(np.array([[np.nan, 1.0]], np.float32), (0.0, 1.0), tables[0]) is None  # NaN: pyqtgraph's path


def test_prepared_cell_labels_are_the_labels_made_at_paint_time(qapp):
    import numpy as np
    from gru_debugger.ui.widgets import theme
    from gru_debugger.ui.widgets.cell_texts import CellTexts
    from gru_debugger.ui.widgets.heatmap import format_value

    rng = np.random.default_rng(1)
    data = rng.normal(size=(3, 4)).astype(np.float32)
    valid = np.ones((3, 4), bool)
    valid[0, 0] = False
    cmap = theme.colormap(theme.SIGNED)
    made = CellTexts()
    made.set_values(data, valid, (-3.0, 3.0), cmap, 0, format_value)
    prepared = CellTexts()
    prepared.prepare(data, valid, (-3.0, 3.0), cmap, 0, format_value)
    prepared.set_values(data, valid, (-3.0, 3.0), cmap, 0, format_value)
    assert prepared.labels() is prepared._items and prepared.labels() == made.labels()
    assert prepared._prepared is None  # handed over once
    prepared.prepare(data, valid, (-3.0, 3.0), cmap, 0, format_value)
    prepared.set_values(data, valid, (-3.0, 3.0), cmap, -1, format_value)  # another power of ten: made afresh
    assert prepared.labels() == CellTexts.labels(_set(CellTexts(), data, valid, cmap, -1))


def _set(texts, data, valid, cmap, exponent):
    from gru_debugger.ui.widgets.heatmap import format_value
    texts.set_values(data, valid, (-3.0, 3.0), cmap, exponent, format_value)
    return texts


@pytest.mark.parametrize("phase, panel_key", [("cell", "cell"), ("backward", "gradients")])
def test_the_panel_in_front_prepares_the_next_step_and_the_step_shows_the_same_pixels(window, qapp, phase,
                                                                                        panel_key):
    from gru_debugger.ui.panels.panel_ahead import AHEAD_MS as PANEL_AHEAD_MS
    from gru_debugger.ui.widgets.heatmap import Heatmap

    ctl, win = window()
    ctl.run_to(phase, 6 if phase == "cell" else 5)
    idle(qapp, PANEL_AHEAD_MS * 4)
    panel = win.panels[panel_key]
    assert panel.is_showing() and win.panel_ahead.prepared[-1:] == [panel_key]
    heatmaps = [h for h in panel.heatmaps.values() if isinstance(h, Heatmap)]
    used = sum(h.image.prepared_used for h in heatmaps)
    ctl.step()
    idle(qapp, 10)
    assert sum(h.image.prepared_used for h in heatmaps) - used >= 5
    for heatmap in heatmaps:
        if heatmap.image.isVisible() and heatmap.image.qimage is not None:
            assert (_pixels(heatmap.image.qimage) == _fresh_qimage(heatmap.image)).all(), heatmap.name


_POOL_PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.app import make_application
from gru_debugger.ui.main_window import MainWindow
app = make_application(dark=False)
win = MainWindow(Controller(Config(seed=0)), settings=None)
win.resize(1600, 1000)
win.show()
ctl = win.controller
for _ in range(12):
    ctl.step()
    for _ in range(3):
        app.processEvents()
win.grab()
names = [open(f"/proc/self/task/{t}/comm").read().strip() for t in os.listdir("/proc/self/task")]
print("POOLED", sum(name.startswith("Thread (pooled)") for name in names))
"""


@pytest.mark.parametrize("keep_pool, expected", [(None, 0), ("1", None)])
def test_the_window_paints_without_qts_pool_of_threads_unless_asked(keep_pool, expected):
    import os
    import subprocess
    import sys

    if not os.path.isdir("/proc/self/task"):
        pytest.skip("no /proc: the thread names cannot be read on this system")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_NO_GUI_THREADPOOL", "GRU_DEBUGGER_GUI_POOL")}
    if keep_pool is not None:
        env["GRU_DEBUGGER_GUI_POOL"] = keep_pool
    out = subprocess.run([sys.executable, "-c", _POOL_PROBE], env=env, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    pooled = int(out.split("POOLED")[-1])
    if expected is None:
        assert pooled >= 1  # Qt's own pool did the large fills (the probe reaches it)
    else:
        assert pooled == expected
