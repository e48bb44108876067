"""Write one recorded iteration to a NumPy ``.npz`` archive (no pickles)."""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np

from .engine import Trace

# Arrays that are recorded for the window but are not part of the export format.
_INTERNAL = ("loss_improvement",)


def trace_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """Every recorded array, plus the tokenizer's tables as unicode arrays."""
    out = {k: np.asarray(v) for k, v in trace.arrays.items() if k not in _INTERNAL}
    out["vocab"] = np.array(trace.corpus.vocab, dtype=np.str_)
    out["merges"] = np.array(trace.corpus.merges, dtype=np.str_).reshape(-1, 2)
    if trace.state is not None:  # which cell made the numbers, and its gate letters in computation order
        from .cells import get_cell
        cell = get_cell(trace.state.config.cell)
        out["cell"] = np.array(cell.name, dtype=np.str_)
        out["gates"] = np.array(cell.gates, dtype=np.str_)
    return out


# Temporary files are named ``.NAME.<TEMP_MARK><pid>-<random>.npz`` next to the
# target: the mark says they are ours, the pid whether their writer still runs.
TEMP_MARK = "gru-debugger-partial-"


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically: a half-written archive never appears at ``path``.

    The temporary file is removed if writing fails or is interrupted (Ctrl+C);
    one left by a run that was killed outright is removed by the next run.
    Errors name ``path``, never the temporary file."""
    path = Path(path)
    remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{TEMP_MARK}{os.getpid()}-", suffix=".npz",
                                   dir=path.parent)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path: Path, mark: str = TEMP_MARK, suffix: str = ".npz") -> list[Path]:
    """Remove temporary files of ours for ``path`` whose writer is gone; returns them.
    Only names with our mark (and ``suffix``) are touched, never any other file."""
    removed = []
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{re.escape(mark)}(\d+)-[^/]*{re.escape(suffix)}$")
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    for candidate in candidates:
        match = pattern.match(candidate.name)
        if not match or not candidate.is_file() or candidate.is_symlink() or _running(int(match.group(1))):
            continue
        try:
            candidate.unlink()
            removed.append(candidate)
        except OSError:
            pass
    return removed


def _running(pid: int) -> bool:
    """True if a process ``pid`` exists (other than this one, whose temps are never left over)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True
