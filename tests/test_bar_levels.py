"""A colour bar takes new levels exactly; its axis is drawn again only when a tick would move by
UNSEEN_MOVE_PX or more on screen."""
import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtGui

from gru_debugger.ui.widgets import theme
from gru_debugger.ui.widgets.heatmap import Heatmap, HeatmapData
from gru_debugger.ui.widgets.static_axis import UNSEEN_MOVE_PX


@pytest.fixture
def bar_heatmap(plot_canvas):
    widget = plot_canvas(420, 330)
    heatmap = Heatmap(widget.ci, theme.SIGNED, "w", 0, 0, parent=widget)
    return widget, heatmap


def show(widget, heatmap, peak: float) -> None:
    """Set a 4x4 matrix whose largest magnitude is ``peak`` (float32) and paint the window."""
    data = np.linspace(-0.3, 0.3, 16, dtype=np.float32).reshape(4, 4)
    data[0, 0] = np.float32(peak)
    heatmap.set_data(HeatmapData(data, "w"))
    QtCore.QCoreApplication.processEvents()
    widget.grab()


def draw_specs(axis: pg.AxisItem, levels: tuple[float, float]) -> tuple[list, list]:
    """What pyqtgraph would draw for ``levels``: tick lines (value axis position) and labels
    (position, text). The axis is left as it was."""
    kept = list(axis.range)
    axis.range = list(levels)
    picture = QtGui.QPicture()
    painter = QtGui.QPainter(picture)
    painter.setFont(axis.style["tickFont"])
    try:
        _, ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
        axis.range = kept
    return [start.y() for _, start, _ in ticks], [(rect.center().y(), text) for rect, _, text in texts]


def test_a_move_under_a_pixel_keeps_the_axis_picture_and_the_exact_levels(bar_heatmap):
    widget, heatmap = bar_heatmap
    show(widget, heatmap, 0.5)
    axis = heatmap.colorbar.axis
    picture = axis.picture
    assert picture is not None
    peak = float(np.nextafter(np.nextafter(np.float32(0.5), np.float32(1)), np.float32(1)))  # two float32 steps
    show(widget, heatmap, peak)
    assert axis.picture is picture                       # not regenerated
    assert heatmap.colorbar.levels() == (-peak, peak)    # the bar's levels are exact all the same
    assert list(axis.range) == [-0.5, 0.5]              # the range its picture was drawn for
    # The kept picture has every tick and label a redraw would have, each within the tolerance.
    lines_kept, labels_kept = draw_specs(axis, tuple(axis.range))
    lines_new, labels_new = draw_specs(axis, (-peak, peak))
    assert len(lines_kept) == len(lines_new) > 5
    assert [t for _, t in labels_kept] == [t for _, t in labels_new] != []
    assert np.abs(np.subtract(lines_kept, lines_new)).max() < UNSEEN_MOVE_PX
    assert max(abs(a - b) for (a, _), (b, _) in zip(labels_kept, labels_new)) < UNSEEN_MOVE_PX


def test_a_visible_move_redraws_the_axis(bar_heatmap):
    widget, heatmap = bar_heatmap
    show(widget, heatmap, 0.5)
    axis = heatmap.colorbar.axis
    picture = axis.picture
    show(widget, heatmap, 0.52)
    assert axis.picture is not picture
    assert heatmap.colorbar.levels() == (-float(np.float32(0.52)), float(np.float32(0.52)))


def test_tiny_moves_do_not_add_up_past_the_tolerance(bar_heatmap):
    """Each move is compared with the range the axis was drawn for, not with the last levels."""
    widget, heatmap = bar_heatmap
    show(widget, heatmap, 0.5)
    axis = heatmap.colorbar.axis
    length = axis.size().height()
    step = 0.6 * UNSEEN_MOVE_PX * 1.0 / length    # the peak moves 0.6 of the tolerance each time (span ~1)
    first = axis.picture
    pictures = []
    for k in range(1, 5):
        show(widget, heatmap, 0.5 + k * step)
        pictures.append(axis.picture)
    # 0.6: kept; 1.2 from the drawn range: redrawn; 0.6 from that one: kept; 1.2: redrawn
    assert pictures[0] is first
    assert pictures[1] is not first and pictures[2] is pictures[1]
    assert pictures[3] is not pictures[2]


def test_new_levels_before_the_first_paint_are_taken_as_usual(bar_heatmap):
    widget, heatmap = bar_heatmap
    data = np.array([[0.5, -0.25]], np.float32)
    heatmap.set_data(HeatmapData(data, "w"))
    heatmap.set_data(HeatmapData(data * np.float32(1 + 1e-7), "w"))
    QtCore.QCoreApplication.processEvents()
    widget.grab()
    peak = float(np.float32(0.5) * np.float32(1 + 1e-7))
    assert heatmap.colorbar.levels() == (-peak, peak)
    assert list(heatmap.colorbar.axis.range) == [-peak, peak]
