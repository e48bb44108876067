"""Several iterations in a row: the data behind the training run's loss curve."""
from __future__ import annotations

from dataclasses import dataclass

from .controller import Controller


@dataclass(frozen=True)
class TrainingPoint:
    iteration: int
    position: int
    loss: float        # this batch through the weights before the update
    loss_after: float  # the same batch through the updated weights


def train_iterations(controller: Controller, n: int) -> list[TrainingPoint]:
    """Finish ``n`` iterations (each: record the losses, then next batch).

    Notifications are batched: listeners hear once, at the end."""
    if n < 1:
        raise ValueError("the number of iterations must be at least 1")
    points = []
    with controller.batched():
        for _ in range(n):
            trace, state = controller.snapshot().trace, controller.state
            points.append(TrainingPoint(state.iteration, state.position, float(trace["loss"]),
                                        float(trace["loss_after"])))
            if controller.can_step():
                controller.run_to_end()  # so stepping back lands on a finished iteration
            controller.next_iteration()
    return points
