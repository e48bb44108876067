"""The heatmap widget: data, not-computed cells, NaN, hover, repaint economy."""
import gc

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6 import QtCore, QtWidgets

from gru_debugger.ui.widgets import theme
from gru_debugger.ui.widgets.heatmap import Heatmap, HeatmapData


@pytest.fixture
def canvas(plot_canvas):
    return plot_canvas(400, 300)


def test_shows_data_and_reports_exact_values(canvas):
    hm = Heatmap(canvas.ci, theme.SIGNED, "w", 0, 0, parent=canvas)
    data = np.array([[0.123456789, -2.0], [3.5, 0.0]], np.float32)
    assert hm.set_data(HeatmapData(data, "w", describe=lambda r, c: f"w[{r},{c}]"))
    assert np.array_equal(hm.image.image, data)
    assert hm.hover_text(0, 0) == f"w[0,0] = {float(data[0, 0]):.7g}"
    assert hm.image.levels.tolist() == [-3.5, 3.5]  # diverging, centred at zero


def test_same_data_is_not_redrawn(canvas):
    hm = Heatmap(canvas.ci, theme.SIGNED, "w", 0, 0, parent=canvas)
    data = np.ones((3, 3), np.float32)
    data.flags.writeable = False
    assert hm.set_data(HeatmapData(data, "w"))
    assert not hm.set_data(HeatmapData(data, "w"))
    assert hm.set_data(HeatmapData(data[1:], "w"))
    assert hm.repaints == 2


def test_not_computed_cells_and_bad_values_are_marked(canvas):
    hm = Heatmap(canvas.ci, theme.UNIT, "z", 0, 0, parent=canvas)
    data = np.array([[0.5, np.nan, np.inf]], np.float32)
    valid = np.array([[True, True, False]])
    hm.set_data(HeatmapData(data, "z", valid=valid))
    overlay = hm.overlay.image
    assert overlay.shape == (1, 3, 4)
    assert tuple(overlay[0, 1]) == theme.current().bad_value
    assert tuple(overlay[0, 2]) == theme.current().not_computed
    assert overlay[0, 0, 3] == 0
    assert "not computed" in hm.hover_text(0, 2)
    assert hm.image.levels.tolist() == [0.0, 1.0]  # gates have fixed levels


def test_missing_tensor_shows_a_note_not_zeros(canvas):
    hm = Heatmap(canvas.ci, theme.SIGNED, "g", 0, 0, parent=canvas)
    hm.set_data(HeatmapData(None, "grad", note="not computed yet (after backward)"))
    assert not hm.image.isVisible()
    assert "not computed yet" in hm.placeholder.toPlainText()


def test_double_click_reports_the_cell(canvas, qtbot):
    hm = Heatmap(canvas.ci, theme.SIGNED, "w", 0, 0, parent=canvas)
    hm.set_data(HeatmapData(np.zeros((4, 5), np.float32), "w"))
    qtbot.wait(50)
    centre = hm.plot.vb.mapViewToScene(QtCore.QPointF(3.5, 1.5))
    assert hm.cell_at(centre) == (1, 3)


def test_many_heatmaps_can_be_built_and_destroyed(qtbot):
    """Guards against the PySide6 6.12 + pyqtgraph abort after ~50 PlotItems."""
    for _ in range(4):
        widget = pg.GraphicsLayoutWidget()
        maps = [Heatmap(widget.ci, theme.SIGNED, f"m{i}", i // 5, i % 5, parent=widget) for i in range(25)]
        for hm in maps:
            hm.set_data(HeatmapData(np.random.rand(3, 4).astype(np.float32), "m"))
        widget.deleteLater()
        del maps, widget
        QtWidgets.QApplication.processEvents()
        gc.collect()
