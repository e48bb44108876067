"""Status bar: where the cursor is, the batch, the loss, any NaN/Inf, and whether float32
resolves the example (core/analysis/precision).

While the current iteration's back-propagation and second pass are computed
on the controller's worker thread (after an edit, the forward pass is shown
first), it says so when told (:meth:`StatusLine.show_busy`, by the window's
clock, ui/poll_clock.py, which polls the controller); it runs no timer of its own.
"""
from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ...core.control.controller import Controller
from ...core.model.phases import phase_title
from ...core.analysis.snapshot import Snapshot
from ..widgets.steady_label import set_steady_text
from ..widgets.subscribe import subscribe


def fault_text(snapshot: Snapshot) -> str:
    """The iteration's first NaN/Inf, short: what, where in the array, which step ('' if none)."""
    fault = snapshot.fault
    if fault is None:
        return ""
    at = f"[{', '.join(map(str, fault.index))}]" if fault.index else ""
    when = phase_title(fault.phase, snapshot.config.cell) + (f" t={fault.t}" if fault.t is not None else "")
    return f"⚠ first {fault.kind}: {fault.key}{at} in {when}"


def bad_values(snapshot: Snapshot) -> list[str]:
    """Names of computed arrays that hold NaN or Inf at the cursor."""
    return snapshot.non_finite()


BUSY_TEXT = "computing back-propagation…"
PRECISION_STYLE = "color: #b25e00; font-weight: bold;"


class StatusLine(QtWidgets.QStatusBar):
    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("status")
        self.where = QtWidgets.QLabel(self)
        self.batch = QtWidgets.QLabel(self)
        self.loss = QtWidgets.QLabel(self)
        self.bad = QtWidgets.QLabel(self)
        self.bad.setStyleSheet("color: #d0342c; font-weight: bold;")
        self.precision = QtWidgets.QLabel(self)   # float32 cannot resolve this example (core/analysis/precision)
        self.precision.setObjectName("status-precision")
        self.precision.setStyleSheet(PRECISION_STYLE)
        self.precision.hide()
        for label in (self.where, self.batch, self.loss, self.bad, self.precision):
            self.addPermanentWidget(label)
        for label in (self.where, self.batch, self.loss):  # the room a label keeps is on its left
            label.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self._trace_id = None
        self.controller = controller
        self.busy = QtWidgets.QLabel(self)  # empty unless the background part is running
        self.busy.setObjectName("status-busy")
        self.insertPermanentWidget(0, self.busy)
        subscribe(controller.changed, self, self.update_from)
        self.update_from(controller.snapshot())

    def show_busy(self, busy: bool) -> None:
        """Say (or stop saying) that back-propagation is being computed."""
        set_steady_text(self.busy, BUSY_TEXT if busy else "")

    def update_from(self, snapshot: Snapshot) -> None:
        step = snapshot.step
        cfg = snapshot.config
        phase = "start (nothing has run)" if step is None else step.label
        set_steady_text(self.where, f"Iteration {snapshot.state.iteration}  ·  {phase}")
        set_steady_text(self.batch, f"batch at token {snapshot.state.position}  ·  B={cfg.batch_size} "
                        f"T={cfg.context_length} E={cfg.n_embd} H={cfg.hidden_size}")
        loss = snapshot.loss
        text = "loss —" if loss is None else f"loss {loss:.4f}"
        after = snapshot.get("loss_after")
        if after is not None:
            text += f" → {float(after):.4f}"
        set_steady_text(self.loss, text)
        bad = bad_values(snapshot)
        parts = [fault_text(snapshot)] if snapshot.fault is not None else []
        if bad:
            parts.append(f"NaN/Inf so far in: {', '.join(bad)}")
        self.bad.setText("  ·  ".join(parts))
        self.bad.setToolTip(f"This iteration's {snapshot.fault.message}; the timeline marks the step."
                            if snapshot.fault is not None else "")
        self.bad.setVisible(bool(parts))
        self.show_precision()

    def show_precision(self) -> None:
        """The notice that float32 cannot resolve this iteration, once the check has an answer (it runs
        on a worker, started by the window's clock, which says when it has answered): only reads it."""
        _done, found = self.controller.snapshot().precision_known()
        self.precision.setText(found.short if found is not None else "")
        self.precision.setToolTip(found.message if found is not None else "")
        self.precision.setVisible(found is not None)
