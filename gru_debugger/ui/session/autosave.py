"""Autosave files and what a crashed run left behind (no widgets here).

Unsaved work is written to ``<data folder>/autosave/<id>.grus`` (a session
file) with ``<id>.json`` next to it: the writer's process id, when, and a
title. A pair whose process is no longer running is an orphan: the window
offers to restore it at start-up. Only this folder is ever written or
cleaned, and in it only files named like ours.

The data folder is Qt's AppDataLocation (on Linux
``~/.local/share/gru-debugger/GRU Debugger``); the environment variable
``GRU_DEBUGGER_DATA_DIR`` replaces it (tests point it at a temporary folder).
"""
from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6 import QtCore

from ...core.controller import Controller

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
    """An autosave whose writer is gone."""

    session: Path      # <id>.grus
    meta: Path         # <id>.json
    pid: int
    title: str
    saved_at: float    # seconds since the epoch
    iteration: int | None

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.saved_at)) if self.saved_at else "an unknown time"
        it = f", iteration {self.iteration}" if self.iteration is not None else ""
        return f"{self.title}{it} (autosaved {when})"

    def discard(self) -> None:
        for path in (self.session, self.meta):
            path.unlink(missing_ok=True)


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
    """Autosaves left by processes that are no longer running, newest first."""
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
        if data is None or not session.is_file() or pid_alive(data["pid"]):
            continue
        saved = data.get("saved_at")
        iteration = data.get("iteration")
        found.append(Orphan(session, meta, data["pid"], str(data.get("title") or "untitled"),
                            float(saved) if isinstance(saved, (int, float)) else 0.0,
                            iteration if isinstance(iteration, int) else None))
    return sorted(found, key=lambda o: o.saved_at, reverse=True)


class AutosaveFile:
    """One window's autosave pair; written with :meth:`write`, removed with :meth:`remove`."""

    def __init__(self, ident: str):
        if not _NAME.match(ident):
            raise ValueError(f"not an autosave id: {ident!r}")
        self.ident = ident
        self.written = False

    @property
    def session(self) -> Path:
        return autosave_dir() / f"{self.ident}.grus"

    @property
    def meta(self) -> Path:
        return autosave_dir() / f"{self.ident}.json"

    def write(self, controller: Controller, title: str) -> None:
        """Save ``controller`` (atomically), then the note naming this process. Raises
        ControllerError or OSError."""
        folder = autosave_dir()
        folder.mkdir(parents=True, exist_ok=True)
        controller.save(self.session)
        self.claim(title, controller.state.iteration)

    def claim(self, title: str, iteration: int | None) -> None:
        """(Re)write the note: this process owns the autosave now."""
        note = {"kind": KIND, "pid": os.getpid(), "saved_at": time.time(), "title": title, "iteration": iteration}
        fd, tmp = tempfile.mkstemp(prefix=f".{self.ident}.", suffix=".part", dir=self.meta.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(note, fh)
            os.replace(tmp, self.meta)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.written = True

    def remove(self) -> None:
        for path in (self.session, self.meta):
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass
        self.written = False
