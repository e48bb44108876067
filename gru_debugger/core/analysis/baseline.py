"""A pinned baseline for "what if?": the differences now − baseline.

Pinning keeps the controller's current ``state`` and its ``trace`` (the pair a
:class:`Snapshot` is made of), not a copy of arrays: both are never changed,
so holding them is cheap and the numbers stay exactly as recorded. The
baseline is a reference, not part of the undo history: undo and redo change
"now", never the baseline.

Differences are taken at the same cursor: the baseline's arrays come from
``Snapshot(baseline.state, baseline.trace, now.cursor)``, so an array that
does not exist yet at the cursor does not exist in either. ``now - base`` is
computed in float64 from the two recorded arrays, so it is exact for float32
values (and for float64 ones up to one rounding of the subtraction).
No Qt here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.engine import ModelState, Trace
from .snapshot import Snapshot

__all__ = ["Baseline", "NotComparable", "baseline_snapshot", "comparable", "diff", "difference", "pin"]


@dataclass(frozen=True)
class Baseline:
    """The state and trace pinned, and where it was pinned (for the status line)."""

    state: ModelState
    trace: Trace
    iteration: int
    text: str = ""   # what the state came from, e.g. the last change ("Set x2g.weight[0, 0] = 1")

    def describe(self) -> str:
        origin = f"after “{self.text}”" if self.text else "before any change"
        return f"Baseline pinned at iteration {self.iteration} ({origin}; kept through undo and redo)"


@dataclass(frozen=True)
class NotComparable:
    """The array cannot be compared with the baseline; ``reason`` says why."""

    reason: str

    def __str__(self) -> str:
        return f"not comparable ({self.reason})"


def pin(controller) -> Baseline:
    """The controller's current state and trace as a baseline."""
    texts = controller.undo_texts
    return Baseline(controller.state, controller.snapshot().trace, controller.state.iteration,
                    texts[-1] if texts else "")


def comparable(now: Snapshot, baseline: Baseline) -> NotComparable | None:
    """Why no array of ``now`` can be compared at its cursor, or None if they can be.

    The cursor means the same step only if both iterations have the same steps
    (the same T and the same cell)."""
    cfg, base = now.config, baseline.state.config
    if cfg.cell != base.cell:
        return NotComparable(f"the cell changed: {base.cell.upper()} then, {cfg.cell.upper()} now")
    if cfg.context_length != base.context_length:
        return NotComparable(f"T changed: {base.context_length} then, {cfg.context_length} now")
    return None


def baseline_snapshot(now: Snapshot, baseline: Baseline) -> Snapshot | NotComparable:
    """The baseline at ``now``'s cursor, or why it has no such cursor."""
    why = comparable(now, baseline)
    if why is not None:
        return why
    return Snapshot(baseline.state, baseline.trace, now.cursor)


def difference(now: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | NotComparable:
    """(now, base, now − base), all float64, or NotComparable if the shapes differ."""
    now = np.asarray(now)
    base = np.asarray(base)
    if now.shape != base.shape:
        return NotComparable(f"was {_shape(base.shape)}, now {_shape(now.shape)}")
    if now.dtype.kind not in "fiu" or base.dtype.kind not in "fiu":
        return NotComparable("not numbers")
    now64, base64 = now.astype(np.float64), base.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        delta = now64 - base64
    return now64, base64, delta


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape)) or "scalar"


def diff(now: Snapshot, baseline: Baseline, key: str
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | NotComparable | None:
    """(now, base, now − base) of the array ``key`` at ``now``'s cursor.

    None if ``key`` is not computed yet at the cursor; NotComparable if the
    baseline has no such array or a different shape, or the steps differ."""
    value = now.get(key)
    if value is None:
        return None
    base_snap = baseline_snapshot(now, baseline)
    if isinstance(base_snap, NotComparable):
        return base_snap
    try:
        base = base_snap.get(key)
    except KeyError:
        return NotComparable(f"the baseline has no {key}")
    if base is None:  # same steps, so this only happens for arrays the baseline's cell does not make
        return NotComparable(f"the baseline has no {key} at this step")
    return difference(value, base)
