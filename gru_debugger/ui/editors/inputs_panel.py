"""The inputs editor: corpus texts, tokenizer settings, batch shape and position.

Corpus, tokenizer and batch-shape edits are staged in the panel and reach the
controller together when the person presses Apply (one undo step); Revert
reloads them from the configuration. The batch position applies at once.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from PySide6 import QtCore, QtWidgets

from ...core.base.config import ConfigError
from ...core.control.controller import Controller
from ...core.analysis.snapshot import Snapshot
from ...core.base.texts import MAX_TEXT_BYTES, read_text_file
from .cell_chooser import CellChooser
from .tokenizing import tokenize_first
from .edit_support import HINT_STYLE, ErrorLine, ExplainToggle
from ..widgets.subscribe import subscribe

log = logging.getLogger(__name__)


MAX_MERGES = 10_000  # the configuration's limit (core/base/config.validate)

# Staged settings, with the short name each gets in the undo text.
STAGED_KEYS = {"corpus": "corpus", "num_merges": "merges", "lowercase": "lowercase",
               "batch_size": "B", "context_length": "T"}


def text_title(index: int, text: str) -> str:
    """How a corpus text reads in the list: its number and first words."""
    words = " ".join(text[:300].split())
    return f"{index + 1}. {words}" if words else f"{index + 1}. (empty)"


class InputsPanel(QtWidgets.QWidget):
    """Corpus, tokenizer and batch settings, edited through ``controller``."""

    def __init__(self, controller: Controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inputs-panel")
        self.controller = controller
        self._texts: list[str] = []          # the staged corpus
        self._loaded: dict[str, Any] = {}    # config values last written into the editors
        self._open_folder = ""               # where "Open Text File…" starts

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        self.explain = ExplainToggle(self)
        layout.addWidget(self.explain)
        chooser = CellChooser(controller, self)  # the model's recurrent cell
        layout.addWidget(chooser)
        self.explain.add(chooser.hint)

        # --- corpus -----------------------------------------------------
        corpus_box = QtWidgets.QGroupBox("Corpus", self)
        corpus_layout = QtWidgets.QVBoxLayout(corpus_box)
        list_row = QtWidgets.QHBoxLayout()
        self.text_list = QtWidgets.QListWidget(corpus_box)
        self.text_list.setObjectName("corpus-list")
        self.text_list.setToolTip("The texts the tokenizer learns from and encodes, in order")
        self.text_list.setTextElideMode(QtCore.Qt.TextElideMode.ElideRight)
        self.text_list.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text_list.setUniformItemSizes(True)
        self.text_list.setMaximumHeight(84)
        self.text_list.currentRowChanged.connect(self._on_row_changed)
        list_row.addWidget(self.text_list, 1)
        buttons = QtWidgets.QVBoxLayout()
        self.add_button = QtWidgets.QPushButton("Add", corpus_box)
        self.add_button.setToolTip("Add an empty text to the corpus")
        self.add_button.clicked.connect(self._on_add)
        self.remove_button = QtWidgets.QPushButton("Remove", corpus_box)
        self.remove_button.setToolTip("Remove the selected text from the corpus")
        self.remove_button.clicked.connect(self._on_remove)
        self.open_button = QtWidgets.QPushButton("Open Text File…", corpus_box)
        self.open_button.setObjectName("open-text-file")
        self.open_button.setToolTip(f"Use one or more UTF-8 text files (up to {MAX_TEXT_BYTES // 1024**2} MB "
                                    "each) as the corpus, in place of the texts above (one undo step)")
        self.open_button.clicked.connect(self._on_open_files)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        list_row.addLayout(buttons)
        corpus_layout.addLayout(list_row)
        self.editor = QtWidgets.QPlainTextEdit(corpus_box)
        self.editor.setObjectName("corpus-editor")
        self.editor.setPlaceholderText("Type or paste the text here")
        self.editor.setTabChangesFocus(True)
        self.editor.setMinimumHeight(72)
        self.editor.textChanged.connect(self._on_text_edited)
        corpus_layout.addWidget(self.editor, 1)
        layout.addWidget(corpus_box, 1)

        # --- tokenizer and batch shape ----------------------------------
        shape_box = QtWidgets.QGroupBox("Tokenizer and batch", self)
        form = QtWidgets.QFormLayout(shape_box)
        form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        self.lowercase = QtWidgets.QCheckBox("lowercase the text first", shape_box)
        self.lowercase.toggled.connect(self._on_staged_edit)
        form.addRow("Case:", self.lowercase)
        self.merges = self._spin(shape_box, 0, MAX_MERGES, "Byte-pair merges the tokenizer learns")
        form.addRow("Merges:", self.merges)
        self.batch_size = self._spin(shape_box, 1, 4096, "B: rows per batch")
        form.addRow("Rows B:", self.batch_size)
        self.context_length = self._spin(shape_box, 1, 4096, "T: timesteps per row")
        form.addRow("Timesteps T:", self.context_length)
        layout.addWidget(shape_box)

        # --- apply / revert ---------------------------------------------
        apply_row = QtWidgets.QHBoxLayout()
        self.pending = QtWidgets.QLabel("", self)
        self.pending.setObjectName("inputs-pending")
        self.pending.setStyleSheet("font-style: italic;")
        apply_row.addWidget(self.pending, 1)
        self.revert_button = QtWidgets.QPushButton("Revert", self)
        self.revert_button.setToolTip("Discard the changes above and show the current settings")
        self.revert_button.clicked.connect(self._on_revert)
        self.apply_button = QtWidgets.QPushButton("Apply", self)
        self.apply_button.setToolTip("Retokenize and rebatch with the settings above (one undo step)")
        self.apply_button.clicked.connect(self._on_apply)
        apply_row.addWidget(self.revert_button)
        apply_row.addWidget(self.apply_button)
        layout.addLayout(apply_row)

        self.error = ErrorLine(self)
        layout.addWidget(self.error)

        # --- position (applies at once) -----------------------------------
        position_box = QtWidgets.QGroupBox("Current batch", self)
        position_form = QtWidgets.QFormLayout(position_box)
        self.stats = QtWidgets.QLabel(position_box)
        self.stats.setObjectName("inputs-stats")
        self.stats.setWordWrap(True)
        self.stats.setStyleSheet(HINT_STYLE)
        position_form.addRow(self.stats)
        position_form.setFieldGrowthPolicy(QtWidgets.QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        position_row = QtWidgets.QHBoxLayout()
        self.position = QtWidgets.QSpinBox(position_box)
        self.position.setObjectName("inputs-position")
        self.position.setKeyboardTracking(False)
        self.position.setToolTip("Token where the first batch row starts; changes apply at once")
        self.position.valueChanged.connect(self._on_position)
        position_row.addWidget(self.position)
        self.position_range = QtWidgets.QLabel(position_box)
        self.position_range.setStyleSheet(HINT_STYLE)
        position_row.addWidget(self.position_range)
        position_row.addStretch(1)
        position_form.addRow("Starts at token:", position_row)
        layout.addWidget(position_box)

        subscribe(controller.changed, self, self._on_changed)
        self._refresh(controller.snapshot(), force=True)

    # ------------------------------------------------------------ public
    def staged(self) -> dict[str, Any]:
        """The settings as they stand in the editors (applied or not)."""
        return {
            "corpus": tuple(self._texts),
            "num_merges": self.merges.value(),
            "lowercase": self.lowercase.isChecked(),
            "batch_size": self.batch_size.value(),
            "context_length": self.context_length.value(),
        }

    def staged_changes(self) -> dict[str, Any]:
        """Staged settings that differ from the configuration."""
        cfg = self.controller.config
        return {k: v for k, v in self.staged().items() if getattr(cfg, k) != v}

    def apply(self) -> bool:
        """Send the staged settings to the controller; False if it refused."""
        changes = self.staged_changes()
        if not changes:
            self.error.show_message("")
            return True
        text = "Inputs: " + ", ".join(STAGED_KEYS[k] for k in changes)
        if not tokenize_first(self, self.controller.config, **changes):
            self.error.show_message("Tokenizing was cancelled: nothing changed.")
            return False
        return self.error.attempt(self.controller.configure, text, **changes)

    def open_text_files(self, paths: Sequence[str]) -> bool:
        """Make the texts of ``paths`` the corpus (one undo step); False if nothing changed.

        Files that cannot be used (missing, not UTF-8 text, too large) are
        left out and named in the panel's message; the others are applied.
        """
        texts: list[str] = []
        refused: list[str] = []
        for path in paths:
            try:
                texts.append(read_text_file(path))
            except ConfigError as exc:
                refused.append(str(exc))
        if paths:
            self._open_folder = str(Path(paths[-1]).parent)
        if not texts:
            self.error.show_message("Nothing opened: " + "; ".join(refused) if refused else "")
            return False
        if not tokenize_first(self, self.controller.config, corpus=tuple(texts)):
            self.error.show_message("Tokenizing was cancelled: nothing changed.")
            return False
        if not self.error.attempt(self.controller.set_corpus, texts):
            return False
        names = ", ".join(Path(p).name for p in paths)
        if refused:
            self.error.show_message(f"Opened {len(texts)} of {len(paths)} files; left out: " + "; ".join(refused))
        self._status(f"Corpus: {len(texts)} text file{'s' if len(texts) != 1 else ''} opened ({names})")
        return True

    def revert(self) -> None:
        """Throw away staged edits: show the configuration again."""
        self.error.show_message("")
        self._refresh(self.controller.snapshot(), force=True)

    # ------------------------------------------------------------ building
    def _spin(self, parent: QtWidgets.QWidget, low: int, high: int, tip: str) -> QtWidgets.QSpinBox:
        spin = QtWidgets.QSpinBox(parent)
        spin.setRange(low, high)
        spin.setToolTip(tip)
        spin.setMinimumWidth(80)
        spin.valueChanged.connect(self._on_staged_edit)
        return spin

    # ------------------------------------------------------------ controller -> widgets
    def _on_changed(self, snapshot: Snapshot) -> None:
        try:
            self._refresh(snapshot)
        except Exception as exc:  # a slot must not raise
            log.exception("inputs panel refresh failed")
            self.error.show_message(f"could not show the new settings: {exc}")

    def _refresh(self, snapshot: Snapshot, force: bool = False) -> None:
        cfg = snapshot.config
        for key in STAGED_KEYS:
            value = getattr(cfg, key)
            if force or self._loaded.get(key) != value:
                self._loaded[key] = value
                if force or self.staged()[key] != value:
                    self._write(key, value)
        tokens = len(snapshot.corpus.tokens)
        B, T = cfg.batch_size, cfg.context_length
        last = max(tokens - B * T - 1, 0)
        with QtCore.QSignalBlocker(self.position):
            if self.position.maximum() != last:  # (setMaximum lays the panel out again, even unchanged)
                self.position.setMaximum(last)
            if self.position.value() != snapshot.state.position:
                self.position.setValue(snapshot.state.position)
        self.position_range.setText(f"0 to {last}")
        self.stats.setText(f"Applied corpus: {tokens} tokens, a vocabulary of {len(snapshot.vocab)}; "
                           f"a batch reads B·T+1 = {B * T + 1} of them.")
        self._update_pending()

    def _write(self, key: str, value: Any) -> None:
        if key == "corpus":
            self._set_texts(list(value))
        elif key == "lowercase":
            with QtCore.QSignalBlocker(self.lowercase):
                self.lowercase.setChecked(value)
        else:
            spin = {"num_merges": self.merges, "batch_size": self.batch_size,
                    "context_length": self.context_length}[key]
            with QtCore.QSignalBlocker(spin):
                spin.setValue(value)

    def _set_texts(self, texts: list[str]) -> None:
        row = max(self.text_list.currentRow(), 0)
        self._texts = texts
        with QtCore.QSignalBlocker(self.text_list):
            self.text_list.clear()
            for i, text in enumerate(texts):
                self._add_item(i, text)
            if texts:
                self.text_list.setCurrentRow(min(row, len(texts) - 1))
        self._show_current_text()

    def _add_item(self, index: int, text: str) -> None:
        item = QtWidgets.QListWidgetItem(text_title(index, text))
        item.setToolTip(text[:400])
        self.text_list.addItem(item)

    def _show_current_text(self) -> None:
        row = self.text_list.currentRow()
        has_text = 0 <= row < len(self._texts)
        with QtCore.QSignalBlocker(self.editor):
            self.editor.setPlainText(self._texts[row] if has_text else "")
        self.editor.setEnabled(has_text)
        self.remove_button.setEnabled(has_text)

    def _update_pending(self) -> None:
        dirty = bool(self.staged_changes())
        self.pending.setText("Unapplied changes" if dirty else "")
        self.apply_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
        self.apply_button.setDefault(dirty)

    # ------------------------------------------------------------ widgets -> staging
    def _on_row_changed(self, row: int) -> None:
        self._show_current_text()

    def _on_text_edited(self) -> None:
        row = self.text_list.currentRow()
        if not 0 <= row < len(self._texts):
            return
        text = self.editor.toPlainText()
        self._texts[row] = text
        item = self.text_list.item(row)
        item.setText(text_title(row, text))
        item.setToolTip(text[:400])
        self._update_pending()

    def _on_add(self) -> None:
        self._texts.append("")
        with QtCore.QSignalBlocker(self.text_list):
            self._add_item(len(self._texts) - 1, "")
            self.text_list.setCurrentRow(len(self._texts) - 1)
        self._show_current_text()
        self.editor.setFocus()
        self._update_pending()

    def _on_remove(self) -> None:
        row = self.text_list.currentRow()
        if not 0 <= row < len(self._texts):
            return
        texts = self._texts[:row] + self._texts[row + 1:]
        with QtCore.QSignalBlocker(self.text_list):
            self.text_list.setCurrentRow(min(row, len(texts) - 1))
        self._set_texts(texts)
        self._update_pending()

    def _on_staged_edit(self, *_: object) -> None:
        self._update_pending()

    def _on_open_files(self) -> None:
        paths, _ = QtWidgets.QFileDialog.getOpenFileNames(
            self, "Open Text Files as the Corpus", self._open_folder,
            "Text files (*.txt *.md *.text);;All files (*)")
        if paths:
            self.open_text_files(paths)

    def _status(self, message: str) -> None:
        window = self.window()
        if isinstance(window, QtWidgets.QMainWindow):
            window.statusBar().showMessage(message, 8000)

    def _on_apply(self) -> None:
        self.apply()

    def _on_revert(self) -> None:
        self.revert()

    def _on_position(self, value: int) -> None:
        if value == self.controller.state.position:
            return
        if not self.error.attempt(self.controller.set_position, value):
            with QtCore.QSignalBlocker(self.position):
                self.position.setValue(self.controller.state.position)
