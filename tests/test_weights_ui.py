"""File → Import Weights… / Export Weights… (gru_debugger/ui/weights), offscreen."""
import pytest
import torch
from PySide6 import QtWidgets
from safetensors.torch import load_file, save_file

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.weights import EXPORT_FILTERS, WeightsActions

TORCH_FILTER = next(k for k, v in EXPORT_FILTERS.items() if v == "torch")
PROJECT_FILTER = next(k for k, v in EXPORT_FILTERS.items() if v == "project")


@pytest.fixture
def window(qtbot):
    win = QtWidgets.QMainWindow()
    qtbot.addWidget(win)
    ctl = Controller(Config(seed=0))
    actions = WeightsActions(win, ctl)
    menu = win.menuBar().addMenu("&File")
    quit_action = menu.addAction("&Quit")
    actions.add_to_menu(menu, before=quit_action)
    return win, ctl, actions, menu


def test_menu_order(window):
    _, _, actions, menu = window
    texts = [a.text() for a in menu.actions()]
    assert texts == ["&Import Weights…", "E&xport Weights…", "", "&Quit"]


def test_export_then_import_through_the_dialogs(window, tmp_path, monkeypatch):
    win, ctl, actions, _ = window
    target = tmp_path / "w"                      # no ending typed: .safetensors is added
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a: (str(target), TORCH_FILTER))
    assert actions.export_action.trigger() is None and (tmp_path / "w.safetensors").is_file()
    tensors = load_file(tmp_path / "w.safetensors")
    assert "rnn.weight_ih_l0" in tensors and "Exported weights" in win.statusBar().currentMessage()
    tensors["head.weight"] = tensors["head.weight"] + 1.0
    save_file(tensors, tmp_path / "changed.safetensors")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName",
                        lambda *a: (str(tmp_path / "changed.safetensors"), ""))
    actions.import_action.trigger()
    assert ctl.undo_texts == ["Import weights from changed.safetensors"]
    assert torch.equal(ctl.state.params["lm_head.weight"], tensors["head.weight"])
    assert actions.folder == str(tmp_path) and actions.error_box is None


def test_refused_import_shows_the_message_and_changes_nothing(window, tmp_path, monkeypatch):
    win, ctl, actions, _ = window
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    before = ctl.state
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a: (str(bad), ""))
    assert actions.import_dialog() is False
    assert ctl.state is before and ctl.undo_texts == []
    box = actions.error_box
    assert box is not None and box.isVisible() and str(bad) in box.text()
    assert "Nothing was imported" in box.text() and "not a readable PyTorch file" in box.text()


def test_added_ending_asks_before_replacing(window, tmp_path, monkeypatch):
    win, ctl, actions, _ = window
    existing = tmp_path / "keep.safetensors"
    existing.write_bytes(b"the user's file")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "keep"), PROJECT_FILTER))
    asked = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda *a: asked.append(a[2]) or QtWidgets.QMessageBox.StandardButton.No)
    assert actions.export_dialog() is False
    assert existing.read_bytes() == b"the user's file" and asked and "keep.safetensors" in asked[0]
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a: QtWidgets.QMessageBox.StandardButton.Yes)
    assert actions.export_dialog() is True
    assert sorted(load_file(existing)) == sorted(PARAM_NAMES)


def test_cancelled_dialogs_do_nothing(window, monkeypatch):
    win, ctl, actions, _ = window
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a: ("", ""))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a: ("", ""))
    assert actions.export_dialog() is False and actions.import_dialog() is False
    assert ctl.undo_texts == [] and actions.error_box is None
