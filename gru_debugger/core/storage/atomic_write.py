"""Write a file so that it is either the old one or the new one, never half written.

Every file the program writes for the user (exported ``.npz`` arrays, weights,
sessions, autosaves) goes through :func:`write_atomic`: the content goes to a
temporary file in the target's folder, is flushed to disk (fsync), gets the
permissions of an ordinary new file under the user's umask (``mkstemp`` makes
0600), and is renamed over the target; the folder is synced so the rename
lasts too.

Temporary files are named ``.NAME.<TEMP_MARK><pid>-<random><suffix>`` next to
the target: the mark says they are ours, the pid whether their writer still
runs. One left by a writer that was killed outright is removed by the next
write to the same target (:func:`remove_stale_temps`); no other file is ever
touched.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable

TEMP_MARK = "gru-debugger-partial-"
# Marks older versions gave their temporary files (sessions had their own).
LEGACY_MARKS = ("gru-debugger-session-partial-",)


def write_atomic(path: str | os.PathLike[str], content: bytes | Callable[[BinaryIO], object]) -> Path:
    """Write ``content`` (bytes, or a function that writes to the open binary file) to ``path``
    atomically; returns the path. Raises the OSError of the step that failed (the caller names
    the target in its message); the temporary file is removed on any failure, Ctrl+C included."""
    path = Path(path)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{TEMP_MARK}{os.getpid()}-", suffix=path.suffix,
                               dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content)
            fh.flush()
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), 0o666 & ~umask())  # as an ordinary new file
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    sync_folder(path.parent)
    return path


def umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:  # Linux
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(path: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files of ours for ``path`` whose writer is gone; returns them.
    Only names made of ``.NAME.``, one of our marks, a pid and ``-`` are touched (never a
    user's file, never a temporary file whose writer still runs)."""
    path = Path(path)
    marks = "|".join(re.escape(mark) for mark in (TEMP_MARK, *LEGACY_MARKS))
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(?:{marks})(\d+)-[^/]+$")
    removed: list[Path] = []
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if not match or candidate.is_symlink() or not candidate.is_file() or process_running(int(match.group(1))):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


def process_running(pid: int) -> bool:
    """True if a process ``pid`` exists (other than this one, whose temps are never left over)."""
    if pid == os.getpid():
        return False
    if pid <= 0 or os.name == "nt":  # not a pid we write; on Windows os.kill would end the process
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True
