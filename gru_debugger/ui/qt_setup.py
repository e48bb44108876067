"""The QApplication as every window of the program wants it: names, style, theme, and where
painting and garbage collection run. Used by the app (ui/app.py), the screenshots and the benchmark,
none of which needs the others to set Qt up."""
from __future__ import annotations

import os
import sys

from PySide6 import QtWidgets

from .. import startup_gc
from .widgets import theme

ORGANIZATION = "gru-debugger"
APPLICATION = "GRU Debugger"


GUI_POOL_ENV = "GRU_DEBUGGER_GUI_POOL"  # "1": keep Qt's pool of painting threads (see below)


def fills_on_the_gui_thread() -> None:
    """Qt splits a large fill or image scaling over a pool of threads, waking them and waiting for
    them every time. The window's images are small: on this project's 2-core machine the waking
    and waiting cost more than the split saves (a notebook-sized step: 11.3-11.7 ms with the pool,
    10.4-10.7 ms without). Takes effect when Qt first paints; ``GRU_DEBUGGER_GUI_POOL=1`` keeps the pool."""
    if os.environ.get(GUI_POOL_ENV) != "1":
        os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def collect_on_the_gui_thread(app: QtWidgets.QApplication) -> None:
    """Cyclic garbage is collected by a timer on the GUI thread, never by a worker thread.

    Python's collector runs in whichever thread allocates past its threshold: a worker (a
    backward job, the round-off check) could then delete Qt objects of a closed window, whose
    disconnection takes Qt's lock and waits for the interpreter lock that the GUI thread holds
    while it waits for Qt's lock (seen as a hang in the test suite). pyqtgraph's
    ``GarbageCollector`` turns automatic collection off and collects, by the same thresholds,
    once a second from a timer of the GUI thread."""
    if getattr(app, "_gui_thread_collector", None) is not None:
        return
    from pyqtgraph.util.garbage_collector import GarbageCollector

    startup_gc.collect_from_gui_thread()
    app._gui_thread_collector = GarbageCollector(interval=1.0)  # type: ignore[attr-defined]


def make_application(argv: list[str] | None = None, dark: bool | None = None) -> QtWidgets.QApplication:
    fills_on_the_gui_thread()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(argv or sys.argv[:1])
    collect_on_the_gui_thread(app)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setStyle("Fusion")
    if dark is not None:
        app.setPalette(theme.dark_palette() if dark else app.style().standardPalette())
    theme.apply(dark)
    return app
