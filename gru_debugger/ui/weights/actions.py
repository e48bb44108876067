"""Two File-menu actions around ``Controller.import_weights`` / ``export_weights``.

The controller does the work and refuses bad files with a message; here a
refusal is shown in a (non-blocking) message box and the status bar, and the
save dialog asks before replacing an existing file (the API itself replaces
atomically when told to).
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.control.controller import Controller, ControllerError

IMPORT_FILTER = "Weights (*.safetensors *.pt *.pth *.bin);;All files (*)"
# Save-dialog filter -> layout of the file written.
EXPORT_FILTERS = {"Plain PyTorch model names (*.safetensors)": "torch",
                  "This program's names (*.safetensors)": "project"}


def ask_import_path(parent: QtWidgets.QWidget, folder: str = "") -> str:
    """An open dialog for a weights file; '' if cancelled."""
    path, _ = QtWidgets.QFileDialog.getOpenFileName(parent, "Import Weights", folder, IMPORT_FILTER)
    return path


def ask_export_path(parent: QtWidgets.QWidget, folder: str = "") -> tuple[str, str]:
    """A save dialog; returns (path ending in .safetensors, layout) or ('', '').

    The dialog confirms replacing an existing file; if ``.safetensors`` had to
    be added to the typed name and that file exists, this asks too."""
    start = os.path.join(folder, "weights.safetensors") if folder else "weights.safetensors"
    path, chosen = QtWidgets.QFileDialog.getSaveFileName(parent, "Export Weights", start, ";;".join(EXPORT_FILTERS))
    if not path:
        return "", ""
    layout = EXPORT_FILTERS.get(chosen, "torch")
    if Path(path).suffix.lower() != ".safetensors":
        path += ".safetensors"
        if os.path.exists(path):
            answer = QtWidgets.QMessageBox.question(
                parent, "Export Weights", f"{path} already exists. Replace it?",
                QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
                QtWidgets.QMessageBox.StandardButton.No)
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                return "", ""
    return path, layout


class WeightsActions(QtCore.QObject):
    """``import_action`` and ``export_action`` for a window's File menu."""

    def __init__(self, window: QtWidgets.QMainWindow, controller: Controller):
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.folder = ""                                  # where the dialogs start (the last folder used)
        self.error_box: QtWidgets.QMessageBox | None = None
        self.import_action = QtGui.QAction("&Import Weights…", window)
        self.import_action.setToolTip("Replace the weights with those of a .safetensors or PyTorch (.pt) file "
                                      "(this program's names or a plain nn.GRU/LSTM/RNN model's); undoable")
        self.import_action.triggered.connect(self.import_dialog)
        self.export_action = QtGui.QAction("E&xport Weights…", window)
        self.export_action.setToolTip("Save the weights as .safetensors, for a plain PyTorch model or this program")
        self.export_action.triggered.connect(self.export_dialog)

    def add_to_menu(self, menu: QtWidgets.QMenu, before: QtGui.QAction | None = None) -> None:
        """Insert both actions (and a separator after them) before ``before``, or at the end."""
        if before is None:
            menu.addActions([self.import_action, self.export_action])
            menu.addSeparator()
        else:
            menu.insertActions(before, [self.import_action, self.export_action])
            menu.insertSeparator(before)

    # ------------------------------------------------------------ with a path (no dialogs)
    def import_from(self, path: str) -> bool:
        try:
            self.controller.import_weights(path)
        except ControllerError as exc:
            self._refused("Import Weights", f"Nothing was imported. {exc}")
            return False
        self.folder = os.path.dirname(os.path.abspath(path))
        self._status(f"Imported weights from {os.path.basename(path)} (Undo restores the previous ones)")
        return True

    def export_to(self, path: str, layout: str) -> bool:
        try:
            written = self.controller.export_weights(path, layout)
        except ControllerError as exc:
            self._refused("Export Weights", f"Nothing was written. {exc}")
            return False
        self.folder = os.path.dirname(os.path.abspath(written))
        names = "plain PyTorch model names" if layout == "torch" else "this program's names"
        self._status(f"Exported weights to {written} ({names})")
        return True

    # ------------------------------------------------------------ dialogs
    def import_dialog(self) -> bool:
        path = ask_import_path(self.window, self.folder)
        return bool(path) and self.import_from(path)

    def export_dialog(self) -> bool:
        path, layout = ask_export_path(self.window, self.folder)
        return bool(path) and self.export_to(path, layout)

    # ------------------------------------------------------------ reporting
    def _status(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 8000)

    def _refused(self, title: str, message: str) -> None:
        self._status(message)
        if self.error_box is not None:                # one message box at a time
            self.error_box.close()
            self.error_box.deleteLater()
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, message,
                                    QtWidgets.QMessageBox.StandardButton.Close, self.window)
        box.setObjectName("weights-error-dialog")
        box.open()                                    # not modal to the app: the window keeps working
        self.error_box = box
