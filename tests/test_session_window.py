"""Sessions in the window: open/save, the unsaved mark, the close prompt, autosave and recovery."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import shiboken6
from PySide6 import QtCore, QtWidgets

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.main_window import MainWindow
from gru_debugger.ui.session import autosave, document
from gru_debugger.ui.session.document import AUTOSAVE_EVERY, offer_recovery, recent_paths


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    monkeypatch.setenv(autosave.DATA_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def windows(qtbot):
    """Windows made in a test (also those File → Open makes); closed without prompts at the end."""
    made = []
    yield made
    for win in made + list(document._WINDOWS):
        if shiboken6.isValid(win):
            win.session.protected = False
            win.close()
            win.deleteLater()
    document._WINDOWS.clear()
    QtWidgets.QApplication.processEvents()


@pytest.fixture
def window(qtbot, settings, windows):
    win = MainWindow(Controller(Config(seed=0)), settings)
    win.session.protect()
    windows.append(win)
    win.show()
    qtbot.waitExposed(win)
    return win


class Answers:
    """Replaces QMessageBox.exec: presses the button with the given text and records each box's text."""

    def __init__(self, monkeypatch, *answers):
        self.answers = list(answers)
        self.seen = []
        monkeypatch.setattr(QtWidgets.QMessageBox, "exec", lambda box: self.press(box))
        monkeypatch.setattr(QtWidgets.QMessageBox, "warning", lambda *a: self.warning(*a))

    def press(self, box):
        self.seen.append(box.text() + "\n" + box.informativeText())
        label = self.answers.pop(0)
        button = next(b for b in box.buttons() if b.text() == label)
        button.click()
        return 0

    def warning(self, parent, title, text, *args):
        self.seen.append(text)
        return QtWidgets.QMessageBox.StandardButton.Ok


def same_trace(a: Controller, b: Controller) -> None:
    ta, tb = a.snapshot().trace.arrays, b.snapshot().trace.arrays
    assert ta.keys() == tb.keys()
    for key in ta:
        assert ta[key].tobytes() == tb[key].tobytes(), key


# ---------------------------------------------------------------- title and unsaved mark
def test_title_names_the_file_and_marks_unsaved_changes(window, tmp_path):
    assert window.windowTitle().startswith("untitled[*]")
    assert not window.isWindowModified()
    window.controller.run_to("loss")          # moving the cursor is not a change
    assert not window.isWindowModified()
    window.controller.set_learning_rate(1.0)
    assert window.isWindowModified()
    assert window.session.mark.isVisible() and "unsaved" in window.session.mark.text()
    path = tmp_path / "mine.grus"
    assert window.session.save_to(str(path))
    assert window.windowTitle().startswith("mine.grus[*]")
    assert not window.isWindowModified() and not window.session.mark.isVisible()
    window.controller.set_learning_rate(2.0)
    assert window.isWindowModified()
    window.controller.undo()                  # back to what was saved
    assert not window.isWindowModified()


# ---------------------------------------------------------------- closing
def test_cancel_keeps_the_window_open_and_the_changes(window, monkeypatch):
    window.controller.set_learning_rate(1.0)
    answers = Answers(monkeypatch, "Cancel")
    assert not window.close()
    assert window.isVisible() and shiboken6.isValid(window)
    assert window.controller.config.learning_rate == 1.0 and window.isWindowModified()
    assert "untitled" in answers.seen[0]


def test_dont_save_closes(window, monkeypatch):
    window.controller.set_learning_rate(1.0)
    Answers(monkeypatch, "Don't Save")
    assert window.close()
    assert not window.isVisible()


def test_save_on_close_writes_the_file(window, monkeypatch, tmp_path):
    window.controller.set_learning_rate(1.0)
    path = tmp_path / "closing.grus"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    Answers(monkeypatch, "Save")
    assert window.close()
    assert Controller.load(path).config.learning_rate == 1.0


def test_save_cancelled_in_the_dialog_keeps_the_window(window, monkeypatch):
    window.controller.set_learning_rate(1.0)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: ("", ""))
    Answers(monkeypatch, "Save")
    assert not window.close()
    assert window.isVisible()


def test_a_clean_window_closes_without_asking(window, monkeypatch):
    answers = Answers(monkeypatch)
    assert window.close()
    assert answers.seen == []


def test_save_as_does_not_silently_replace_a_file_with_the_added_suffix(window, monkeypatch, tmp_path):
    theirs = tmp_path / "notes.grus"
    theirs.write_bytes(b"not ours")
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "notes"), ""))
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda *a, **k: QtWidgets.QMessageBox.StandardButton.No)
    assert not window.session.save_as()
    assert theirs.read_bytes() == b"not ours"


# ---------------------------------------------------------------- opening
def test_open_makes_a_new_window_on_the_loaded_session(window, windows, tmp_path):
    saved = Controller(Config(seed=3, learning_rate=0.5))
    saved.run_to("cell", 2)
    path = tmp_path / "other.grus"
    saved.save(path)
    window.resize(1300, 950)
    new = window.session.open_path(str(path))
    assert new is not None and new is not window
    windows.append(new)
    QtWidgets.QApplication.processEvents()
    assert not shiboken6.isValid(window) or not window.isVisible()
    assert new.isVisible() and new.size() == QtCore.QSize(1300, 950)
    assert new.controller.config.learning_rate == 0.5
    assert new.controller.cursor == saved.cursor
    same_trace(new.controller, saved)
    assert new.windowTitle().startswith("other.grus[*]") and not new.isWindowModified()
    assert recent_paths(new.settings)[0] == str(path)


def test_a_refused_file_leaves_the_session_open_and_unchanged(window, monkeypatch, tmp_path):
    window.controller.set_learning_rate(1.0)
    before = window.controller.state
    bad = tmp_path / "broken.grus"
    bad.write_bytes(b"\x00" * 100)
    answers = Answers(monkeypatch)
    assert window.session.open_path(str(bad)) is None
    assert len(answers.seen) == 1 and "broken.grus" in answers.seen[0]
    assert window.isVisible() and window.controller.state is before and window.isWindowModified()
    assert document._WINDOWS == []


def test_open_with_unsaved_changes_asks_and_cancel_keeps_everything(window, monkeypatch, tmp_path):
    path = tmp_path / "s.grus"
    Controller(Config(seed=1)).save(path)
    window.controller.set_learning_rate(1.0)
    Answers(monkeypatch, "Cancel")
    assert window.session.open_path(str(path)) is None
    assert window.isVisible() and window.controller.config.learning_rate == 1.0


def test_open_recent_drops_a_missing_file_with_a_message(window, monkeypatch, tmp_path):
    kept, gone = tmp_path / "kept.grus", tmp_path / "gone.grus"
    Controller(Config(seed=1)).save(kept)
    document.add_recent(window.settings, str(gone))
    document.add_recent(window.settings, str(kept))
    window.session._fill_recent()
    labels = [a.text() for a in window.session.recent_menu.actions()]
    assert labels[:2] == ["&1 kept.grus", "&2 gone.grus"]
    answers = Answers(monkeypatch)
    assert window.session.open_recent(str(gone)) is None
    assert "no longer exists" in answers.seen[0]
    assert recent_paths(window.settings) == [str(kept)]


def test_recent_list_keeps_eight(window, tmp_path):
    for i in range(12):
        document.add_recent(window.settings, str(tmp_path / f"{i}.grus"))
    paths = recent_paths(window.settings)
    assert len(paths) == 8 and paths[0].endswith("11.grus")


# ---------------------------------------------------------------- autosave
def test_autosave_runs_on_a_timer_tick_and_goes_away_on_save(window, qtbot, tmp_path, data_dir):
    ctl = window.controller
    ctl.set_learning_rate(1.0)
    file = window.session.autosave
    assert window.session.timer.isActive()
    assert not file.session.exists()               # not inside the change itself
    for i in range(AUTOSAVE_EVERY):
        ctl.set_learning_rate(1.0 + (i + 1) / 100)
    assert not file.session.exists()
    qtbot.waitUntil(file.session.exists)           # the 20th change: the next tick
    assert file.session.parent == data_dir / "autosave"
    meta = json.loads(file.meta.read_text())
    assert meta["pid"] == os.getpid()
    same_trace(Controller.load(file.session), ctl)
    assert window.session.save_to(str(tmp_path / "kept.grus"))
    assert not file.session.exists() and not file.meta.exists()


def test_clean_close_removes_the_autosave(window, monkeypatch):
    window.controller.set_learning_rate(1.0)
    assert window.session.autosave_now()
    file = window.session.autosave
    assert file.session.exists()
    Answers(monkeypatch, "Don't Save")
    assert window.close()
    assert not file.session.exists() and not file.meta.exists()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def crash(controller: Controller, pid: int) -> autosave.AutosaveFile:
    """What a crashed run leaves: an autosave whose note names a process that is gone."""
    file = autosave.AutosaveFile("0123456789abcdef0123456789abcdef")
    file.write(controller, "untitled")
    note = json.loads(file.meta.read_text())
    note["pid"] = pid
    file.meta.write_text(json.dumps(note))
    file.release()  # its process is gone: it holds the autosave's lock no longer
    return file


def edited_controller() -> Controller:
    ctl = Controller(Config(seed=5))
    ctl.set_inits({n: {"scheme": "default"} for n in PARAM_NAMES})
    ctl.set_learning_rate(0.3)
    ctl.next_iteration()
    ctl.run_to("backward", 4)
    return ctl


def test_recovery_restores_a_crashed_session(window, windows, monkeypatch):
    saved = edited_controller()
    file = crash(saved, dead_pid())
    answers = Answers(monkeypatch, "Restore")
    opened = offer_recovery(window)
    assert len(opened) == 1
    new = opened[0]
    windows.append(new)
    assert "iteration 1" in answers.seen[0] and "did not close normally" in answers.seen[0]
    same_trace(new.controller, saved)
    assert new.controller.cursor == saved.cursor
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(new.controller.state.params[name].numpy(), saved.state.params[name].numpy())
    assert new.isWindowModified() and new.windowTitle().startswith("recovered session[*]")
    assert json.loads(file.meta.read_text())["pid"] == os.getpid()   # ours now: not offered again
    assert autosave.find_orphans() == []


def test_discard_removes_the_autosave(window, monkeypatch):
    file = crash(edited_controller(), dead_pid())
    Answers(monkeypatch, "Discard")
    assert offer_recovery(window) == []
    assert not file.session.exists() and not file.meta.exists()
    assert window.isVisible()


def test_later_keeps_it_for_next_time(window, monkeypatch):
    file = crash(edited_controller(), dead_pid())
    Answers(monkeypatch, "Later")
    assert offer_recovery(window) == []
    assert file.session.exists() and len(autosave.find_orphans()) == 1


def test_a_running_process_autosave_is_left_alone(window, monkeypatch):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        file = crash(edited_controller(), proc.pid)
        answers = Answers(monkeypatch)
        assert offer_recovery(window) == []
        assert answers.seen == []
        assert file.session.exists() and file.meta.exists()
    finally:
        proc.kill()
        proc.wait()


def test_files_not_named_like_ours_are_ignored(data_dir):
    folder = data_dir / "autosave"
    folder.mkdir(parents=True)
    (folder / "notes.json").write_text(json.dumps({"kind": autosave.KIND, "pid": dead_pid()}))
    (folder / "notes.grus").write_bytes(b"x")
    assert autosave.find_orphans() == []
