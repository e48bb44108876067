"""Which position "the last step" compares with, for the "Δ since last step" view.

:class:`StepTracker` follows the snapshots the controller announces and keeps
the one the user was at before the latest move of the cursor. It keeps
references only (a :class:`Snapshot` is a state, a trace and a cursor), so
following costs nothing: the previous position shares the current state and
trace. The rules:

* A **step** is any move of the cursor in the same model: Step, Step Into,
  Step Out, Continue, Run to …, and Step Back too. "Before this step" is the
  position the user was at just before that move, whichever way it went:
  after Step Back the view shows what the step back undid (values that are
  no longer computed are covered as "not computed"; weights after stepping
  back over the update show the update reversed).
* An **edit** (any change of the model: a weight, a setting, undo, redo,
  Reset, Next Iteration, a step back into the previous iteration) is not a
  step. There is no "before this step" in the new model, so the comparison
  pauses: heatmaps show plain values until the next step, which compares
  with the position the edit left the cursor at (in the new model). What an
  edit changed at the same step is what the pinned baseline is for.
* The **first step of an iteration** compares with the start of that
  iteration (cursor before any step, same model), never with the end of the
  previous iteration: Next Iteration is a change of the model.
* When the background part of an iteration finishes computing (same model,
  same cursor) nothing moves: the comparison stays.

No Qt here.
"""
from __future__ import annotations

from .snapshot import Snapshot

__all__ = ["NO_STEP_YET", "MODEL_CHANGED", "StepTracker", "position_label"]

NO_STEP_YET = "no step yet"
MODEL_CHANGED = "no step since the model changed"


def position_label(snap: Snapshot) -> str:
    """'GRU t=3' for the step the cursor has just run, 'start of the iteration' before any."""
    step = snap.step
    return "start of the iteration" if step is None else step.label


class StepTracker:
    """The snapshot now and the one the user was at before the last step (or why there is none)."""

    def __init__(self) -> None:
        self.current: Snapshot | None = None
        self.previous: Snapshot | None = None
        self.why = NO_STEP_YET   # why ``previous`` is None

    def observe(self, snap: Snapshot) -> None:
        """Follow the controller to ``snap`` (the same snapshot again changes nothing)."""
        cur = self.current
        if snap is cur:
            return
        if cur is None:
            self.previous, self.why = None, NO_STEP_YET
        elif snap.state is not cur.state:
            self.previous, self.why = None, MODEL_CHANGED
        elif snap.cursor != cur.cursor:
            # A step: keep where we were, with the newest trace of the same model (the same numbers;
            # an older trace object is not kept alive).
            self.previous = cur if cur.trace is snap.trace else Snapshot(snap.state, snap.trace, cur.cursor)
        elif self.previous is not None and self.previous.trace is not snap.trace:
            self.previous = Snapshot(snap.state, snap.trace, self.previous.cursor)
        self.current = snap

    def before(self, now: Snapshot) -> Snapshot | str:
        """The position before the last step that led to ``now``, or why there is none."""
        cur = self.current
        if cur is None or now.state is not cur.state or now.cursor != cur.cursor:
            self.observe(now)   # views may ask before the tracker heard of the change
        return self.previous if self.previous is not None else self.why
