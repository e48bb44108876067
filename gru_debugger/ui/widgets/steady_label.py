"""Labels whose room only grows, so a new text repaints the label and nothing else."""
from __future__ import annotations

from PySide6 import QtWidgets


def set_steady_text(label: QtWidgets.QLabel, text: str) -> None:
    """``label.setText``, but the label keeps the largest size its texts have needed.

    A label of fixed size does not ask its layout again when its text changes (Qt lays out
    a widget's parent only when its minimum and maximum sizes differ), so a text that fits
    repaints the label alone instead of laying out and repainting the whole bar or header,
    and the labels next to it do not shift left and right as the texts change length.
    """
    if label.text() == text:
        return
    label.setText(text)
    hint = label.sizeHint()
    room = getattr(label, "_steady_room", (0, 0))
    grown = (max(room[0], hint.width()), max(room[1], hint.height()))
    if grown != room:
        label._steady_room = grown  # type: ignore[attr-defined]
        label.setFixedSize(*grown)
