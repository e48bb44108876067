"""A number box that shows every value exactly and never rounds what is typed.

QDoubleSpinBox rounds to a fixed number of decimals and clamps to a range: a
learning rate of 1e-7 or 12345 would silently become another number. This box
shows the shortest text that reads back as the same float, accepts
scientific notation, and keeps the range the configuration accepts.
"""
from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

MAX_DECIMALS = 323  # Qt's limit: values are not rounded to fewer decimals


def exact_text(value: float) -> str:
    """The shortest text that reads back as ``value`` (``repr``), without a trailing '.0'."""
    if value == 0:
        return "0"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class ExactSpinBox(QtWidgets.QDoubleSpinBox):
    def __init__(self, parent: QtWidgets.QWidget | None = None, low: float = -math.inf, high: float = math.inf):
        super().__init__(parent)
        self.setDecimals(MAX_DECIMALS)
        self.setRange(low, high)

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt name)
        return exact_text(value)

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt name)
        try:
            return float(text.strip().replace("−", "-"))
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):  # noqa: D401 (Qt name)
        State = QtGui.QValidator.State
        stripped = text.strip().replace("−", "-")
        try:
            number = float(stripped)
        except ValueError:
            partial = stripped.lower()
            if partial in ("", "-", "+", ".", "-.", "+.") or partial.endswith(("e", "e-", "e+")):
                return State.Intermediate, text, pos
            return State.Invalid, text, pos
        if stripped.lower() in ("nan", "inf", "-inf", "+inf", "infinity") or not math.isfinite(number):
            return State.Invalid, text, pos
        if not self.minimum() <= number <= self.maximum():
            return State.Intermediate, text, pos
        return State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        return text

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt name)
        """Arrow steps land on round numbers (0.1 + 0.05 is 0.15, not 0.15000000000000002)."""
        value = round(self.value() + steps * self.singleStep(), 12)
        self.setValue(min(max(value, self.minimum()), self.maximum()))


UNDO_KEYS = (QtGui.QKeySequence.StandardKey.Undo, QtGui.QKeySequence.StandardKey.Redo)
REDO_EXTRA = ("Ctrl+Shift+Z", "Ctrl+Y")


def _is_undo_redo(event: QtGui.QKeyEvent) -> bool:
    combo = QtGui.QKeySequence(event.keyCombination())
    if any(event.matches(key) for key in UNDO_KEYS):
        return True
    return any(combo.matches(QtGui.QKeySequence(text)) == QtGui.QKeySequence.SequenceMatch.ExactMatch
               for text in REDO_EXTRA)


class UndoForwarder(QtCore.QObject):
    """Lets the window's Undo and Redo work while a number box has the focus.

    A spin box takes Ctrl+Z for its own text; this filter first commits what was
    typed (one undo step, as Enter would) and then leaves the keys to the
    window's Edit → Undo / Redo."""

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QtCore.QEvent.Type.ShortcutOverride and _is_undo_redo(event):
            box = watched if isinstance(watched, QtWidgets.QAbstractSpinBox) else watched.parent()
            if isinstance(box, QtWidgets.QAbstractSpinBox):
                box.interpretText()
            event.ignore()
            return True
        return False


def forward_undo(*boxes: QtWidgets.QAbstractSpinBox) -> None:
    for box in boxes:
        forwarder = UndoForwarder(box)
        box.installEventFilter(forwarder)
        line = box.findChild(QtWidgets.QLineEdit)
        if line is not None:
            line.installEventFilter(forwarder)
