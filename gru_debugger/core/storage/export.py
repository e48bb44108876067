"""Write one recorded iteration to a NumPy ``.npz`` archive (no pickles)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .atomic_write import TEMP_MARK, remove_stale_temps, write_atomic
from ..model.engine import Trace

__all__ = ["TEMP_MARK", "remove_stale_temps", "trace_arrays", "write_npz"]

# Arrays that are recorded for the window but are not part of the export format.
_INTERNAL = ("loss_improvement",)


def trace_arrays(trace: Trace) -> dict[str, np.ndarray]:
    """Every recorded array, plus the tokenizer's tables as unicode arrays."""
    out = {k: np.asarray(v) for k, v in trace.arrays.items() if k not in _INTERNAL}
    out["vocab"] = np.array(trace.corpus.vocab, dtype=np.str_)
    out["merges"] = np.array(trace.corpus.merges, dtype=np.str_).reshape(-1, 2)
    if trace.state is not None:  # which cell made the numbers, and its gate letters in computation order
        from ..model.cells import get_cell
        cell = get_cell(trace.state.config.cell)
        out["cell"] = np.array(cell.name, dtype=np.str_)
        out["gates"] = np.array(cell.gates, dtype=np.str_)
    return out


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically (core/storage/atomic_write): a half-written archive never appears at ``path``.

    The temporary file is removed if writing fails or is interrupted (Ctrl+C);
    one left by a run that was killed outright is removed by the next run.
    Errors name ``path``, never the temporary file."""
    path = Path(path)
    try:
        write_atomic(path, lambda fh: np.savez(fh, **arrays))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write {path}: {exc.strerror or exc}", str(path)) from None
