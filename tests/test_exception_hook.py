"""The global exception hook shows a dialog (the app keeps running) whose
"Copy Details" button puts the traceback on the clipboard."""
import sys

import pytest
from PySide6 import QtWidgets

from gru_debugger.ui.app import install_excepthook, make_application


@pytest.fixture
def window():
    make_application()
    previous = sys.excepthook
    win = QtWidgets.QMainWindow()
    yield win
    sys.excepthook = previous
    for box in win.findChildren(QtWidgets.QMessageBox):
        box.close()
    win.close()


def raise_and_hook():
    try:
        raise ZeroDivisionError("a fake failure in a slot")
    except ZeroDivisionError:
        sys.excepthook(*sys.exc_info())


def test_copy_details_puts_the_traceback_on_the_clipboard(window, capsys):
    install_excepthook(window)
    QtWidgets.QApplication.clipboard().setText("something else")
    raise_and_hook()
    box = window.findChild(QtWidgets.QMessageBox, "exception-dialog")
    assert box is not None and box.isVisible()
    assert "ZeroDivisionError: a fake failure in a slot" in box.text()
    copy = next(b for b in box.buttons() if b.text() == "Copy Details")
    copy.click()
    QtWidgets.QApplication.processEvents()
    copied = QtWidgets.QApplication.clipboard().text()
    assert copied.startswith("Traceback (most recent call last):")
    assert "raise_and_hook" in copied and copied.rstrip().endswith("ZeroDivisionError: a fake failure in a slot")
    assert copied == box.detailedText()
    assert box.isVisible(), "copying must not close the dialog"
    assert "ZeroDivisionError" in capsys.readouterr().err  # also printed for the terminal


def test_a_failing_dialog_does_not_end_the_app(window, monkeypatch, capsys):
    from gru_debugger.ui import app

    def broken(*args):
        raise RuntimeError("no dialog today")

    monkeypatch.setattr(app, "show_exception", broken)
    install_excepthook(window)
    raise_and_hook()  # must not raise
    err = capsys.readouterr().err
    assert "a fake failure in a slot" in err and "no dialog today" in err
