"""Status bar: where the cursor is, the batch, the loss, and any NaN/Inf."""
from __future__ import annotations

from PySide6 import QtWidgets

from ...core.controller import Controller
from ...core.snapshot import Snapshot
from ..widgets.subscribe import subscribe


def bad_values(snapshot: Snapshot) -> list[str]:
    """Names of computed arrays that hold NaN or Inf at the cursor."""
    return snapshot.non_finite()


class StatusLine(QtWidgets.QStatusBar):
    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("status")
        self.where = QtWidgets.QLabel(self)
        self.batch = QtWidgets.QLabel(self)
        self.loss = QtWidgets.QLabel(self)
        self.bad = QtWidgets.QLabel(self)
        self.bad.setStyleSheet("color: #d0342c; font-weight: bold;")
        for label in (self.where, self.batch, self.loss, self.bad):
            self.addPermanentWidget(label)
        self._trace_id = None
        subscribe(controller.changed, self, self.update_from)
        self.update_from(controller.snapshot())

    def update_from(self, snapshot: Snapshot) -> None:
        step = snapshot.step
        cfg = snapshot.config
        phase = "start (nothing has run)" if step is None else step.label
        self.where.setText(f"Iteration {snapshot.state.iteration}  ·  {phase}")
        self.batch.setText(f"batch at token {snapshot.state.position}  ·  B={cfg.batch_size} T={cfg.context_length}"
                           f" E={cfg.n_embd} H={cfg.hidden_size}")
        loss = snapshot.loss
        text = "loss —" if loss is None else f"loss {loss:.4f}"
        after = snapshot.get("loss_after")
        if after is not None:
            text += f" → {float(after):.4f}"
        self.loss.setText(text)
        bad = bad_values(snapshot)
        self.bad.setText(f"NaN/Inf in: {', '.join(bad)}" if bad else "")
        self.bad.setVisible(bool(bad))

    def show_hover(self, text: str) -> None:
        self.showMessage(text, 10000)
