"""Several iterations in a row: the data behind the training run's loss curve."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .controller import Controller, ControllerError
from ..analysis.faults import Fault


@dataclass(frozen=True)
class TrainingPoint:
    iteration: int
    position: int
    loss: float        # this batch through the weights before the update
    loss_after: float  # the same batch through the updated weights, fresh dropout masks (as the notebook)
    # ... and with the first pass's dropout masks: the step's effect alone (NaN when not known)
    loss_after_same_masks: float = float("nan")


class TrainingRun(list):
    """The points of a run (a list of TrainingPoint, as before), plus why it
    stopped early: ``fault`` is the numerical fault of the iteration it stopped
    at (the controller stays on that iteration), or None."""

    fault: Fault | None = None

    @property
    def stopped_at_fault(self) -> bool:
        return self.fault is not None


def train_iterations(controller: Controller, n: int, merge_key: Any = None) -> TrainingRun:
    """Finish ``n`` iterations (each: record the losses, then next batch).

    The run is one undo step (calls with the same ``merge_key`` extend it; the
    window passes one key per run). It stops at the first iteration whose trace
    holds a NaN or Inf (see ``snapshot.fault``) and stays there, the point of
    that iteration being the last one; asked to train from an iteration that
    already has a fault, it refuses with a ControllerError naming it.
    Notifications are batched: listeners hear once, at the end."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError("the number of iterations must be at least 1")
    first = controller.snapshot().fault
    if first is not None:
        raise ControllerError(f"iteration {controller.state.iteration} has a numerical fault: {first.message}; "
                              "fix it (e.g. a smaller learning rate, then Reset) before training on")
    points = TrainingRun()
    with controller.batched(), controller.grouped("Training run ({n} iterations)", merge_key):
        for _ in range(n):
            snap, state = controller.snapshot(), controller.state
            points.append(TrainingPoint(state.iteration, state.position, float(snap.trace["loss"]),
                                        float(snap.trace["loss_after"]),
                                        float(snap.trace["loss_after_same_masks"])))
            fault = snap.fault
            if fault is not None:
                points.fault = fault
                break
            if controller.can_step():
                controller.run_to_end()  # so stepping back lands on a finished iteration
            controller.next_iteration()
    return points


def training_fault(controller: Controller) -> Fault | None:
    """The fault of the iteration the controller is on (what a stopped run stopped at)."""
    return controller.snapshot().fault
