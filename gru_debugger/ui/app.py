"""Composition root: the controller and the main window on the QApplication (ui/qt_setup.py)."""
from __future__ import annotations

import os
import sys
import traceback
from types import TracebackType

from PySide6 import QtCore, QtWidgets

from ..core.storage.config_load import load_config
from .. import startup_gc
from ..core.control.controller import Controller
from .qt_setup import APPLICATION, ORGANIZATION, make_application
from .widgets import theme


def _live_window(window: QtWidgets.QWidget) -> QtWidgets.QWidget | None:
    """``window`` if it still exists, else the window that replaced it (File → Open makes a new one)."""
    import shiboken6
    if shiboken6.isValid(window) and (window.isVisible() or not window.isHidden() or
                                      not window.testAttribute(QtCore.Qt.WidgetAttribute.WA_WState_ExplicitShowHide)):
        return window  # showing, or never shown yet (not one that was closed)
    active = QtWidgets.QApplication.activeWindow()
    if active is not None:
        return active
    shown = [w for w in QtWidgets.QApplication.topLevelWidgets() if isinstance(w, QtWidgets.QMainWindow)
             and w.isVisible()]
    return shown[-1] if shown else None


def install_excepthook(window: QtWidgets.QWidget) -> None:
    """An exception in a slot is shown to the user; the app keeps running."""
    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        print(text, file=sys.stderr)
        try:
            show_exception(_live_window(window), kind, value, text)
        except Exception:  # the hook itself must never end the app
            traceback.print_exc()
    sys.excepthook = hook


def show_exception(window: QtWidgets.QWidget | None, kind: type[BaseException], value: BaseException,
                   details: str) -> QtWidgets.QMessageBox:
    """The error dialog: a short message, the traceback under "Show Details…"
    and a "Copy Details" button that puts the traceback on the clipboard
    (for a bug report) without closing the dialog."""
    box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, "Something went wrong",
                                f"{kind.__name__}: {value}\n\nThe state is unchanged; you can keep working.",
                                QtWidgets.QMessageBox.StandardButton.Close, parent=window)
    box.setDetailedText(details)
    copy = box.addButton("Copy Details", QtWidgets.QMessageBox.ButtonRole.ActionRole)
    copy.clicked.disconnect()  # a message box closes on any button; this one only copies
    copy.clicked.connect(lambda: QtWidgets.QApplication.clipboard().setText(details))
    box.setObjectName("exception-dialog")
    box.open()
    return box


def no_display_reason() -> str | None:
    """Why a window cannot open here (Linux without X11 or Wayland), or None."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return ("no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); run it on a "
            "desktop, or make images without a display: python main.py screenshots --out DIR")


def run(config_path: str | None = None, weights: str | None = None, session: str | None = None) -> int:
    """Open the window on a config file, or on a saved session (``session``)."""
    from .main_window import MainWindow
    startup_gc.resume()  # every module the window needs is loaded (see startup_gc.py)
    controller = Controller.load(session) if session is not None else Controller(load_config(config_path))
    if weights is not None:  # refused before the window opens (ControllerError: an error line from the CLI)
        controller.import_weights(weights)
    app = make_application()
    settings = QtCore.QSettings(ORGANIZATION, APPLICATION)
    from .theme_menu import saved_mode
    if saved_mode(settings) != "system":  # View → Theme, as chosen in an earlier run
        theme.set_mode(saved_mode(settings), app)
    window = MainWindow(controller, settings, defer_hidden=True)
    install_excepthook(window)
    if session is not None:
        window.session.set_file(session)
    if os.environ.get(BENCH_STARTUP_ENV):  # the benchmark's start-up run: no prompts, no autosave
        _report_first_paint(window)
        window.show()
        return app.exec()
    window.session.protect()  # asks before losing changes; autosaves them
    getattr(window, "show_fitted", window.show)()  # maximised on a screen smaller than the window
    prebuild = getattr(window, "start_prebuild", None)  # hidden panels build their plots in idle time
    if prebuild is not None:
        prebuild()
    from .session.document import offer_recovery
    QtCore.QTimer.singleShot(0, lambda: offer_recovery(window))  # autosaves a crashed run left behind
    return app.exec()


BENCH_STARTUP_ENV = "GRU_DEBUGGER_BENCH_STARTUP"  # see gru_debugger.devtools.bench.startup_times


def _report_first_paint(window: QtWidgets.QWidget) -> None:
    """For the benchmark: print the time once the window has first been painted, then quit."""
    import time

    class FirstPaint(QtCore.QObject):
        def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
            if event.type() == QtCore.QEvent.Type.Paint:
                window.removeEventFilter(self)
                # the children paint in the same pass: report after it
                QtCore.QTimer.singleShot(0, report)
            return False

    def report() -> None:
        print(f"first-paint {time.time()!r}", flush=True)
        os._exit(0)  # no teardown, and the layout is not saved

    window._first_paint_filter = FirstPaint(window)  # type: ignore[attr-defined]
    window.installEventFilter(window._first_paint_filter)  # type: ignore[attr-defined]
