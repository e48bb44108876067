"""Tokenize a new corpus before the controller asks for it, with progress and Cancel.

Learning thousands of merges on a book takes seconds. The tokenizer reports
its progress through a callback; here the callback moves a progress dialog,
keeps the window painting, and cancels by raising ``TokenizeCancelled``.
A finished result is cached by the corpus and settings, so the controller's
edit that follows finds it ready; a cancelled one leaves nothing behind and
the model unchanged.
"""
from __future__ import annotations

from typing import Any

from PySide6 import QtCore, QtWidgets

from ...core.base.config import Config, ConfigError
from ...core.text.data import is_tokenized, tokenize
from ...core.text.tokenizer import TokenizeCancelled

SHOW_AFTER_MS = 500    # a dialog only for work that takes longer than this


def tokenize_first(parent: QtWidgets.QWidget, config: Config, **changes: Any) -> bool:
    """Tokenize ``config`` with ``changes`` applied; False if the person cancelled.

    Settings the config refuses are left for the controller to report."""
    try:
        cfg = config.with_changes(**changes)
    except ConfigError:
        return True
    if is_tokenized(cfg):
        return True
    dialog = QtWidgets.QProgressDialog("Learning the byte-pair merges and encoding the corpus…", "Cancel",
                                       0, 1000, parent)
    dialog.setObjectName("tokenize-progress")
    dialog.setWindowTitle("Tokenizing")
    dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(SHOW_AFTER_MS)
    dialog.setAutoClose(False)

    def progress(done: int, total: int) -> None:
        dialog.setValue(int(1000 * done / max(total, 1)))
        QtWidgets.QApplication.processEvents()
        if dialog.wasCanceled():
            raise TokenizeCancelled()

    try:
        tokenize(cfg, progress)
    except TokenizeCancelled:
        return False
    finally:
        dialog.reset()
        dialog.deleteLater()
    return True
