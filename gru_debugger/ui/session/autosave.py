"""Autosave files and what a crashed run left behind (no widgets here).

Unsaved work is written to ``<data folder>/autosave/<id>.grus`` (a session
file, in the model's own precision) with ``<id>.json`` next to it: the
writer's process id, when, and a title. An autosave belongs to one running
instance: the one that holds its lock, ``<id>.lock`` (a ``QLockFile``: the
file names its process, and a process that is gone, killed or crashed, no
longer holds it). A pair that no running instance owns is an orphan: the
window offers to restore it at start-up, and *takes* it (its lock) before it
asks, so two instances started after a crash never offer, restore and then
share the same autosave. Only this folder is ever written or cleaned, and in
it only files named like ours; everything is written atomically
(core/storage/atomic_write) with the user's umask.

The data folder is Qt's AppDataLocation (on Linux
``~/.local/share/gru-debugger/GRU Debugger``); the environment variable
``GRU_DEBUGGER_DATA_DIR`` replaces it (tests point it at a temporary folder).
"""
from __future__ import annotations

import errno
import json
import os
import re
import sys
import time
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6 import QtCore

from ...core.storage.atomic_write import write_atomic
from ...core.control.controller import Controller

DATA_DIR_ENV = "GRU_DEBUGGER_DATA_DIR"
AUTOSAVE_FOLDER = "autosave"
KIND = "gru_debugger.autosave"
_NAME = re.compile(r"^[0-9a-f]{32}$")  # our ids: uuid4().hex


def data_dir() -> Path:
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override)
    return Path(QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation))


def autosave_dir() -> Path:
    return data_dir() / AUTOSAVE_FOLDER


def pid_alive(pid: int) -> bool:
    """Is a process with this id running? (Unsure counts as running: its file is left alone.)"""
    if pid == os.getpid():
        return True
    if pid <= 0:
        return False
    if sys.platform.startswith("win"):  # os.kill(pid, 0) would end the process on Windows
        import ctypes
        kernel = ctypes.windll.kernel32  # type: ignore[attr-defined]
        handle = kernel.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        try:
            ok = kernel.GetExitCodeProcess(handle, ctypes.byref(code))
        finally:
            kernel.CloseHandle(handle)
        return not ok or code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


@dataclass(frozen=True)
class Orphan:
    """An autosave whose writer is gone. One returned by :func:`take_orphans` is held by this
    process (``file`` holds its lock) until it is adopted, discarded or released."""

    session: Path      # <id>.grus
    meta: Path         # <id>.json
    pid: int
    title: str
    saved_at: float    # seconds since the epoch
    iteration: int | None
    file: "AutosaveFile | None" = None

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at)) if self.saved_at else "an unknown time"
        it = f", iteration {self.iteration}" if self.iteration is not None else ""
        return f"{self.title}{it} (autosaved {when})"

    def discard(self) -> None:
        for path in (self.session, self.meta):
            path.unlink(missing_ok=True)
        self.release()

    def release(self) -> None:
        """Let go of it (answered "Later"): another instance, or the next start, may offer it."""
        if self.file is not None:
            self.file.release()


def _read_meta(meta: Path) -> dict[str, Any] | None:
    try:
        if meta.stat().st_size > 64 * 1024:
            return None
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("kind") != KIND or not isinstance(data.get("pid"), int):
        return None
    return data


def find_orphans(folder: Path | None = None) -> list[Orphan]:
    """Autosaves no running instance owns, newest first (looked at, not taken: see :func:`take_orphans`)."""
    found = take_orphans(folder)
    for orphan in found:
        orphan.release()
    return [dataclasses.replace(orphan, file=None) for orphan in found]


def take_orphans(folder: Path | None = None) -> list[Orphan]:
    """Autosaves no running instance owns, newest first, each now held by this process (its lock):
    no other instance offers it until it is released. The caller adopts, discards or releases each."""
    folder = autosave_dir() if folder is None else folder
    found: list[Orphan] = []
    try:
        metas = sorted(folder.glob("*.json"))
    except OSError:
        return []
    for meta in metas:
        if not _NAME.match(meta.stem):
            continue
        session = meta.with_suffix(".grus")
        data = _read_meta(meta)
        if data is None or not session.is_file():
            continue
        file = AutosaveFile(meta.stem, folder)
        if not file.lock.exists() and pid_alive(data["pid"]):
            continue  # no lock: an instance of an older version, still running, owns it by its note
        if not file.own():
            continue  # a running instance holds it
        data = _read_meta(meta)  # as it is now that it is ours (its previous owner may just have closed)
        if data is None or not session.is_file():
            file.release()
            continue
        saved = data.get("saved_at")
        iteration = data.get("iteration")
        found.append(Orphan(session, meta, data["pid"], str(data.get("title") or "untitled"),
                            float(saved) if isinstance(saved, (int, float)) else 0.0,
                            iteration if isinstance(iteration, int) else None, file))
    return sorted(found, key=lambda o: o.saved_at, reverse=True)


class AutosaveFile:
    """One window's autosave: ``<id>.grus`` and ``<id>.json``, owned through ``<id>.lock``.
    Written with :meth:`write` (which takes the lock), removed with :meth:`remove`."""

    def __init__(self, ident: str, folder: Path | None = None):
        if not _NAME.match(ident):
            raise ValueError(f"not an autosave id: {ident!r}")
        self.ident = ident
        self.folder = folder
        self.written = False
        self._lock: QtCore.QLockFile | None = None

    def _dir(self) -> Path:
        return autosave_dir() if self.folder is None else self.folder

    @property
    def session(self) -> Path:
        return self._dir() / f"{self.ident}.grus"

    @property
    def meta(self) -> Path:
        return self._dir() / f"{self.ident}.json"

    @property
    def lock(self) -> Path:
        return self._dir() / f"{self.ident}.lock"

    @property
    def owned(self) -> bool:
        """This process holds the autosave's lock."""
        return self._lock is not None and self._lock.isLocked()

    def own(self) -> bool:
        """Take the autosave's lock if no running process holds it (a lock left by a process that
        is gone is stale and taken over); True if this process holds it now."""
        if self.owned:
            return True
        try:
            self._dir().mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        lock = QtCore.QLockFile(str(self.lock))
        lock.setStaleLockTime(0)  # never stale by age: only when its process is gone
        if not lock.tryLock(0):
            return False
        self._lock = lock
        return True

    def release(self) -> None:
        """Let go of the lock (the files stay)."""
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None

    def write(self, controller: Controller, title: str) -> None:
        """Save ``controller`` (atomically), then the note naming this process. Raises
        ControllerError or OSError (also when another running instance owns this autosave)."""
        self._dir().mkdir(parents=True, exist_ok=True)
        if not self.own():
            raise OSError(errno.EBUSY, f"another running instance owns the autosave {self.session}")
        controller.save(self.session)
        self.claim(title, controller.state.iteration)

    def claim(self, title: str, iteration: int | None) -> None:
        """(Re)write the note: this process owns the autosave now."""
        note = {"kind": KIND, "pid": os.getpid(), "saved_at": time.time(), "title": title, "iteration": iteration}
        write_atomic(self.meta, json.dumps(note).encode("utf-8"))
        self.written = True

    def remove(self) -> None:
        """Delete the autosave (a clean close, or saved elsewhere), then let go of its lock."""
        for path in (self.session, self.meta):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        self.written = False
        self.release()
