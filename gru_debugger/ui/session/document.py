"""The window's session: File → Open… / Open Recent / Save / Save As…, the
title bar (file name and unsaved mark), the close prompt, autosave and the
recovery offer at start-up.

Opening a session makes a new window on the loaded controller (same settings,
same geometry and layout) and closes the old one: every panel is built for one
controller, so a fresh window is simpler and safer than re-pointing dozens of
subscriptions. The old window goes only after the new one is showing, and a
file that cannot be opened leaves the old one exactly as it was.

"Unsaved" means the model changed since the last save or open: the
controller's state object is compared with the one saved (states are never
changed in place; undoing back to the saved state makes the window clean
again). Moving the cursor does not count.

A window asks before losing changes and autosaves only once ``protect()`` is
called (the app does it; windows built by scripts, the screenshot generator
and the tests do not, so they never block on a dialog or write to the user's
data folder).
"""
from __future__ import annotations

import os
import uuid
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6 import QtCore, QtGui, QtWidgets

from ...core.control.controller import Controller, ControllerError
from ...core.model.engine import ModelState
from ...core.storage.session import SESSION_SUFFIX
from ..widgets.subscribe import subscribe
from .actions import FILTER
from .autosave import AutosaveFile, Orphan, take_orphans

if TYPE_CHECKING:
    from ..main_window import MainWindow

APP_TITLE = "GRU Debugger"
AUTOSAVE_MS = 30_000      # after the first unsaved change
AUTOSAVE_EVERY = 20       # changes: then on the next timer tick
RECENT_KEY = "session/recent"
MAX_RECENT = 8

# Windows opened from another one (nothing else holds them).
_WINDOWS: list[QtWidgets.QMainWindow] = []


def _keep(window: QtWidgets.QMainWindow) -> None:
    _WINDOWS.append(window)
    ref = weakref.ref(window)

    def gone(*_: object) -> None:
        _WINDOWS[:] = [w for w in _WINDOWS if w is not ref()]
    window.destroyed.connect(gone)


# ---------------------------------------------------------------- dialogs (tests replace QMessageBox.exec)
def _ask(parent: QtWidgets.QWidget, title: str, text: str, info: str,
         buttons: list[tuple[str, QtWidgets.QMessageBox.ButtonRole]], default: int, escape: int,
         icon: QtWidgets.QMessageBox.Icon = QtWidgets.QMessageBox.Icon.Question,
         name: str = "") -> int:
    """A message box with the given buttons; returns the index of the one pressed."""
    box = QtWidgets.QMessageBox(icon, title, text, QtWidgets.QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName(name)
    box.setInformativeText(info)
    made = [box.addButton(label, role) for label, role in buttons]
    box.setDefaultButton(made[default])
    box.setEscapeButton(made[escape])
    box.exec()
    clicked = box.clickedButton()
    box.deleteLater()
    return made.index(clicked) if clicked in made else escape


def ask_unsaved(parent: QtWidgets.QWidget, name: str, doing: str) -> str:
    """"save", "discard" or "cancel"."""
    role = QtWidgets.QMessageBox.ButtonRole
    answer = _ask(parent, APP_TITLE, f"Save the changes to {name} before {doing}?",
                  "Your changes are lost if you don't save them.",
                  [("Save", role.AcceptRole), ("Don't Save", role.DestructiveRole), ("Cancel", role.RejectRole)],
                  default=0, escape=2, icon=QtWidgets.QMessageBox.Icon.Warning, name="unsaved-dialog")
    return ("save", "discard", "cancel")[answer]


def ask_recover(parent: QtWidgets.QWidget | None, orphan: Orphan) -> str:
    """"restore", "discard" or "later"."""
    role = QtWidgets.QMessageBox.ButtonRole
    answer = _ask(parent, "Recover unsaved work",
                  "GRU Debugger did not close normally last time. Unsaved work was kept:",
                  f"<b>{orphan.describe()}</b><br><br>"
                  "<b>Restore</b> opens it as an unsaved session (save it to keep it).<br>"
                  "<b>Discard</b> deletes this autosaved copy.<br>"
                  "<b>Later</b> keeps it and asks again at the next start.",
                  [("Restore", role.AcceptRole), ("Discard", role.DestructiveRole), ("Later", role.RejectRole)],
                  default=0, escape=2, name="recover-dialog")
    return ("restore", "discard", "later")[answer]


def refused(parent: QtWidgets.QWidget, title: str, message: str) -> None:
    QtWidgets.QMessageBox.warning(parent, title, message)


# ---------------------------------------------------------------- recent files
def recent_paths(settings: QtCore.QSettings | None) -> list[str]:
    if settings is None:
        return []
    value: Any = settings.value(RECENT_KEY)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str) and v][:MAX_RECENT]


def _set_recent(settings: QtCore.QSettings | None, paths: list[str]) -> None:
    if settings is not None:
        settings.setValue(RECENT_KEY, paths[:MAX_RECENT])
        settings.sync()


def add_recent(settings: QtCore.QSettings | None, path: str) -> None:
    path = os.path.abspath(path)
    _set_recent(settings, [path] + [p for p in recent_paths(settings) if p != path])


def remove_recent(settings: QtCore.QSettings | None, path: str) -> None:
    _set_recent(settings, [p for p in recent_paths(settings) if p != path])


# ---------------------------------------------------------------- the window's session
class SessionDocument(QtCore.QObject):
    """File actions, title, unsaved mark, close prompt and autosave of one window."""

    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.window = window
        self.controller: Controller = window.controller
        self.path: str | None = None
        self.recovered = False
        self._clean: ModelState | None = self.controller.state
        self.protected = False
        self._replaced = False
        self.autosave = AutosaveFile(uuid.uuid4().hex)
        self.changes = 0                     # unsaved changes since the last autosave
        self.autosaved_at = ""
        self.timer = QtCore.QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.autosave_now)
        self.mark = QtWidgets.QLabel(window)
        self.mark.setObjectName("unsaved-mark")
        self.mark.hide()
        self._mark_attached = False
        self.mark.setStyleSheet("color: #b8860b; font-weight: bold;")

        self.open_action = self._action("&Open…", QtGui.QKeySequence.StandardKey.Open, self.open_dialog,
                                        "Open a saved session (.grus) in place of this one")
        self.recent_menu = QtWidgets.QMenu("Open &Recent", window)
        self.recent_menu.setObjectName("recent-menu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.save_action = self._action("&Save", QtGui.QKeySequence.StandardKey.Save, self.save,
                                        "Save the session (weights, settings, texts, cursor, breakpoints)")
        self.save_as_action = self._action("Save &As…", QtGui.QKeySequence("Ctrl+Shift+S"), self.save_as,
                                           "Save the session under a new name")
        subscribe(self.controller.history_changed, self, self._history_changed)
        self.update_title()

    def _action(self, text: str, keys: Any, slot: Any, tip: str) -> QtGui.QAction:
        action = QtGui.QAction(text, self.window)
        action.setShortcut(keys)
        action.setToolTip(tip)
        action.triggered.connect(lambda: slot())
        return action

    def add_to_menu(self, menu: QtWidgets.QMenu, before: QtGui.QAction) -> None:
        """Open…, Open Recent, Save, Save As… and a separator, before ``before``."""
        menu.insertActions(before, [self.open_action])
        menu.insertMenu(before, self.recent_menu)
        menu.insertActions(before, [self.save_action, self.save_as_action])
        menu.insertSeparator(before)
        self.update_title()

    def protect(self) -> None:
        """Ask before losing changes, and autosave them (the app's windows)."""
        self.protected = True
        if self.is_modified():
            self._schedule()

    # ------------------------------------------------------------ state
    def is_modified(self) -> bool:
        return self._clean is None or self.controller.state is not self._clean

    def display_name(self) -> str:
        if self.path:
            return os.path.basename(self.path)
        return "recovered session" if self.recovered else "untitled"

    def update_title(self) -> None:
        modified = self.is_modified()
        self.window.setWindowTitle(f"{self.display_name()}[*] — {APP_TITLE}")
        self.window.setWindowModified(modified)
        if modified:
            text = "● unsaved changes"
            if self.autosaved_at:
                text += f" (autosaved {self.autosaved_at})"
        else:
            text = ""
        status = getattr(self.window, "status", None)  # the status line is built after the menus
        if not self._mark_attached and isinstance(status, QtWidgets.QStatusBar):
            status.addPermanentWidget(self.mark)
            self._mark_attached = True
        self.mark.setText(text)
        self.mark.setToolTip("Changed since the last save; File → Save (Ctrl+S) keeps them" if modified else "")
        self.mark.setVisible(bool(text) and self._mark_attached)

    def _mark_clean(self, path: str | None) -> None:
        self.path = path
        self.recovered = False
        self._clean = self.controller.state
        self.changes = 0
        self.timer.stop()
        self.autosave.remove()
        self.autosaved_at = ""
        self.update_title()

    def set_file(self, path: str) -> None:
        """This window shows the session just read from ``path`` (clean; listed in Open Recent)."""
        self._mark_clean(os.path.abspath(path))
        add_recent(self.window.settings, path)

    def _history_changed(self) -> None:
        self.changes += 1
        self.update_title()
        if self.protected and self.is_modified():
            self._schedule()

    def _schedule(self) -> None:
        """Autosave on a timer tick, never inside the click that made the change."""
        if self.changes >= AUTOSAVE_EVERY:
            self.timer.start(0)
        elif not self.timer.isActive():
            self.timer.start(AUTOSAVE_MS)

    # ------------------------------------------------------------ autosave
    def autosave_now(self) -> bool:
        """Write the unsaved session to the autosave folder (True if written)."""
        if not self.protected or not self.is_modified():
            return False
        try:
            self.autosave.write(self.controller, self.display_name())
        except (ControllerError, OSError) as exc:
            self.window.statusBar().showMessage(f"Autosave failed: {exc}", 8000)
            return False
        self.changes = 0
        self.autosaved_at = QtCore.QTime.currentTime().toString("HH:mm")
        self.update_title()
        return True

    # ------------------------------------------------------------ saving
    def save(self) -> bool:
        if not self.path:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        start = self.path or str(Path(self._folder()) / f"session{SESSION_SUFFIX}")
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, "Save Session As", start, FILTER)
        if not path:
            return False
        if not path.endswith(SESSION_SUFFIX):
            path += SESSION_SUFFIX   # the dialog asked about the name typed, not this one
            if os.path.exists(path):
                answer = QtWidgets.QMessageBox.question(
                    self.window, "Save Session As", f"{path} already exists. Replace it?",
                    QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.No,
                    QtWidgets.QMessageBox.StandardButton.No)
                if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                    return False
        return self.save_to(path)

    def save_to(self, path: str) -> bool:
        """Save to ``path`` (no dialog; it is replaced atomically). A refusal is shown, not raised."""
        try:
            self.controller.save(path)
        except ControllerError as exc:
            refused(self.window, "Save Session", f"The session was not saved.\n\n{exc}")
            return False
        self._mark_clean(os.path.abspath(path))
        add_recent(self.window.settings, self.path or path)
        self.window.statusBar().showMessage(f"Saved {self.path}", 5000)
        return True

    def _folder(self) -> str:
        recent = recent_paths(self.window.settings)
        return os.path.dirname(self.path or (recent[0] if recent else "")) or os.getcwd()

    # ------------------------------------------------------------ opening
    def open_dialog(self) -> "MainWindow | None":
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Open Session", self._folder(), FILTER)
        return self.open_path(path) if path else None

    def open_path(self, path: str) -> "MainWindow | None":
        """Open a session in place of this one; returns the new window (None: refused or cancelled,
        and this window is unchanged)."""
        try:
            controller = Controller.load(path)
        except ControllerError as exc:
            refused(self.window, "Open Session", f"{os.path.basename(path)} could not be opened; the open session "
                    f"is unchanged.\n\n{exc}")
            return None
        if not self.may_discard("opening another session"):
            return None
        new = self.replace_window(controller)
        new.session.set_file(path)
        return new

    def open_recent(self, path: str) -> "MainWindow | None":
        if not os.path.exists(path):
            remove_recent(self.window.settings, path)
            refused(self.window, "Open Recent", f"{path} no longer exists; it was removed from Open Recent.")
            return None
        return self.open_path(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = recent_paths(self.window.settings)
        for i, path in enumerate(paths, 1):
            action = self.recent_menu.addAction(f"&{i} {os.path.basename(path)}")
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _=False, p=path: self.open_recent(p))
        if not paths:
            self.recent_menu.addAction("(no recent sessions)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            clear = self.recent_menu.addAction("Clear Menu")
            clear.triggered.connect(lambda: _set_recent(self.window.settings, []))

    def replace_window(self, controller: Controller) -> "MainWindow":
        """A new window on ``controller`` (same settings, geometry and layout); this one closes."""
        old = self.window
        old.save_layout()
        new = type(old)(controller, old.settings)
        new.restoreGeometry(old.saveGeometry())   # maximized or full screen as the old one
        if not (old.isMaximized() or old.isFullScreen()):
            new.setGeometry(old.geometry())          # exactly where it was
        if self.protected:
            new.session.protect()
        _keep(new)
        new.show()
        self._replaced = True
        old.close()
        old.deleteLater()
        return new

    # ------------------------------------------------------------ closing
    def may_discard(self, doing: str) -> bool:
        """Ask about unsaved changes; False if the user cancels (or a save fails)."""
        if not self.protected or not self.is_modified():
            return True
        answer = ask_unsaved(self.window, self.display_name(), doing)
        if answer == "cancel":
            return False
        return answer == "discard" or self.save()

    def may_close(self) -> bool:
        """For the window's closeEvent: False keeps the window open."""
        if not self._replaced and not self.may_discard("closing"):
            return False
        self.timer.stop()
        self.autosave.remove()   # a clean close: nothing to recover
        return True

    # ------------------------------------------------------------ recovery
    def adopt_orphan(self, orphan: Orphan) -> None:
        """This window continues a restored autosave: unsaved, and its file is now ours."""
        self.recovered = True
        self._clean = None
        previous = self.autosave
        if previous.written:
            previous.remove()
        else:
            previous.release()
        self.autosave = orphan.file if orphan.file is not None else AutosaveFile(orphan.session.stem)
        try:
            if self.autosave.own():  # taken when it was offered: no other instance restores it too
                self.autosave.claim(orphan.title, self.controller.state.iteration)
        except OSError:
            pass
        self.update_title()
        if self.protected:
            self._schedule()


def offer_recovery(window: "MainWindow") -> list["MainWindow"]:
    """At start-up: for each autosave a crashed run left, ask Restore / Discard / Later.
    Returns the windows opened (the first restore replaces ``window`` if it has no changes)."""
    opened: list[MainWindow] = []
    current = window
    orphans = take_orphans()  # ours while asked: another instance started now does not offer them
    for k, orphan in enumerate(orphans):
        try:
            answer = ask_recover(current, orphan)
        except BaseException:
            for rest in orphans[k:]:
                rest.release()
            raise
        if answer == "discard":
            orphan.discard()
            continue
        if answer != "restore":
            orphan.release()  # later: for the next start (or another instance)
            continue
        try:
            controller = Controller.load(orphan.session)
        except ControllerError as exc:
            orphan.release()
            refused(current, "Recover unsaved work", f"The autosaved copy could not be opened; it was left in "
                    f"{orphan.session.parent}.\n\n{exc}")
            continue
        doc = current.session
        if not opened and not doc.is_modified() and not doc.path:
            new = doc.replace_window(controller)
            current = new
        else:
            new = type(current)(controller, current.settings)
            if doc.protected:
                new.session.protect()
            _keep(new)
            new.show()
        new.session.adopt_orphan(orphan)
        opened.append(new)
    return opened
