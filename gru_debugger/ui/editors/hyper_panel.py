"""The hyperparameter editor: learning rate, dropout, precision and the model's widths.

The learning rate and dropout apply when a typed value is finished (Enter,
leaving the box, a short pause, or Undo/Redo pressed in the box) and when a
slider drag ends: each is one undo step with the same text in the Edit menu
and History. E and H are staged until "Apply sizes". The boxes accept every
value the configuration accepts and show it in full.
"""
from __future__ import annotations

import logging
import math

from PySide6 import QtCore, QtWidgets

from ...core.control.controller import Controller
from ...core.analysis.snapshot import Snapshot
from ...core.base.config import DTYPES, FLOAT32_MAX
from .edit_support import scrolling_body, ErrorLine, ExplainToggle
from ..widgets.equation_format import noise
from .exact_spin import ExactSpinBox, forward_undo
from ..widgets.subscribe import subscribe

log = logging.getLogger(__name__)


# The slider covers 0.001 .. 100 on a log scale.
SLIDER_STEPS = 1000
LOG_LR_MIN, LOG_LR_MAX = -3.0, 2.0
PREVIEW_PARAM, PREVIEW_INDEX = "h2g.weight", (0, 0)
DROPOUT_MAX = math.nextafter(1.0, 0.0)  # the configuration accepts p in [0, 1)
IDLE_MS = 1500  # a typed number applies after this pause without typing


def slider_to_lr(position: int) -> float:
    """Slider position to a learning rate with three significant digits."""
    exponent = LOG_LR_MIN + (LOG_LR_MAX - LOG_LR_MIN) * position / SLIDER_STEPS
    return round(float(f"{10 ** exponent:.3g}"), 4)


def lr_to_slider(lr: float) -> int:
    """The nearest slider position (the ends for values outside its range)."""
    if lr <= 0:
        return 0
    position = round((math.log10(lr) - LOG_LR_MIN) / (LOG_LR_MAX - LOG_LR_MIN) * SLIDER_STEPS)
    return min(max(position, 0), SLIDER_STEPS)


def num(value: float) -> str:
    """A number for reading: 4 significant digits and a real minus sign."""
    return f"{value:.4g}".replace("-", "−")


def factor(value: float) -> str:
    """A number inside a product: negative ones in parentheses."""
    return f"({num(value)})" if value < 0 else num(value)


class HyperPanel(QtWidgets.QWidget):
    """Learning rate, dropout and sizes, edited through ``controller``."""

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("hyper-panel")
        self.controller = controller
        self._loaded_sizes: tuple[int, int] | None = None

        body, layout = scrolling_body(self)  # scrolls when the dock is short, instead of squashing boxes
        self.explain = ExplainToggle(body)
        layout.addWidget(self.explain)
        explanation = self.explain.explain

        # --- learning rate ----------------------------------------------
        lr_box = QtWidgets.QGroupBox("Learning rate", self)
        lr_layout = QtWidgets.QVBoxLayout(lr_box)
        lr_layout.addWidget(explanation(
            "The update step moves every weight by −lr times its gradient, so only the update and the "
            "second forward pass change and the cursor stays where it is.", lr_box))
        lr_row = QtWidgets.QHBoxLayout()
        self.lr = ExactSpinBox(lr_box, -FLOAT32_MAX, FLOAT32_MAX)
        self.lr.setObjectName("hyper-lr")
        self.lr.setKeyboardTracking(False)  # typing "20" is one change, not "2" then "20"
        self.lr.setSingleStep(0.1)
        self.lr.setMinimumWidth(96)
        self.lr.setToolTip("SGD step size; negative values climb the loss instead")
        self.lr.valueChanged.connect(self._on_lr_spin)
        self._idle = QtCore.QTimer(self)  # a typed value applies after a short pause, too
        self._idle.setSingleShot(True)
        self._idle.setInterval(IDLE_MS)
        self._idle.timeout.connect(self._commit_typed)
        self.lr.lineEdit().textEdited.connect(lambda _text: self._idle.start())
        self.lr_slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal, lr_box)
        self.lr_slider.setObjectName("hyper-lr-slider")
        self.lr_slider.setRange(0, SLIDER_STEPS)
        self.lr_slider.setPageStep(SLIDER_STEPS // 10)
        self.lr_slider.setToolTip("0.001 to 100, logarithmic; applies when you let go")
        self.lr_slider.setTracking(False)  # one undo step per drag: applied on release
        self.lr_slider.sliderMoved.connect(self._on_lr_slider_moved)
        self.lr_slider.valueChanged.connect(self._on_lr_slider)
        lr_row.addWidget(QtWidgets.QLabel("lr", lr_box))
        lr_row.addWidget(self.lr)
        lr_row.addWidget(self.lr_slider, 1)
        lr_layout.addLayout(lr_row)
        self.preview = QtWidgets.QLabel(lr_box)
        self.preview.setObjectName("hyper-preview")
        self.preview.setTextFormat(QtCore.Qt.TextFormat.RichText)   # round-off in grey (equation_format.noise)
        self.preview.setWordWrap(True)
        self.preview.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        lr_layout.addWidget(self.preview)
        layout.addWidget(lr_box)

        # --- dropout ----------------------------------------------------
        drop_box = QtWidgets.QGroupBox("Dropout", self)
        drop_layout = QtWidgets.QVBoxLayout(drop_box)
        drop_layout.addWidget(explanation(
            "In train mode each embedding and hidden value is zeroed with probability p and the rest are "
            "divided by 1−p. The masks follow from the seed, the iteration and the shapes: stepping back and "
            "forth keeps them, every new iteration draws new ones, and changing the seed, p or a shape changes them.",
            drop_box))
        drop_form = QtWidgets.QFormLayout()
        drop_form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.dropout = ExactSpinBox(drop_box, 0.0, DROPOUT_MAX)
        self.dropout.setObjectName("hyper-dropout")
        self.dropout.setKeyboardTracking(False)
        self.dropout.setSingleStep(0.05)
        self.dropout.setMinimumWidth(80)
        self.dropout.setToolTip("Probability of zeroing an activation")
        self.dropout.valueChanged.connect(self._on_dropout)
        drop_form.addRow("p:", self.dropout)
        self.train_mode = QtWidgets.QCheckBox("train mode (dropout on)", drop_box)
        self.train_mode.setObjectName("hyper-train-mode")
        self.train_mode.setToolTip("Off: eval mode, every mask is 1")
        self.train_mode.toggled.connect(self._on_train_mode)
        drop_form.addRow("Mode:", self.train_mode)
        drop_layout.addLayout(drop_form)
        layout.addWidget(drop_box)

        # --- precision --------------------------------------------------
        precision_box = QtWidgets.QGroupBox("Precision", self)
        precision_form = QtWidgets.QFormLayout(precision_box)
        precision_form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.precision = QtWidgets.QComboBox(precision_box)
        self.precision.setObjectName("hyper-precision")
        for dtype in DTYPES:
            self.precision.addItem(dtype, dtype)
        self.precision.setToolTip("float32 as the notebook; float64 casts the current weights (one undo step)")
        self.precision.currentIndexChanged.connect(self._on_precision)
        precision_form.addRow("Numbers:", self.precision)
        layout.addWidget(precision_box)
        forward_undo(self.lr, self.dropout)

        # --- sizes ------------------------------------------------------
        size_box = QtWidgets.QGroupBox("Model sizes", self)
        size_layout = QtWidgets.QVBoxLayout(size_box)
        size_layout.addWidget(explanation(
            "E is the width of each token's embedding and H the width of the hidden state; the weights whose "
            "shape changes are drawn anew with their current schemes.", size_box))
        size_form = QtWidgets.QFormLayout()
        size_form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.n_embd = self._size_spin(size_box, "hyper-n-embd", "E: embedding width")
        size_form.addRow("Embedding E:", self.n_embd)
        self.hidden = self._size_spin(size_box, "hyper-hidden", "H: hidden width")
        size_form.addRow("Hidden H:", self.hidden)
        size_layout.addLayout(size_form)
        size_buttons = QtWidgets.QHBoxLayout()
        self.sizes_pending = QtWidgets.QLabel(size_box)
        self.sizes_pending.setStyleSheet("font-style: italic;")
        size_buttons.addWidget(self.sizes_pending, 1)
        self.apply_sizes = QtWidgets.QPushButton("Apply sizes", size_box)
        self.apply_sizes.setObjectName("hyper-apply-sizes")
        self.apply_sizes.setToolTip("Rebuild the model with these widths (one undo step)")
        self.apply_sizes.clicked.connect(self._on_apply_sizes)
        size_buttons.addWidget(self.apply_sizes)
        size_layout.addLayout(size_buttons)
        layout.addWidget(size_box)

        self.error = ErrorLine(self)
        layout.addWidget(self.error)
        layout.addStretch(1)

        subscribe(controller.changed, self, self._on_changed)
        self._refresh(controller.snapshot())

    # ------------------------------------------------------------ public
    def set_learning_rate(self, lr: float) -> bool:
        return self.error.attempt(self.controller.set_learning_rate, lr)

    def set_dropout(self, p: float) -> bool:
        return self.error.attempt(self.controller.set_dropout, p)

    def set_precision(self, dtype: str) -> bool:
        return self.error.attempt(self.controller.configure, f"Precision = {dtype}", dtype=dtype)

    def set_train_mode(self, train: bool) -> bool:
        return self.error.attempt(self.controller.set_train_mode, train)

    def apply_sizes_now(self) -> bool:
        """Send the staged E and H to the controller; False if refused."""
        E, H = self.n_embd.value(), self.hidden.value()
        cfg = self.controller.config
        if (E, H) == (cfg.n_embd, cfg.hidden_size):
            self.error.show_message("")
            return True
        return self.error.attempt(self.controller.set_sizes, E, H)

    @staticmethod
    def preview_text(snapshot: Snapshot) -> str:
        grad = snapshot.get(f"grad/{PREVIEW_PARAM}")
        where = f"{PREVIEW_PARAM}[{', '.join(map(str, PREVIEW_INDEX))}]"
        if grad is None:
            return f"update preview for {where}: gradients appear after backward"
        lr, g = snapshot.config.learning_rate, float(grad[PREVIEW_INDEX])
        mask = snapshot.roundoff_mask(f"grad/{PREVIEW_PARAM}")
        noisy = mask is not None and bool(mask[PREVIEW_INDEX])
        # a round-off gradient and its step print as the heatmaps and the Equation pages print them
        gradient, step = (noise(), noise()) if noisy else (factor(g), num(-lr * g))
        text = f"update preview: −lr·grad for {where}<br>= −{factor(lr)} × {gradient} = {step}"
        if not snapshot.phase_complete("backward"):
            text += " (gradient so far)"
        if noisy:
            text += "<br>round-off: this gradient is 0 in exact arithmetic; the step is rounding noise"
        return text

    # ------------------------------------------------------------ building
    def _size_spin(self, parent: QtWidgets.QWidget, name: str, tip: str) -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox(parent)
        spin.setObjectName(name)
        spin.setRange(1, 4096)
        spin.setMinimumWidth(80)
        spin.setToolTip(tip)
        spin.valueChanged.connect(self._on_size_edited)
        return spin

    # ------------------------------------------------------------ controller -> widgets
    def _on_changed(self, snapshot: Snapshot) -> None:
        try:
            self._refresh(snapshot)
        except Exception as exc:  # a slot must not raise
            log.exception("hyperparameter panel refresh failed")
            self.error.show_message(f"could not show the new settings: {exc}")

    def _refresh(self, snapshot: Snapshot) -> None:
        cfg = snapshot.config
        lr = cfg.learning_rate
        # Write a control only when it shows something else: no jumps while typing or dragging.
        if self.lr.value() != lr and not self._idle.isActive():
            with QtCore.QSignalBlocker(self.lr):
                self.lr.setValue(lr)
        if slider_to_lr(self.lr_slider.value()) != lr:
            with QtCore.QSignalBlocker(self.lr_slider):
                self.lr_slider.setValue(lr_to_slider(lr))
        if self.dropout.value() != cfg.dropout:
            with QtCore.QSignalBlocker(self.dropout):
                self.dropout.setValue(cfg.dropout)
        with QtCore.QSignalBlocker(self.train_mode):
            self.train_mode.setChecked(cfg.train_mode)
        with QtCore.QSignalBlocker(self.precision):
            self.precision.setCurrentIndex(max(self.precision.findData(cfg.dtype), 0))
        sizes = (cfg.n_embd, cfg.hidden_size)
        if sizes != self._loaded_sizes:  # keep staged sizes while nothing else changed them
            self._loaded_sizes = sizes
            for spin, value in ((self.n_embd, sizes[0]), (self.hidden, sizes[1])):
                with QtCore.QSignalBlocker(spin):
                    spin.setValue(value)
        self.preview.setText(self.preview_text(snapshot))
        self._update_sizes_pending()

    def _update_sizes_pending(self) -> None:
        cfg = self.controller.config
        dirty = (self.n_embd.value(), self.hidden.value()) != (cfg.n_embd, cfg.hidden_size)
        self.sizes_pending.setText("Unapplied changes" if dirty else "")
        self.apply_sizes.setEnabled(dirty)

    # ------------------------------------------------------------ slots
    def _on_lr_spin(self, value: float) -> None:
        self._idle.stop()
        if value != self.controller.config.learning_rate:
            self.set_learning_rate(value)

    def _commit_typed(self) -> None:
        """A pause after typing: apply the number if it is complete (as Enter would)."""
        if self.lr.hasAcceptableInput():
            self.lr.interpretText()

    def _on_lr_slider_moved(self, position: int) -> None:
        """While dragging, the box shows where the drag would land; nothing is applied yet."""
        with QtCore.QSignalBlocker(self.lr):
            self.lr.setValue(slider_to_lr(position))

    def _on_lr_slider(self, position: int) -> None:
        lr = slider_to_lr(position)
        with QtCore.QSignalBlocker(self.lr):
            self.lr.setValue(lr)
        if lr != self.controller.config.learning_rate:
            self.set_learning_rate(lr)

    def _on_dropout(self, value: float) -> None:
        if value != self.controller.config.dropout:
            self.set_dropout(value)

    def _on_precision(self, index: int) -> None:
        dtype = self.precision.itemData(index)
        if dtype != self.controller.config.dtype and not self.set_precision(dtype):
            with QtCore.QSignalBlocker(self.precision):
                self.precision.setCurrentIndex(max(self.precision.findData(self.controller.config.dtype), 0))

    def _on_train_mode(self, checked: bool) -> None:
        if not self.set_train_mode(checked):
            with QtCore.QSignalBlocker(self.train_mode):
                self.train_mode.setChecked(self.controller.config.train_mode)

    def _on_size_edited(self, value: int) -> None:
        self._update_sizes_pending()

    def _on_apply_sizes(self) -> None:
        self.apply_sizes_now()
