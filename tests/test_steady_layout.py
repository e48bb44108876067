"""Stepping through a phase does not re-lay out the panel: the plots keep their places (nothing
jumps, and the axes keep their cached drawings)."""
import pyqtgraph as pg
import pytest
from PySide6 import QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.ui.widgets.static_axis import set_title_keeping_room


def settle():
    for _ in range(4):
        QtWidgets.QApplication.processEvents()


def geometry(panel):
    return {name: h.plot.geometry().getRect() for name, h in panel.heatmaps.items()}


@pytest.mark.parametrize("example", ["notebook", "random"])
def test_gradients_panel_keeps_its_layout_from_zero_grad_through_backward(shown_window, example):
    """Once the panel has shown the iteration (the first time, titles may still widen)."""
    init = {} if example == "notebook" else {"init": {n: {"scheme": "default"} for n in Config().init}}
    ctl, win = shown_window(**init)
    ctl.run_to("zero_grad")
    settle()
    while ctl.can_step():  # the panel has shown every step once: titles and axes have their room
        ctl.step()
        settle()
    ctl.run_to("zero_grad")
    settle()
    panel = win.panels["gradients"]
    assert panel.is_showing()
    before = geometry(panel)
    for t in range(ctl.config.context_length - 1, -1, -1):
        ctl.step()
        settle()
        assert geometry(panel) == before, f"backward t={t}"


def test_a_title_that_fits_its_room_is_replaced_without_a_new_layout(qtbot):
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    plot = widget.addPlot()
    widget.resize(400, 300)
    widget.show()
    set_title_keeping_room(plot, "a long title with room to spare")
    settle()
    hint = plot.titleLabel.sizeHint(pg.QtCore.Qt.SizeHint.MinimumSize, pg.QtCore.QSizeF())
    set_title_keeping_room(plot, "short")
    settle()
    assert plot.titleLabel.text == "short"
    assert "short" in plot.titleLabel.item.toPlainText()
    assert plot.titleLabel.sizeHint(pg.QtCore.Qt.SizeHint.MinimumSize, pg.QtCore.QSizeF()) == hint
    centre = plot.titleLabel.mapRectToScene(plot.titleLabel.rect()).center().x()
    text = plot.titleLabel.item.mapRectToScene(plot.titleLabel.item.boundingRect()).center().x()
    assert abs(centre - text) < 2  # still centred
    set_title_keeping_room(plot, "a much much longer title than any before it, which needs more room")
    settle()
    assert plot.titleLabel.sizeHint(pg.QtCore.Qt.SizeHint.MinimumSize, pg.QtCore.QSizeF()).width() > hint.width()


def test_the_prebuild_lays_hidden_panels_out_at_the_front_panels_size(shown_window):
    ctl, win = shown_window()
    settle()
    win.prebuild_now()
    front = next(p for p in win.panels.values() if p.is_showing())
    hidden = win.panels["gradients"]
    assert all(p.built for p in win.panels.values()) and not hidden.is_showing()
    assert hidden.size() == front.size()
    assert all(h.plot.geometry().width() > 20 for h in hidden.heatmaps.values())  # laid out, not 0 x 0


def test_the_status_line_is_not_laid_out_again_while_stepping(shown_window):
    """Its labels keep the room their longest text needed: a step repaints the labels, not the bar."""
    from PySide6 import QtCore

    ctl, win = shown_window()
    for _ in range(2):  # the first pass lets every label find its room
        ctl.run_to_start()
        settle()
        while ctl.can_step():
            ctl.step()
            settle()

    class Requests(QtCore.QObject):
        count = 0

        def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
            if event.type() == QtCore.QEvent.Type.LayoutRequest:
                Requests.count += 1
            return False

    counter = Requests()
    win.status.installEventFilter(counter)
    ctl.run_to("cell", 0)
    settle()
    widths = win.status.where.width()
    for t in range(1, 8):
        ctl.step()
        settle()
        assert f"t={t}" in win.status.where.text().replace(" ", "")
        assert win.status.where.width() == widths
    assert Requests.count == 0
    win.status.removeEventFilter(counter)
