"""Train for N iterations with a live loss curve; pause, stop, step back in."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ..widgets.subscribe import subscribe
from ...core.control.controller import Controller, ControllerError
from ...core.analysis.faults import Fault
from ...core.control.training import TrainingPoint, TrainingRun, train_iterations

REFRESH_MS = 50  # views follow at most 20 times a second


class TrainingPanel(QtWidgets.QWidget):
    finished = QtCore.Signal()
    message = QtCore.Signal(str)

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.points: list[TrainingPoint] = []
        self.remaining = 0
        self.run_key: object | None = None  # one merge key per run: its pause/resume ticks are one undo step
        self.fault: Fault | None = None     # the fault the last run stopped at
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self._tick)

        self.count = QtWidgets.QSpinBox(self)
        self.count.setObjectName("train-count")
        self.count.setRange(1, 100_000)
        self.count.setValue(50)
        self.speed = QtWidgets.QSpinBox(self)
        self.speed.setObjectName("train-speed")
        self.speed.setRange(1, 1000)
        self.speed.setValue(20)
        self.speed.setSuffix(" it/s")
        self.play = QtWidgets.QPushButton("Train", self)
        self.play.setObjectName("train-play")
        self.play.setToolTip("Run the iterations (each: forward, backward, update, next batch)")
        self.play.clicked.connect(self.toggle)
        self.stop_button = QtWidgets.QPushButton("Stop", self)
        self.stop_button.setObjectName("train-stop")
        self.stop_button.setToolTip("Stop; the window stays at the start of the next iteration (Alt+Left steps back)")
        self.stop_button.clicked.connect(self.stop)
        self.clear = QtWidgets.QPushButton("Clear curve", self)
        self.clear.clicked.connect(self.clear_curve)
        self.status = QtWidgets.QLabel(self.STATUS, self)
        self.status.setWordWrap(True)

        controls = QtWidgets.QHBoxLayout()
        for widget in (QtWidgets.QLabel("Iterations", self), self.count, QtWidgets.QLabel("Speed", self), self.speed,
                       self.play, self.stop_button, self.clear):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.plot = pg.PlotWidget(parent=self)
        self.plot.setLabel("bottom", "iteration")
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.addLegend(offset=(-8, 8))
        self.before_curve = self.plot.plot([], [], pen=pg.mkPen("#4a90d9", width=2), name="before update")
        # The same masks as the pass before the update: the gap is the step's effect alone (fresh masks
        # would add the change of dropout noise to it).
        self.after_curve = self.plot.plot([], [], pen=pg.mkPen("#d0342c", width=2),
                                          name="after update (same dropout masks)")
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        self._update_buttons()
        subscribe(controller.changed, self, self._on_changed)

    STATUS = ("Loss of each batch before and after its update; after it with the same dropout masks, so the gap "
              "is what the step alone gains on that batch.")

    def _on_changed(self, snapshot) -> None:
        """After Reset, or an undo back past trained iterations, the curve keeps only the
        iterations that still lie behind the current one (no line back to 0)."""
        if self.running or "model" not in snapshot.reasons or not self.points:
            return
        now = snapshot.state.iteration
        if self.points[-1].iteration < now:
            return
        self.points = [p for p in self.points if p.iteration < now]
        self._redraw()
        self.status.setStyleSheet("")
        self.status.setText(self.STATUS)

    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def toggle(self) -> None:
        if self.running:
            self.pause()
        else:
            self.start()

    def start(self) -> None:
        if self.remaining <= 0:
            self.remaining = self.count.value()
            self.run_key = object()
            self.fault = None
        self.timer.start(REFRESH_MS)
        self._update_buttons()

    def pause(self) -> None:
        self.timer.stop()
        self._update_buttons()
        self.status.setStyleSheet("")
        self.status.setText(f"Paused: {self.remaining} iterations left. Step through the current one, or Train "
                            "to go on.")

    def stop(self) -> None:
        self.timer.stop()
        self.remaining = 0
        self._update_buttons()
        if self.points:
            self.status.setStyleSheet("")
            self.status.setText(f"Stopped after iteration {self.points[-1].iteration}. "
                                "Step Back (Alt+Left) returns into it.")

    def clear_curve(self) -> None:
        self.points.clear()
        self._redraw()

    def run_now(self, n: int) -> None:
        """Run n iterations at once (no timer): for scripts and tests."""
        if self.remaining <= 0:
            self.run_key = object()
        self._train(n)

    def _train(self, n: int) -> bool:
        """n iterations of this run (one undo step with its other ticks); False if refused or at a fault."""
        try:
            run = train_iterations(self.controller, n, merge_key=self.run_key)
        except ControllerError as exc:
            self._refused(exc)
            return False
        self._record(run)
        if run.stopped_at_fault:
            self._stopped_at_fault(run)
            return False
        return True

    def _tick(self) -> None:
        per_tick = max(1, round(self.speed.value() * REFRESH_MS / 1000))
        n = min(per_tick, self.remaining)
        if not self._train(n):
            return
        self.remaining -= n
        if self.remaining <= 0:
            self.stop()
            self.finished.emit()

    def _refused(self, exc: ControllerError) -> None:
        """The run could not start (e.g. the iteration already holds a NaN/Inf): say why, here and in the status bar."""
        self.stop()
        self.fault = self.controller.snapshot().fault
        self._show_problem(f"Not trained: {exc}")
        self.message.emit(str(exc))

    def _stopped_at_fault(self, run: TrainingRun) -> None:
        self.timer.stop()
        self.remaining = 0
        self._update_buttons()
        self.fault = run.fault
        assert run.fault is not None
        text = (f"Stopped at iteration {self.controller.state.iteration}: {run.fault.message}. "
                "The window stays on that iteration (the timeline marks the step); lower the learning rate, "
                "or undo the run.")
        self._show_problem(text)
        self.message.emit(f"Training stopped: {run.fault.message}")

    def _show_problem(self, text: str) -> None:
        self.status.setText(f"⚠ {text}")
        self.status.setStyleSheet("color: #d0342c;")

    def _record(self, points: list[TrainingPoint]) -> None:
        self.points.extend(points)
        self._redraw()
        if not self.points:
            return
        last = self.points[-1]
        self.status.setStyleSheet("")
        self.status.setText(f"Iteration {last.iteration}: loss {last.loss:.4f} → {_after(last):.4f} after its "
                            f"update with the same dropout masks ({last.loss_after:.4f} with fresh ones; "
                            f"{len(self.points)} points).")

    def _redraw(self) -> None:
        x = np.array([p.iteration for p in self.points], float)
        self.before_curve.setData(x, np.array([p.loss for p in self.points], float))
        self.after_curve.setData(x, np.array([_after(p) for p in self.points], float))

    def _update_buttons(self) -> None:
        self.play.setText("Pause" if self.running else ("Resume" if self.remaining > 0 else "Train"))
        self.stop_button.setEnabled(self.running or self.remaining > 0)


def _after(point: TrainingPoint) -> float:
    """The loss after the update with the first pass's masks (fresh masks if that is not known)."""
    same = point.loss_after_same_masks
    return point.loss_after if same != same else same
