"""The Debug menu: actions with the shortcuts debugger users already know."""
from __future__ import annotations

from functools import partial
from typing import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.model.cells import get_cell
from ...core.control.controller import Controller, ControllerError
from ...core.analysis.snapshot import Snapshot
from ..widgets.subscribe import subscribe

SP = QtWidgets.QStyle.StandardPixmap

# name, text, shortcut, icon, tip
ACTIONS: tuple[tuple[str, str, str, SP, str], ...] = (
    ("continue", "&Continue", "F5", SP.SP_MediaPlay, "Run to the next breakpoint or the end of the iteration"),
    ("step", "&Step", "F10", SP.SP_ArrowRight, "One timestep inside the {cell} and backward, one phase elsewhere"),
    ("step_into", "Step &Into", "F11", SP.SP_ArrowDown, "Into one {cell} timestep: {substeps} one by one"),
    ("step_out", "Step &Out", "Shift+F11", SP.SP_ArrowUp, "Finish the current phase"),
    ("step_back", "Step &Back", "Alt+Left", SP.SP_ArrowLeft, "Return exactly to where you were before"),
    ("run_to_end", "Run to &End", "Ctrl+F5", SP.SP_MediaSeekForward, "Run the whole iteration"),
    ("next_iteration", "&Next Iteration", "Ctrl+F10", SP.SP_MediaSkipForward,
     "Next batch, through the weights this update produced"),
    ("reset", "&Reset", "Ctrl+Shift+F5", SP.SP_BrowserReload,
     "Back to iteration 0 with freshly initialised weights (undoable)"),
    ("breakpoint", "Toggle &Breakpoint", "F9", SP.SP_DialogNoButton, "Toggle a breakpoint on the current phase"),
)


def tinted_icon(widget: QtWidgets.QWidget, which: SP, size: int = 32) -> QtGui.QIcon:
    """A standard icon drawn in the palette's text colour, so that it reads on
    light and dark schemes alike (the style's own arrows are always dark)."""
    source = widget.style().standardIcon(which).pixmap(size, size)
    out = QtGui.QPixmap(source.size())
    out.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(out)
    painter.drawPixmap(0, 0, source)
    painter.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(out.rect(), widget.palette().color(QtGui.QPalette.ColorRole.WindowText))
    painter.end()
    icon = QtGui.QIcon(out)
    disabled = widget.palette().color(QtGui.QPalette.ColorGroup.Disabled, QtGui.QPalette.ColorRole.WindowText)
    faded = QtGui.QPixmap(out.size())
    faded.fill(QtCore.Qt.GlobalColor.transparent)
    painter = QtGui.QPainter(faded)
    painter.drawPixmap(0, 0, out)
    painter.setCompositionMode(QtGui.QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(faded.rect(), disabled)
    painter.end()
    icon.addPixmap(faded, QtGui.QIcon.Mode.Disabled)
    return icon


def action_tip(tip: str, cell: str) -> str:
    """A tip with the chosen cell's title and Step Into stops filled in: the tips of an LSTM
    session name the LSTM and its gates, never the GRU's."""
    c = get_cell(cell)
    return tip.format(cell=c.title, substeps=", ".join(c.substeps))


# Actions whose controller method has another name than the action.
CONTROLLER_METHOD = {"continue": "continue_"}


class DebugActions(QtCore.QObject):
    """Owns the QActions and keeps their enabled state in step with the controller."""

    error = QtCore.Signal(str)

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.controller = controller
        self.actions: dict[str, QtGui.QAction] = {}
        self._tips_cell: str | None = None
        for name, text, shortcut, icon, tip in ACTIONS:
            action = QtGui.QAction(tinted_icon(parent, icon), text, parent)
            action.setObjectName(f"action-{name}")
            action.setShortcut(QtGui.QKeySequence(shortcut))
            action.setShortcutContext(QtCore.Qt.ShortcutContext.ApplicationShortcut)
            if name == "breakpoint":
                action.triggered.connect(self._do_breakpoint)
            else:
                action.triggered.connect(partial(self._run_named, CONTROLLER_METHOD.get(name, name)))
            self.actions[name] = action
        subscribe(controller.changed, self, self._on_changed)
        subscribe(controller.history_changed, self, self._refresh)
        self._set_tips(controller.config.cell)
        self._refresh()

    def __getitem__(self, name: str) -> QtGui.QAction:
        return self.actions[name]

    def _run(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except ControllerError as exc:
            self.error.emit(str(exc))

    def _run_named(self, method: str) -> None:
        """An action that calls the controller method of the same purpose."""
        self._run(getattr(self.controller, method))

    def _do_breakpoint(self) -> None:
        snap = self.controller.snapshot()
        step = snap.step or snap.next_step
        if step is not None:
            self._run(lambda: self.controller.toggle_breakpoint(step.phase))

    def _set_tips(self, cell: str) -> None:
        """Tool and status tips for ``cell`` (again only when the cell changes)."""
        if cell == self._tips_cell:
            return
        self._tips_cell = cell
        for name, text, shortcut, _, tip in ACTIONS:
            filled = action_tip(tip, cell)
            self.actions[name].setToolTip(f"{text.replace('&', '')} ({shortcut}): {filled}")
            self.actions[name].setStatusTip(filled)

    def _on_changed(self, snapshot: Snapshot) -> None:
        self._set_tips(snapshot.config.cell)
        self._refresh()

    def _refresh(self) -> None:
        ctl = self.controller
        forward = ctl.can_step()
        for name in ("continue", "step", "step_into", "step_out", "run_to_end"):
            self.actions[name].setEnabled(forward)
        self.actions["step_back"].setEnabled(ctl.can_step_back())
