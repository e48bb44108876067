"""Tabs built after the window's first paint.

At start-up only the front tab of each tab group is on screen: the
Tokenizer tab sits behind Input, the Inputs and Initialisation editors
behind Hyperparameters. (The Training tab is built at once: its controls
set the window's minimum width.) The program's window
(``ui.app.run``) gives those docks an empty stand-in and builds their real
contents right after the first paint, so the window shows sooner; a tab
that comes to the front first (a click, View menu, a restored layout that
has it in front) is built at that moment, before it paints. Windows made
for tests, screenshots and the benchmark build everything at once.
"""
from __future__ import annotations

from typing import Callable

from PySide6 import QtCore, QtWidgets

from .editors.edit_support import ExplainToggle

DEFERRED = ("tokenizer", "inputs", "init")  # behind the front tab of their group at start


class DeferredDocks(QtCore.QObject):
    """The docks whose contents wait, and how to make them (the window's factory of each)."""

    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.explain: ExplainToggle | None = None  # the built panels' "Show explanations" follows this one's
        self._pending: dict[str, tuple[QtWidgets.QDockWidget, Callable[[], QtWidgets.QWidget]]] = {}
        window.installEventFilter(self)

    def stand_in(self) -> QtWidgets.QWidget:
        return QtWidgets.QWidget(self.window)

    def add(self, key: str, dock: QtWidgets.QDockWidget, make: Callable[[], QtWidgets.QWidget]) -> None:
        self._pending[key] = (dock, make)
        dock.visibilityChanged.connect(lambda visible, key=key: self.build(key) if visible else None)

    @property
    def pending(self) -> tuple[str, ...]:
        return tuple(self._pending)

    def build(self, key: str) -> None:
        """Put the real contents into dock ``key`` (nothing if they are there)."""
        entry = self._pending.pop(key, None)
        if entry is None:
            return
        dock, make = entry
        stand_in = dock.widget()
        widget = make()
        dock.setWidget(widget)
        if stand_in is not None:
            stand_in.deleteLater()
        if self.explain is not None:
            for toggle in widget.findChildren(ExplainToggle) + ([widget] if isinstance(widget, ExplainToggle) else []):
                self._follow(toggle)

    def build_all(self) -> None:
        for key in self.pending:
            self.build(key)

    def _follow(self, toggle: ExplainToggle) -> None:
        """One "Show explanations" state for all panels: the new toggle joins the window's group."""
        leader = self.explain
        toggle.setChecked(leader.isChecked())
        toggle.toggled.connect(leader.setChecked)   # the leader sets the others and saves the choice
        leader.toggled.connect(toggle.setChecked)

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt name)
        if obj is self.window and event.type() == QtCore.QEvent.Type.Paint:
            self.window.removeEventFilter(self)
            QtCore.QTimer.singleShot(0, self, self.build_all)  # after the first paint has finished
        return False
