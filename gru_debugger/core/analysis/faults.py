"""Numerical faults, located: the first NaN or Inf of an iteration in the order
the computation produced it, with its timestep.

The arrays are scanned in computation order: the weights, the embedding and
the dropped input, then the cell's per-timestep arrays for t = 0, 1, … in the
cell's order (``cell.writes``), the head's input, logits, probabilities and
losses; then back-propagation: the logits' gradient, the per-timestep
gradients from t = T-1 down, the parameter gradients, the update steps, the
updated weights and the second forward pass. Within a time-indexed group the
earliest timestep wins (the latest one going backward), so the answer is the
first value that went bad, not the first array that happens to hold one.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from ..model.cells import get_cell
from ..base.config import PARAM_NAMES
from ..model.engine import Trace
from ..model.phases import phase_title


@dataclass(frozen=True)
class Fault:
    key: str            # the array (export name), e.g. "z" or "grad/h"
    phase: str          # the phase that computes it
    t: int | None       # its timestep, for per-timestep arrays
    kind: str           # "NaN", "Inf" or "-Inf"
    index: tuple[int, ...]  # where in the array the first such value sits
    message: str        # one readable sentence


_CACHE: "weakref.WeakKeyDictionary[Trace, Fault | None]" = weakref.WeakKeyDictionary()
_PROVISIONAL: "weakref.WeakKeyDictionary[Trace, None]" = weakref.WeakKeyDictionary()  # forward part clean
_NONE = object()


def find_fault(trace: Trace, cell_name: str) -> Fault | None:
    """The first non-finite value of ``trace`` in computation order, or None.
    Computed once per trace (the answer is kept as long as the trace lives)."""
    found = _CACHE.get(trace, _NONE)
    if found is _NONE:
        complete = trace.complete
        if not complete and trace in _PROVISIONAL:
            return _PROVISIONAL[trace]
        found = _scan(trace, cell_name, complete)
        if complete or found is not None:  # a fault in the forward part is the first one whatever follows
            _CACHE[trace] = found
        else:  # nothing bad in the forward part: asked again once the rest is computed
            _PROVISIONAL[trace] = None
    return found  # type: ignore[return-value]


def _bad_time(arr: np.ndarray) -> np.ndarray:
    """Per timestep of a (B, T, …) array: does it hold a non-finite value?"""
    bad = ~np.isfinite(arr)
    return bad.reshape(bad.shape[0], bad.shape[1], -1).any(axis=(0, 2))


class _Ready:
    """The arrays of a trace whose background part is still running: only those already there
    (the scan does not wait; the answer is provisional until the trace is complete)."""

    def __init__(self, trace: Trace):
        self.trace = trace

    def __contains__(self, key: str) -> bool:
        return self.trace.ready(key)

    def __getitem__(self, key: str):
        return self.trace.arrays[key]


def _scan(trace: Trace, cell_name: str, complete: bool = True) -> Fault | None:
    a = trace.arrays if complete else _Ready(trace)
    cell = get_cell(cell_name)

    def whole(keys: list[str], phase_of: dict[str, str]) -> Fault | None:
        for key in keys:
            if key in a and not np.isfinite(a[key]).all():
                return _fault(trace, key, phase_of.get(key), None, cell_name)
        return None

    def timed(keys: list[str], phase: str, backward: bool) -> Fault | None:
        best: tuple[int, int, str] | None = None
        for order, key in enumerate(keys):
            if key not in a or np.isfinite(a[key]).all():
                continue
            ts = np.flatnonzero(_bad_time(a[key]))
            t = int(ts.max() if backward else ts.min())
            rank = (-t if backward else t, order, key)
            best = rank if best is None or rank < best else best
        if best is None:
            return None
        key = best[2]
        return _fault(trace, key, phase, abs(best[0]), cell_name)

    params = [f"param/{n}" for n in PARAM_NAMES]
    forward_in = ["embedded", "x_in"]
    forward_out = ["h_out", "logits", "probs", "loss_per_position", "loss"]
    per_t_back = ["grad/h"] + [f"grad/{g}" for g in reversed(cell.gates) if g != "h"] + \
        ["grad/gh", "grad/gx", "grad/embedded"]
    steps = [
        lambda: whole(params, dict.fromkeys(params, "embed")),
        lambda: whole(forward_in, {"embedded": "embed", "x_in": "dropout_in"}),
        lambda: timed(list(cell.writes), "cell", backward=False),
        lambda: whole(forward_out, {"h_out": "dropout_out", "logits": "head", "probs": "loss",
                                    "loss_per_position": "loss", "loss": "loss"}),
        lambda: whole(["grad/logits"], {"grad/logits": "backward"}),
        lambda: timed(per_t_back, "backward", backward=True),
        lambda: whole([*cell.last_keys] + [f"grad/{n}" for n in PARAM_NAMES], {}),
        lambda: whole([f"update/{n}" for n in PARAM_NAMES] + [f"updated/{n}" for n in PARAM_NAMES], {}),
        lambda: timed(["after/h"], "forward_after", backward=False),
        lambda: whole(["after/logits", "after/probs", "after/loss_per_position", "loss_after"], {}),
    ]
    for step in steps:
        found = step()
        if found is not None:
            return found
    return None


def _phase_for(key: str, given: str | None) -> str:
    if given:
        return given
    if key.startswith(("update/", "updated/")):
        return "update"
    if key.startswith("after/") or key == "loss_after":
        return "forward_after"
    return "backward"


def _fault(trace: Trace, key: str, phase: str | None, t: int | None, cell_name: str) -> Fault:
    phase = _phase_for(key, phase)
    arr = trace.arrays[key]
    if t is not None:
        part = arr[:, t]
        flat = int(np.flatnonzero(~np.isfinite(part))[0])
        inner = np.unravel_index(flat, part.shape)
        index = (int(inner[0]), t, *map(int, inner[1:]))
    else:
        flat = int(np.flatnonzero(~np.isfinite(arr))[0]) if arr.ndim else 0
        index = tuple(int(i) for i in np.unravel_index(flat, arr.shape)) if arr.ndim else ()
    value = float(arr[index])
    kind = "NaN" if np.isnan(value) else ("Inf" if value > 0 else "-Inf")
    where = f"{phase_title(phase, cell_name)}" + (f" at t={t}" if t is not None else "")
    at = f"[{', '.join(map(str, index))}]" if index else ""
    message = f"the first non-finite value ({kind}) appears in {key}{at}, during {where}"
    return Fault(key, phase, t, kind, index, message)
