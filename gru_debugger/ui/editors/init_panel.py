"""The initialisation editor: a scheme per parameter, the seed, re-initialise.

Each parameter row stages a scheme and its keys. A staged choice is visibly
pending (the row says "not applied" and its button reads "Apply") until the
button sends it to the controller (``set_init``, one undo step), which draws
the parameter anew; until then Reset and "Re-initialise all" use the applied
scheme, and the panel says so. The seed applies as soon as it changes.
"""
from __future__ import annotations

import logging
from typing import Any, Mapping

from PySide6 import QtCore, QtWidgets

from ...core.base.config import PARAM_NAMES, default_init
from ...core.control.controller import Controller
from ...core.model.init import GATE_BIAS_ONLY, GATE_BIASES, MATRIX_ONLY, SCHEMES
from ...core.analysis.snapshot import Snapshot
from ...core.base.validation import FLOAT32_MAX
from .edit_support import scrolling_body, HINT_STYLE, ErrorLine, ExplainToggle
from .exact_spin import ExactSpinBox, forward_undo
from ..widgets.subscribe import subscribe

log = logging.getLogger(__name__)

SEED_MAX = 2**31 - 1

# Every key any scheme takes, in the order the fields appear.
ALL_KEYS: tuple[str, ...] = tuple(dict.fromkeys(k for keys in SCHEMES.values() for k in keys))
FIRST_KEYS = {next(iter(keys)) for keys in SCHEMES.values() if keys}  # no gap before these


def schemes_for(name: str) -> list[str]:
    """Schemes a parameter may use: biases are vectors, so no matrix-only ones; gate rows only where
    there are gates (x2g.bias, h2g.bias)."""
    return [s for s in SCHEMES if not (name.endswith(".bias") and s in MATRIX_ONLY)
            and not (s in GATE_BIAS_ONLY and name not in GATE_BIASES)]


def full_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A spec with every key of its scheme spelled out (defaults filled in)."""
    scheme = spec["scheme"]
    out: dict[str, Any] = {"scheme": scheme}
    for key, default in SCHEMES.get(scheme, {}).items():
        out[key] = float(spec.get(key, default))
    return out


def describe(spec: Mapping[str, Any]) -> str:
    """'normal (mean 0, std 0.5)' for reading."""
    keys = [f"{k} {v:g}" for k, v in spec.items() if k != "scheme"]
    scheme = str(spec["scheme"]).replace("_", " ")
    return f"{scheme} ({', '.join(keys)})" if keys else scheme


class ParamInitRow(QtCore.QObject):
    """The widgets of one parameter: scheme, its keys and a Re-initialise button.

    Lives in the panel's grid; the panel owns it (it is a QObject child)."""

    def __init__(self, name: str, panel: "InitPanel", grid: QtWidgets.QGridLayout, row: int,
                 container: QtWidgets.QWidget):
        super().__init__(panel)
        self.name = name
        self.panel = panel
        self._loaded: dict[str, Any] | None = None  # the config spec last shown

        self.label = QtWidgets.QLabel(f"<b>{name}</b>", container)
        self.shape = QtWidgets.QLabel(container)
        self.shape.setStyleSheet(HINT_STYLE)
        name_box = QtWidgets.QVBoxLayout()
        name_box.setSpacing(0)
        name_box.addWidget(self.label)
        name_box.addWidget(self.shape)
        grid.addLayout(name_box, row, 0, 2, 1, QtCore.Qt.AlignmentFlag.AlignTop)

        self.combo = QtWidgets.QComboBox(container)
        self.combo.setObjectName(f"init-scheme-{name}")
        self.combo.setToolTip(f"How to fill {name}")
        for scheme in schemes_for(name):
            self.combo.addItem(scheme.replace("_", " "), scheme)
        # Sized by a short text so a narrow dock can squeeze it; the grid stretches it back.
        self.combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.currentIndexChanged.connect(self._on_scheme_changed)
        grid.addWidget(self.combo, row, 1)

        self.button = QtWidgets.QPushButton("Re-initialise", container)
        self.button.setObjectName(f"init-apply-{name}")
        self.button.setToolTip(f"Draw {name} anew with the scheme on its left (one undo step)")
        self.button.clicked.connect(self._on_apply)
        grid.addWidget(self.button, row, 2)

        keys_row = QtWidgets.QHBoxLayout()
        keys_row.setContentsMargins(0, 0, 0, 0)
        keys_row.setSpacing(4)
        self.key_labels: dict[str, QtWidgets.QLabel] = {}
        self.fields: dict[str, QtWidgets.QDoubleSpinBox] = {}
        for key in ALL_KEYS:
            spin = ExactSpinBox(container, -FLOAT32_MAX, FLOAT32_MAX)
            spin.setObjectName(f"init-{name}-{key}")
            spin.setKeyboardTracking(False)
            spin.setSingleStep(0.1)
            forward_undo(spin)
            spin.setMinimumWidth(64)
            spin.setMaximumWidth(96)
            spin.valueChanged.connect(self._on_field_changed)
            label = QtWidgets.QLabel(f"{key}", container)
            label.setBuddy(spin)
            label.setStyleSheet(HINT_STYLE)
            label.setContentsMargins(0 if key in FIRST_KEYS else 10, 0, 0, 0)
            keys_row.addWidget(label)
            keys_row.addWidget(spin)
            self.key_labels[key], self.fields[key] = label, spin
        keys_row.addStretch(1)
        grid.addLayout(keys_row, row + 1, 1, 1, 2)
        self.note = QtWidgets.QLabel(container)
        self.note.setObjectName(f"init-pending-{name}")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("font-style: italic; color: #b3261e;")
        self.note.hide()
        grid.addWidget(self.note, row + 2, 1, 1, 2)

    # ------------------------------------------------------------ state
    @property
    def scheme(self) -> str:
        return self.combo.currentData()

    def spec(self) -> dict[str, Any]:
        """The staged spec: the chosen scheme and its visible keys."""
        scheme = self.scheme
        return {"scheme": scheme, **{key: self.fields[key].value() for key in SCHEMES[scheme]}}

    def pending(self) -> bool:
        return self._loaded is not None and self.spec() != self._loaded

    def load(self, spec: Mapping[str, Any], shape: tuple[int, ...], force: bool = False) -> None:
        """Show the configuration's spec, unless it is what is shown already."""
        self.shape.setText(" × ".join(map(str, shape)))
        spec = full_spec(spec)
        if not force and spec == self._loaded:
            return
        self._loaded = spec
        with QtCore.QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(max(self.combo.findData(spec["scheme"]), 0))
        self._show_keys(spec)

    def _show_keys(self, spec: Mapping[str, Any]) -> None:
        keys = SCHEMES[self.scheme]
        for key in ALL_KEYS:
            visible = key in keys
            if visible:
                with QtCore.QSignalBlocker(self.fields[key]):
                    self.fields[key].setValue(float(spec.get(key, keys[key])))
            self.fields[key].setVisible(visible)
            self.key_labels[key].setVisible(visible)
        self._mark_pending()

    def _mark_pending(self) -> None:
        pending = self.pending()
        font = self.button.font()
        font.setBold(pending)
        self.button.setFont(font)
        self.button.setText("Apply" if pending else "Re-initialise")
        if pending and self._loaded is not None:
            self.note.setText(f"Not applied yet: {self.name} still holds weights drawn with "
                              f"{describe(self._loaded)}; Apply draws it anew with {describe(self.spec())}. "
                              "Reset and “Re-initialise all” use the applied scheme.")
        self.note.setVisible(pending)
        self.panel.pending_changed()

    # ------------------------------------------------------------ slots
    def _on_scheme_changed(self, index: int) -> None:
        loaded = self._loaded or {}
        # Back to the configured scheme: its configured values; otherwise the scheme's defaults.
        self._show_keys(loaded if loaded.get("scheme") == self.scheme else {})

    def _on_field_changed(self, value: float) -> None:
        self._mark_pending()

    def _on_apply(self) -> None:
        self.panel.set_init(self.name, self.spec())


class InitPanel(QtWidgets.QWidget):
    """Initialisation schemes and the seed, edited through ``controller``."""

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("init-panel")
        self.controller = controller

        body, layout = scrolling_body(self)  # scrolls when the dock is short, instead of squashing boxes
        self.explain = ExplainToggle(body)
        layout.addWidget(self.explain)

        params_box = QtWidgets.QGroupBox("Parameters", body)
        grid = QtWidgets.QGridLayout(params_box)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(1, 1)
        self.rows: dict[str, ParamInitRow] = {}
        self._ready = False
        for i, name in enumerate(PARAM_NAMES):
            r = 4 * i
            self.rows[name] = ParamInitRow(name, self, grid, r, params_box)
            if i < len(PARAM_NAMES) - 1:
                line = QtWidgets.QFrame(params_box)
                line.setFrameShape(QtWidgets.QFrame.Shape.HLine)
                line.setFrameShadow(QtWidgets.QFrame.Shadow.Sunken)
                grid.addWidget(line, r + 3, 0, 1, 3)
        layout.addWidget(params_box)

        seed_box = QtWidgets.QGroupBox("Randomness", body)
        seed_form = QtWidgets.QFormLayout(seed_box)
        seed_row = QtWidgets.QHBoxLayout()
        self.seed_fixed = QtWidgets.QCheckBox("fixed seed", seed_box)
        self.seed_fixed.setObjectName("init-seed-fixed")
        self.seed_fixed.setToolTip("Off: every change of seed draws fresh randomness")
        self.seed_fixed.toggled.connect(self._on_seed_toggled)
        self.seed = QtWidgets.QSpinBox(seed_box)
        self.seed.setObjectName("init-seed")
        self.seed.setRange(0, SEED_MAX)
        self.seed.setKeyboardTracking(False)
        self.seed.setMinimumWidth(110)
        self.seed.setToolTip("The same seed always gives the same random weights and dropout masks")
        self.seed.valueChanged.connect(self._on_seed_value)
        seed_row.addWidget(self.seed_fixed)
        seed_row.addWidget(self.seed)
        seed_row.addStretch(1)
        seed_form.addRow("Seed:", seed_row)
        self.seed_note = QtWidgets.QLabel(seed_box)
        self.seed_note.setWordWrap(True)
        self.seed_note.setStyleSheet(HINT_STYLE)
        seed_form.addRow(self.seed_note)
        self.explain.add(self.seed_note)
        layout.addWidget(seed_box)

        buttons = QtWidgets.QHBoxLayout()
        self.reinit_all = QtWidgets.QPushButton("Re-initialise all", body)
        self.reinit_all.setToolTip("Draw every parameter anew with its current scheme")
        self.reinit_all.clicked.connect(self._on_reinit_all)
        self.defaults = QtWidgets.QPushButton("Notebook defaults", body)
        self.defaults.setToolTip("The notebook's constant initialisation for every parameter")
        self.defaults.clicked.connect(self._on_defaults)
        buttons.addWidget(self.reinit_all)
        buttons.addWidget(self.defaults)
        buttons.addStretch(1)
        layout.addLayout(buttons)

        self.error = ErrorLine(body)
        layout.addWidget(self.error)
        layout.addStretch(1)

        subscribe(controller.changed, self, self._on_changed)
        self._ready = True
        self._refresh(controller.snapshot(), force=True)

    # ------------------------------------------------------------ public
    def pending_rows(self) -> list[str]:
        return [name for name, row in self.rows.items() if row.pending()]

    def pending_changed(self) -> None:
        """Say on the "all" buttons that unapplied rows are not what they use."""
        if not getattr(self, "_ready", False):
            return
        pending = self.pending_rows()
        tip = "Draw every parameter anew with its applied scheme"
        if pending:
            tip += f" (not the unapplied choice for {', '.join(pending)})"
        self.reinit_all.setToolTip(tip)

    def set_init(self, name: str, spec: Mapping[str, Any]) -> bool:
        """Re-initialise one parameter with ``spec``; False if refused."""
        return self.error.attempt(self.controller.set_init, name, dict(spec))

    def reinitialise_all(self) -> bool:
        return self.error.attempt(self.controller.reinitialise)

    def notebook_defaults(self) -> bool:
        """Every parameter back to the notebook's scheme, in one undo step."""
        return self.error.attempt(self.controller.set_inits, default_init(), "Notebook initialisation")

    def set_seed(self, seed: int | None) -> bool:
        return self.error.attempt(self.controller.set_seed, seed)

    # ------------------------------------------------------------ controller -> widgets
    def _on_changed(self, snapshot: Snapshot) -> None:
        try:
            self._refresh(snapshot)
        except Exception as exc:  # a slot must not raise
            log.exception("init panel refresh failed")
            self.error.show_message(f"could not show the new settings: {exc}")

    def _refresh(self, snapshot: Snapshot, force: bool = False) -> None:
        cfg = snapshot.config
        for name, row in self.rows.items():
            row.load(cfg.init[name], tuple(snapshot.state.params[name].shape), force)
        fixed = cfg.seed is not None
        with QtCore.QSignalBlocker(self.seed_fixed):
            self.seed_fixed.setChecked(fixed)
        if fixed and self.seed.value() != cfg.seed:
            with QtCore.QSignalBlocker(self.seed):
                self.seed.setValue(min(cfg.seed, SEED_MAX))
        self.seed.setEnabled(fixed)
        self.seed_note.setText("Random schemes and dropout masks come from this seed: the run repeats exactly."
                               if fixed else
                               "A fresh seed was drawn for this session: random weights and dropout masks "
                               "differ from run to run.")

    # ------------------------------------------------------------ slots
    def _on_seed_toggled(self, checked: bool) -> None:
        if not self.set_seed(self.seed.value() if checked else None):
            with QtCore.QSignalBlocker(self.seed_fixed):
                self.seed_fixed.setChecked(self.controller.config.seed is not None)
        self.seed.setEnabled(self.controller.config.seed is not None)

    def _on_seed_value(self, value: int) -> None:
        if self.seed_fixed.isChecked() and value != self.controller.config.seed:
            self.set_seed(value)

    def _on_reinit_all(self) -> None:
        self.reinitialise_all()

    def _on_defaults(self) -> None:
        self.notebook_defaults()

