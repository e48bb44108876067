"""Connect the controller's (psygnal) signals to Qt widgets safely.

psygnal holds bound methods weakly, but a Qt widget's C++ side can be deleted
while its Python wrapper lives on; a signal delivered then would call into a
deleted object. ``subscribe`` drops the connection when the widget is destroyed.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable

from PySide6 import QtCore


def subscribe(signal: Any, owner: QtCore.QObject, slot: Callable[..., Any]) -> None:
    signal.connect(slot)
    owner.destroyed.connect(partial(_disconnect, signal, slot))


def _disconnect(signal: Any, slot: Callable[..., Any], *_: object) -> None:
    try:
        signal.disconnect(slot)
    except (ValueError, RuntimeError):  # already gone
        pass
