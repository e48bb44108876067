"""A read-only view of the debugger at one cursor position.

Views ask a snapshot for arrays by name (the names of the export format).
Arrays that the computation has not produced yet at the cursor are
``None`` ("not computed"), never zeros; time-indexed arrays also say which
timesteps exist so far (:meth:`Snapshot.time_mask`).
"""
from __future__ import annotations

import weakref
from functools import lru_cache
from typing import Any, Callable, Mapping

import numpy as np

from ..model.cells import Cell, get_cell
from ..base.config import PARAM_NAMES, Config
from ..model.engine import ModelState, Trace, accumulated_grads
from ..model.phases import PHASES, Step, build_steps
# Whole arrays and the phase that produces them.
PHASE_OF: dict[str, str] = {
    "tokens": "tokenize", "x": "batch", "y": "batch", "embedded": "embed",
    "dropout_in_mask": "dropout_in", "x_in": "dropout_in",
    "dropout_out_mask": "dropout_out", "h_out": "dropout_out",
    "logits": "head", "probs": "loss", "loss": "loss", "loss_per_position": "loss",
    "grad/logits": "backward", "loss_after": "forward_after", "loss_improvement": "forward_after",
    "loss_after_same_masks": "forward_after",
}
for _name in PARAM_NAMES:
    PHASE_OF[f"grad/{_name}"] = "backward"
    PHASE_OF[f"update/{_name}"] = "update"
    PHASE_OF[f"updated/{_name}"] = "update"


@lru_cache(maxsize=32)
def step_index(T: int, cell: str = "gru") -> Mapping[Step, int]:
    return {step: i for i, step in enumerate(build_steps(T, cell))}


@lru_cache(maxsize=32)
def phase_start(T: int, cell: str = "gru") -> Mapping[str, int]:
    starts: dict[str, int] = {}
    for i, step in enumerate(build_steps(T, cell)):
        starts.setdefault(step.phase, i)
    return starts


@lru_cache(maxsize=32)
def phase_end(T: int, cell: str = "gru") -> Mapping[str, int]:
    return {step.phase: i for i, step in enumerate(build_steps(T, cell))}


# Kept as long as its trace lives: an lru_cache held up to 8 whole traces (1 GB at the large
# sizes) past the controller's trace budget.
_NON_FINITE: "weakref.WeakKeyDictionary[Trace, tuple[str, ...]]" = weakref.WeakKeyDictionary()


def _non_finite_keys(trace: Trace) -> tuple[str, ...]:
    """Arrays of a trace (which never changes) that hold NaN or Inf."""
    found = _NON_FINITE.get(trace)
    if found is None:
        found = tuple(k for k, a in trace.arrays.items() if a.dtype.kind == "f" and not np.isfinite(a).all())
        _NON_FINITE[trace] = found
    return found


_SUMMED: "weakref.WeakKeyDictionary[Trace, tuple[int, dict]]" = weakref.WeakKeyDictionary()  # _partial_grads
_ONCE: "weakref.WeakKeyDictionary[Trace, dict]" = weakref.WeakKeyDictionary()  # Snapshot.once
_BAD: "weakref.WeakKeyDictionary[Trace, dict[str, bool]]" = weakref.WeakKeyDictionary()


def _bad_array(trace: Trace, key: str) -> bool:
    """Does array ``key`` hold NaN or Inf (kept per trace and key)?"""
    known = _BAD.setdefault(trace, {})
    if key not in known:
        a = trace[key]
        known[key] = a.dtype.kind == "f" and not np.isfinite(a).all()
    return known[key]


class Snapshot:
    """Immutable: the state, its trace and a cursor. Cheap to make."""

    def __init__(self, state: ModelState, trace: Trace, cursor: int, reasons: frozenset[str] = frozenset()):
        self.state = state
        self.trace = trace
        self.cursor = cursor
        self.reasons = reasons  # what changed since the last snapshot: cursor, model, history
        self.steps = build_steps(state.config.context_length, state.config.cell)
        self._accumulated: dict[str, np.ndarray] | None = None

    def ahead(self) -> "Snapshot | None":
        """The snapshot one step on in this iteration (what Step will show), or None at its end:
        for views that prepare the next click's picture in idle time."""
        from ..model.phases import step_target
        if self.cursor + 1 >= len(self.steps):
            return None
        return Snapshot(self.state, self.trace, step_target(self.steps, self.cursor))

    def same_as(self, other: "Snapshot") -> bool:
        """The same numbers at the same position (two snapshots of one controller state)."""
        return self.state is other.state and self.trace is other.trace and self.cursor == other.cursor

    # --- where we are -------------------------------------------------
    @property
    def config(self) -> Config:
        return self.state.config

    @property
    def step(self) -> Step | None:
        return self.steps[self.cursor] if self.cursor >= 0 else None

    @property
    def next_step(self) -> Step | None:
        return self.steps[self.cursor + 1] if self.cursor + 1 < len(self.steps) else None

    @property
    def at_end(self) -> bool:
        return self.cursor == len(self.steps) - 1

    @property
    def cell(self) -> Cell:
        return get_cell(self.config.cell)

    @property
    def vocab(self) -> tuple[str, ...]:
        return self.trace.corpus.vocab

    def phase_done(self, phase: str) -> bool:
        """True once the phase has started running (its first step is done)."""
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}")
        return self.cursor >= phase_start(self.config.context_length, self.config.cell)[phase]

    def phase_complete(self, phase: str) -> bool:
        return self.cursor >= phase_end(self.config.context_length, self.config.cell)[phase]

    def done(self, step: Step) -> bool:
        return self.cursor >= step_index(self.config.context_length, self.config.cell)[step]

    # --- the numbers --------------------------------------------------
    def time_mask(self, key: str) -> np.ndarray | None:
        """Which timesteps of a (B, T, ...) array exist at the cursor; None if
        the array is not time-indexed while it is being computed."""
        masks = self.__dict__.setdefault("_time_masks", {})  # a snapshot never changes: once per key
        if key in masks:
            return masks[key]
        T = self.config.context_length
        cell = self.cell
        writes = cell.writes
        if key in writes:
            mask = np.array([self.done(Step("cell", t, writes[key])) for t in range(T)])
        elif key in cell.grad_keys or key == "grad/embedded":
            mask = np.array([self.done(Step("backward", t)) for t in range(T)])
        else:
            mask = None
        if mask is not None:
            mask.flags.writeable = False
        masks[key] = mask
        return mask

    def available(self, key: str) -> bool:
        if key.startswith("param/"):
            return True
        if key.startswith("after/"):
            return self.phase_done("forward_after")
        mask = self.time_mask(key)
        if mask is not None:
            return bool(mask.any())
        if key in PHASE_OF:
            return self.phase_done(PHASE_OF[key])
        if key in self.trace:
            return self.phase_done("forward_after")
        raise KeyError(f"no array named {key!r}")

    def get(self, key: str) -> np.ndarray | None:
        """The array as it stands at the cursor, or None if not computed yet.

        During backward, parameter gradients are the sums so far (they fill
        in as back-propagation walks from t = T-1 down to 0)."""
        if not self.available(key):
            return None
        name = key.removeprefix("grad/")
        if key.startswith("grad/") and name in PARAM_NAMES and not self.phase_complete("backward"):
            return self._partial_grads()[name]
        return self.trace[key]

    # --- named look-ahead: whole arrays regardless of the cursor ------
    def final(self, key: str) -> np.ndarray:
        """The array as the iteration computes it, whether or not the cursor
        has reached it. Only for what must not jump while stepping (fixed
        colour scales, axis labels); numbers on screen come from :meth:`get`."""
        return self.trace[key]

    def once(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """``compute()``, kept with this iteration's numbers under ``key`` (they never change):
        for what views derive from whole arrays on every step, e.g. colour ranges."""
        found = _ONCE.setdefault(self.trace, {})
        if key not in found:
            found[key] = compute()
        return found[key]

    def final_if_ready(self, key: str) -> np.ndarray | None:
        """:meth:`final`, or None while the background part of the iteration that computes ``key``
        is still running (the controller announces its end with reason ``"computed"``)."""
        return self.trace[key] if self.trace.ready(key) else None

    def final_roundoff_mask(self, key: str) -> np.ndarray | None:
        """Where the whole recorded ``key`` (not a partial sum) is round-off, or None (look-ahead, as final)."""
        from .roundoff import FAMILIES, roundoff_mask
        if not key.startswith(FAMILIES) or key not in self.trace:
            return None
        return roundoff_mask(self.trace, key)

    def starting_param(self, name: str) -> np.ndarray:
        """The weights at the start of the iteration (before the update)."""
        return self.trace[f"param/{name}"]

    @property
    def corpus(self):
        """The tokenized corpus: token stream, vocabulary, merges."""
        return self.trace.corpus

    def non_finite(self) -> list[str]:
        """Computed arrays (at the cursor) that hold NaN or Inf."""
        if self.trace.complete:
            return [key for key in _non_finite_keys(self.trace) if self.available(key)]
        # The background part (back-propagation onwards) is still running: it is read (waited
        # for) only once the cursor is past the loss; the forward arrays are checked first, as
        # asking each array whether the cursor has reached it costs more than the check.
        trace, past_loss = self.trace, self.phase_done("loss")
        return [key for key in trace.arrays if (past_loss or trace.ready(key))
                and _bad_array(trace, key) and self.available(key)]

    def diagnosis(self):
        """Why the gradient into the cell vanishes for a structural reason, or None (core.diagnosis)."""
        from .diagnosis import gradient_diagnosis
        return self.once(("diagnosis",), lambda: gradient_diagnosis(self.trace))  # the iteration's, once

    def compare_cells(self):
        """This batch through every cell (core.compare)."""
        from .compare import compare_cells
        return compare_cells(self.state, self.trace)

    def param(self, name: str) -> np.ndarray:
        """The weights as they are at the cursor: updated once the update ran."""
        key = f"updated/{name}" if self.phase_done("update") else f"param/{name}"
        return self.trace[key]

    def _partial_grads(self) -> dict[str, np.ndarray]:
        if self._accumulated is None:
            step = self.step
            assert step is not None and step.phase == "backward"
            t = step.t or 0
            nearest = _SUMMED.get(self.trace)  # the last sums of this iteration: one step back costs one step
            if nearest is not None and nearest[0] == t:
                grads = nearest[1]  # the same position again (a view prepared it ahead): the same arrays
            else:
                grads = accumulated_grads(self.trace, t, nearest)
                for arr in grads.values():
                    arr.flags.writeable = False
                _SUMMED[self.trace] = (t, grads)
            self._accumulated = grads
        return self._accumulated

    def roundoff_mask(self, key: str) -> np.ndarray | None:
        """Where ``get(key)`` is rounding noise (zero in exact arithmetic), as a
        bool mask of its shape; None if none of it is, or not computed yet.
        The first call on an iteration recomputes it in float64 (see core/analysis/roundoff)."""
        from .roundoff import roundoff_mask
        if not self.available(key):
            return None
        mask = roundoff_mask(self.trace, key)
        if mask is None:
            return None
        value = self.get(key)  # during backward, a partial sum: only its non-zero elements count
        return mask & (value != 0) if value is not None and value.shape == mask.shape else mask

    def change_roundoff_mask(self, name: str) -> np.ndarray | None:
        """Where the update moved parameter ``name`` only by round-off (in exact arithmetic it keeps
        its value), as a bool mask shaped like ``get("updated/<name>")``; None before the update or
        where no weight is (see core/analysis/roundoff)."""
        from .roundoff import change_roundoff_mask
        if not self.phase_done("update"):
            return None
        return change_roundoff_mask(self.trace, name)

    def final_change_roundoff_mask(self, name: str) -> np.ndarray | None:
        """:meth:`change_roundoff_mask` looked up ahead, before the update has run (for colour
        scales fixed for the whole iteration); None while the round-off check has not run."""
        from .roundoff import change_roundoff_mask
        return change_roundoff_mask(self.trace, name)

    def roundoff_known(self) -> bool:
        """Has the iteration's round-off check run (its answers cost nothing now)?"""
        from .roundoff import known
        return known(self.trace)

    def precision_known(self):
        """(done, answer) of the float32 precision check, without computing it: the window shows
        the answer once a worker has found it (see :meth:`start_precision_check`)."""
        from .precision import known
        return known(self.trace)

    def start_precision_check(self) -> None:
        """Start the float32 precision check of this iteration on a worker (if not already)."""
        from .precision import start
        from .roundoff import prepare
        start(self.trace, prepare)   # one float64 pass answers it and the round-off marks

    @property
    def precision(self):
        """Whether float32 resolves this iteration's forward pass: a precision.Unresolved naming the
        first value that differs from its float64 value by more than the tolerance, or None
        (float64 runs, and float32 runs it resolves). Computed once per iteration (see core/analysis/precision)."""
        from .precision import unresolved
        return unresolved(self.trace)

    def is_roundoff(self, key: str) -> bool:
        """True when the whole (full) array ``key`` is rounding noise."""
        from .roundoff import is_roundoff
        return self.available(key) and is_roundoff(self.trace, key)

    @property
    def fault(self):
        """The iteration's first NaN/Inf in computation order (a faults.Fault:
        key, phase, t, kind, index, message), or None; computed once per trace."""
        from .faults import find_fault
        return find_fault(self.trace, self.config.cell)

    @property
    def loss(self) -> float | None:
        value = self.get("loss")
        return None if value is None else float(value)
