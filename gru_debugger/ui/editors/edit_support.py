"""Shared by the editing panels: an inline error line that runs edits."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from PySide6 import QtCore, QtWidgets

from ...core.control.controller import ControllerError

SETTINGS_EXPLANATIONS = "editors/explanations"  # the editing panels show their explanations
ERROR_STYLE = "color: #d0342c;"
HINT_STYLE = "color: palette(placeholder-text);"

log = logging.getLogger(__name__)


@contextmanager
def busy() -> Iterator[None]:
    """A wait cursor while an edit recomputes (large models take a moment)."""
    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()


class ErrorLine(QtWidgets.QLabel):
    """Red text under a panel's controls; empty (hidden) when all is well."""

    def __init__(self, parent: QtWidgets.QWidget):
        super().__init__(parent)
        self.setObjectName("edit-error")
        self.setWordWrap(True)
        self.setStyleSheet(ERROR_STYLE)
        self.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))

    def attempt(self, action: Callable[..., None], *args: Any, **kwargs: Any) -> bool:
        """Run one controller edit; show its refusal here instead of raising."""
        try:
            with busy():
                action(*args, **kwargs)
        except ControllerError as exc:
            self.show_message(str(exc))
            return False
        except Exception as exc:  # a slot must not raise
            log.exception("edit failed")
            self.show_message(f"the edit failed: {exc}")
            return False
        self.show_message("")
        return True


class ExplainToggle(QtWidgets.QCheckBox):
    """"Show explanations" at the top of an editing panel: its static help texts are collapsed by
    default so the editing column stays short. The window keeps every panel's toggle in step."""

    def __init__(self, parent: QtWidgets.QWidget):
        super().__init__("Show explanations", parent)
        self.setObjectName("explain-toggle")
        self.setToolTip("Show or hide the help texts of the editing panels")
        self.labels: list[QtWidgets.QWidget] = []
        self.toggled.connect(self._apply)

    def explain(self, text: str, parent: QtWidgets.QWidget) -> QtWidgets.QLabel:
        """A grey help text that shows only while the toggle is on."""
        label = QtWidgets.QLabel(text, parent)
        label.setWordWrap(True)
        label.setStyleSheet(HINT_STYLE)
        self.add(label)
        return label

    def add(self, label: QtWidgets.QWidget) -> None:
        self.labels.append(label)
        label.setVisible(self.isChecked())

    def _apply(self, on: bool) -> None:
        for label in self.labels:
            label.setVisible(on)


def link_explanations(toggles: list[ExplainToggle], settings: QtCore.QSettings | None) -> None:
    """One state for all ``toggles`` (collapsed unless the settings say otherwise), saved in ``settings``."""
    on = settings is not None and settings.value(SETTINGS_EXPLANATIONS, False, type=bool)

    def set_all(checked: bool) -> None:
        for toggle in toggles:
            if toggle.isChecked() != checked:
                toggle.setChecked(checked)
        if settings is not None:
            settings.setValue(SETTINGS_EXPLANATIONS, checked)

    for toggle in toggles:
        toggle.setChecked(on)
        toggle._apply(on)
        toggle.toggled.connect(set_all)


def scrolling_body(panel: QtWidgets.QWidget) -> tuple[QtWidgets.QWidget, QtWidgets.QVBoxLayout]:
    """Give ``panel`` a frameless scroll area and return its body and the body's layout:
    an editing panel scrolls when its dock is short instead of squashing its boxes."""
    outer = QtWidgets.QVBoxLayout(panel)
    outer.setContentsMargins(0, 0, 0, 0)
    scroll = QtWidgets.QScrollArea(panel)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    outer.addWidget(scroll)
    body = QtWidgets.QWidget(scroll)
    scroll.setWidget(body)
    layout = QtWidgets.QVBoxLayout(body)
    layout.setContentsMargins(6, 6, 6, 6)
    layout.setSpacing(8)
    return body, layout
