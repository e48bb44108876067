"""Write one recorded iteration to a NumPy ``.npz`` archive (no pickles)."""
from __future__ import annotations

import os
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
    return out


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically: a half-written archive never appears at ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
