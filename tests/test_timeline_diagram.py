"""The timeline strip and the network diagram: hit testing, clicks, repaints."""
import pytest
import shiboken6
from PySide6 import QtCore, QtGui

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.phases import PHASES, Step
from gru_debugger.ui.widgets import theme
from gru_debugger.ui.registry import diagram_targets
from gru_debugger.ui.views.diagram import BLOCKS, DiagramView
from gru_debugger.ui.views.timeline import CLICK_HELP, TimelineView

LEFT, RIGHT = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.MouseButton.RightButton


@pytest.fixture
def ctl():
    return Controller(Config(seed=0))


@pytest.fixture
def timeline(qtbot, ctl):
    widget = TimelineView(ctl)
    qtbot.addWidget(widget)
    widget.resize(1200, widget.sizeHint().height())
    widget.show()
    return widget


@pytest.fixture
def diagram(qtbot, ctl):
    widget = DiagramView(ctl, targets=diagram_targets())
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    widget.show()
    return widget


def find_point(widget, target, gutter=False):
    """A point near the middle of where ``hit_test`` gives ``target``."""
    points = (QtCore.QPoint(x, y) for y in range(0, widget.height(), 4) for x in range(0, widget.width(), 3))
    found = [p for p in points if widget.hit_test(p) == target and widget.in_gutter(p) == gutter]
    assert found, f"nothing on screen hits {target}"
    return found[len(found) // 2]


def image_bytes(widget):
    image = widget.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_ARGB32)
    return bytes(image.constBits())


# ---------------------------------------------------------------- timeline
def test_every_phase_and_timestep_can_be_hit(timeline, ctl):
    T = ctl.config.context_length
    for phase in PHASES:
        assert timeline.hit_test(timeline.chip_rect(phase).center())[0] == phase
    for phase in ("cell", "backward"):
        for t in range(T):
            assert timeline.hit_test(timeline.cell_rect(phase, t).center()) == (phase, t)
    # backward's cells run T-1 down to 0, left to right
    assert timeline.cell_rect("backward", T - 1).left() < timeline.cell_rect("backward", 0).left()
    assert timeline.hit_test(QtCore.QPoint(-5, 5)) is None


def test_click_on_chip_runs_to_phase(qtbot, timeline, ctl):
    qtbot.mouseClick(timeline, LEFT, pos=find_point(timeline, ("loss", None)))
    assert ctl.snapshot().step == Step("loss")
    qtbot.mouseClick(timeline, LEFT, pos=find_point(timeline, ("embed", None)))  # run to goes back too
    assert ctl.snapshot().step == Step("embed")


def test_click_on_timestep_cell_runs_to_that_t(qtbot, timeline, ctl):
    qtbot.mouseClick(timeline, LEFT, pos=find_point(timeline, ("cell", 3)))
    assert ctl.snapshot().step == Step("cell", 3, "h")
    qtbot.mouseClick(timeline, LEFT, pos=find_point(timeline, ("backward", 5)))
    assert ctl.snapshot().step == Step("backward", 5)


def test_right_click_and_gutter_click_toggle_breakpoints(qtbot, timeline, ctl):
    seen = []
    ctl.breakpoints_changed.connect(seen.append)
    qtbot.mouseClick(timeline, RIGHT, pos=find_point(timeline, ("update", None)))
    assert ctl.breakpoints == {"update"}
    qtbot.mouseClick(timeline, RIGHT, pos=find_point(timeline, ("cell", 2)))
    assert ctl.breakpoints == {"update", "cell"}
    gutter = find_point(timeline, ("update", None), gutter=True)
    qtbot.mouseClick(timeline, LEFT, pos=gutter)
    assert ctl.breakpoints == {"cell"}
    assert ctl.cursor == -1  # toggling never moves the cursor
    assert len(seen) == 3
    timeline.grab()  # paints the breakpoint dot


def test_refused_request_becomes_a_message(qtbot, timeline, ctl, monkeypatch):
    def refuse(phase, t=None):
        raise ControllerError("no can do")

    monkeypatch.setattr(ctl, "run_to", refuse)
    with qtbot.waitSignal(timeline.message, timeout=1000) as blocker:
        qtbot.mouseClick(timeline, LEFT, pos=find_point(timeline, ("head", None)))
    assert blocker.args == ["no can do"]


def test_tooltip_names_phase_and_mouse_actions(timeline, ctl):
    ctl.run_to("cell", 1)
    ctl.step_into()
    text = timeline.tooltip_text(timeline.cell_rect("cell", 2).center())
    assert "GRU t = 2" in text and "x2g" in text and CLICK_HELP in text
    assert "Loss" in timeline.tooltip_text(timeline.chip_rect("loss").center())
    assert timeline.tooltip_text(QtCore.QPoint(-5, -5)) == ""


def test_timeline_repaints_and_changes_with_cursor(timeline, ctl):
    before = image_bytes(timeline)
    ctl.run_to("cell", 3)
    ctl.step_into()
    ctl.step_into()
    during = image_bytes(timeline)
    ctl.run_to("backward", 5)
    after = image_bytes(timeline)
    assert len({before, during, after}) == 3


def test_timeline_follows_a_new_context_length(timeline, ctl):
    ctl.set_batch(2, 4)
    assert timeline.hit_test(timeline.cell_rect("cell", 3).center()) == ("cell", 3)
    with pytest.raises(StopIteration):
        timeline.cell_rect("cell", 4)
    timeline.grab()


def test_narrow_timeline_still_hits_everything(timeline):
    for width in (320, 700):
        timeline.resize(width, 56)
        for phase in PHASES:
            assert timeline.hit_test(timeline.chip_rect(phase).center())[0] == phase
        timeline.grab()
    assert timeline.minimumSizeHint().height() <= timeline.sizeHint().height()


# ---------------------------------------------------------------- diagram
def test_block_at_maps_blocks_to_panels(diagram):
    expected = {"tokens": "tokenizer", "embed": "input", "dropout_in": "input", "cell": "cell", "stack": "cell",
                "dropout_out": "output", "head": "output", "loss": "output"}
    for name, _ in BLOCKS:
        assert diagram.block_at(diagram.block_rect(name).center()) == expected[name]
    assert diagram.block_at(diagram.block_rect("update").center()) == "update"
    assert diagram.block_at(diagram.block_rect("gradients").center()) == "gradients"
    assert diagram.block_at(QtCore.QPoint(1, 1)) is None


def test_click_on_gru_block_emits_gru(qtbot, diagram):
    point = diagram.block_rect("cell").center()
    assert diagram.block_at(point) == "cell"
    with qtbot.waitSignal(diagram.block_clicked, timeout=1000) as blocker:
        qtbot.mouseClick(diagram, LEFT, pos=point)
    assert blocker.args == ["cell"]


def test_diagram_repaints_and_changes_with_cursor(diagram, ctl):
    images = [image_bytes(diagram)]
    for move in (lambda: ctl.run_to("cell", 2), ctl.step_into, lambda: ctl.run_to("backward", 5),
                 lambda: ctl.run_to("backward", 0), lambda: ctl.run_to("update"), ctl.run_to_end):
        move()
        images.append(image_bytes(diagram))
    assert len(set(images)) == len(images)


def test_diagram_shows_loss_and_learning_rate(diagram, ctl):
    assert "lr = 5" in diagram._update_text()
    ctl.run_to("loss")
    assert diagram._loss_text() == f"loss = {ctl.snapshot().loss:.4f}"
    ctl.run_to_end()
    head, value = diagram._forward_texts()
    assert value.endswith(f"{float(ctl.snapshot().get('loss_after')):.4f}")


def test_both_widgets_paint_in_dark_and_narrow(qtbot, timeline, diagram, ctl):
    ctl.run_to("backward", 3)
    try:
        theme.apply(dark=True)
        dark = image_bytes(diagram), image_bytes(timeline)
    finally:
        theme.apply(dark=False)
    assert dark != (image_bytes(diagram), image_bytes(timeline))
    diagram.resize(220, 480)
    assert diagram.block_at(diagram.block_rect("cell").center()) == "cell"
    diagram.grab()


def test_deleted_widgets_ignore_the_controller(qtbot, ctl):
    timeline, diagram = TimelineView(ctl), DiagramView(ctl, targets=diagram_targets())
    shiboken6.delete(timeline)
    shiboken6.delete(diagram)
    ctl.step()
    ctl.toggle_breakpoint("loss")
