"""Whether float32 can resolve an iteration's forward pass at all.

Round-off marks (core/analysis/roundoff) say which small numbers are noise. This is the
other failure: a recurrence that amplifies rounding (a chaotic forward pass,
as in the exploding RNN example) gives float32 numbers whose digits are not the
example's but the machine's. The forward pass is recomputed in float64 (the
same weights cast, batch and dropout masks, as the round-off shadow) and each
forward value is compared with it, in computation order: the cell's arrays
timestep by timestep (gx, gh, the gates, c and h at t = 0, then t = 1, …), then
the logits, then the loss.

A value is unresolved when

    |float32 value − float64 value| > RESOLVE_RTOL · scale,

where ``scale`` is the largest |float64 value| of its tensor (the whole array,
all timesteps). Float32's unit round-off is 2^-24 ≈ 6e-8; a forward pass that
does not amplify rounding keeps this error within a few units (measured at
most 1.5e-7 of the scale on every shipped example but the exploding one, over
T = 32 timesteps and sums of up to V terms). RESOLVE_RTOL = 1e-3 leaves a
factor of about 10^4 for honest amplification, and an error above it means the
third significant digit is no longer the example's own. The exploding example
passes it at t ≈ 25 (its error in h grows from 1e-8 at t = 0 to 1e-2 at
t = 31; the exact timestep depends on the machine's rounding). A float64
run is its own reference: nothing to report.

The float64 forward arrays come from the round-off check's float64 pass
(core/analysis/roundoff), so the two checks cost one recomputation; asked on
its own (a script), the check runs a float64 forward pass without autograd.
Either way it runs once per iteration, and only its answer is kept.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from ..model.cells import get_cell
from ..model.engine import Trace, _forward_part
from ..model.shadow import shadow_state

RESOLVE_RTOL = 1e-3


@dataclass(frozen=True)
class Unresolved:
    key: str                 # the forward array, e.g. "h"
    t: int | None            # its timestep (None for the loss)
    index: tuple[int, ...]   # the element that differs most at that timestep
    value32: float
    value64: float
    scale: float             # largest |float64 value| of the array
    message: str             # one readable sentence, with the suggestion

    @property
    def error(self) -> float:
        return abs(self.value32 - self.value64)

    @property
    def short(self) -> str:
        """The status bar's words."""
        at = f", t={self.t}" if self.t is not None else ""
        return f"⚠ float32 cannot resolve this example ({self.key}{at}): use float64"


_cache: "weakref.WeakKeyDictionary[Trace, Unresolved | None]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_NOT_YET = object()


def forward_keys(cell_name: str) -> tuple[str, ...]:
    """The per-timestep forward arrays compared, in the cell's order (the block slices are views
    of gx and gh: left out)."""
    cell = get_cell(cell_name)
    return tuple(k for k in cell.writes if k not in cell.split_names)


def _first_unresolved(trace: Trace, exact: Mapping[str, np.ndarray] | None = None) -> Unresolved | None:
    state = trace.state
    if state is None or state.config.dtype != "float32":
        return None
    if exact is None:
        exact, _ = _forward_part(shadow_state(state), graph=False, inputs=trace.inputs)  # no tokenizer cache
    cfg = state.config
    timed = forward_keys(cfg.cell)
    scales = {k: float(np.abs(exact[k]).max()) if exact[k].size else 0.0 for k in (*timed, "logits", "loss")}

    def off(key: str, part32: np.ndarray, part64: np.ndarray) -> np.ndarray:
        err = np.abs(np.asarray(part32, np.float64) - part64)
        return np.where(np.isfinite(err), err, 0.0) > RESOLVE_RTOL * scales[key]  # NaN/Inf: core/analysis/faults

    for t in range(cfg.context_length):
        for key in timed:
            if off(key, trace[key][:, t], exact[key][:, t]).any():
                return _found(trace, exact, key, t, scales[key])
    for t in range(cfg.context_length):
        if off("logits", trace["logits"][:, t], exact["logits"][:, t]).any():
            return _found(trace, exact, "logits", t, scales["logits"])
    if off("loss", trace["loss"], exact["loss"]).any():
        return _found(trace, exact, "loss", None, scales["loss"])
    return None


def _found(trace: Trace, exact, key: str, t: int | None, scale: float) -> Unresolved:
    got, want = np.asarray(trace[key], np.float64), np.asarray(exact[key], np.float64)
    if t is not None:
        part = np.abs(got[:, t] - want[:, t])
        inner = np.unravel_index(int(np.nanargmax(part)), part.shape)
        index = (int(inner[0]), t, *map(int, inner[1:]))
    else:
        index = ()
    v32, v64 = float(got[index]), float(want[index])
    at = f"[{', '.join(map(str, index))}]" if index else ""
    message = (f"float32 cannot resolve this example: {key}{at}" + (f" (timestep t={t})" if t is not None else "")
               + f" is {v32:.6g} in float32 and {v64:.6g} in float64, a difference of {abs(v32 - v64):.1e}, "
               f"more than {RESOLVE_RTOL:g} of the array's scale {scale:.3g}. The forward pass amplifies "
               "rounding, so float32's digits from here on depend on the machine; switch to float64 "
               "(Hyperparameters → Precision, config \"dtype\": \"float64\").")
    return Unresolved(key, t, index, v32, v64, scale, message)


def known(trace: Trace) -> tuple[bool, Unresolved | None]:
    """(whether the check of ``trace`` has run, its answer): never computes (for the window's thread)."""
    with _lock:
        found = _cache.get(trace, _NOT_YET)
    return (False, None) if found is _NOT_YET else (True, found)  # type: ignore[return-value]


def unresolved(trace: Trace) -> Unresolved | None:
    """The first forward value of ``trace`` that float32 does not resolve (see the module
    docstring), or None; computed once per trace."""
    done, found = known(trace)
    if done:
        return found
    found = _first_unresolved(trace)
    with _lock:
        _cache[trace] = found
    return found


def remember(trace: Trace, exact: Mapping[str, np.ndarray]) -> None:
    """Answer the check of ``trace`` from its float64 forward arrays ``exact``, computed already
    (the round-off check's pass, core/analysis/roundoff): no second float64 forward pass."""
    if known(trace)[0]:
        return
    found = _first_unresolved(trace, exact)
    with _lock:
        _cache[trace] = found


def prepare(trace_ref: "weakref.ref[Trace]") -> None:
    """Run the check of the trace ``trace_ref`` points to, if it still exists (for a worker)."""
    trace = trace_ref()
    if trace is not None:
        unresolved(trace)


_worker = None
_queued: list = []


def start(trace: Trace, job: Callable[["weakref.ref[Trace]"], None] = prepare) -> None:
    """Run the check of ``trace`` on a worker thread unless it is known (a queued check of another
    trace that has not started is dropped); read the answer with :func:`known`. ``job`` computes
    it: the snapshot passes the round-off check's, whose one float64 pass answers both."""
    global _worker
    if known(trace)[0]:
        return
    if _worker is None:
        from concurrent.futures import ThreadPoolExecutor
        _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gru-debugger-precision")
    for queued in _queued:
        queued.cancel()
    _queued[:] = [_worker.submit(job, weakref.ref(trace))]
