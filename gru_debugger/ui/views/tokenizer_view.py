"""The tokenizer's work: its merges, its vocabulary and the corpus as tokens.

The token stream is a QTextBrowser filled with generated HTML: one chip per
token in two neutral tints that alternate (so the boundaries between tokens
show without a rainbow of hues), the current batch window as a tinted band
labelled by batch row, and merged tokens (longer than one character)
underlined. The HTML is rebuilt only when the corpus, the batch
position, B, T or the colour scheme changed, so stepping stays fast. Long
corpora are rendered as a window of tokens around the batch.
"""
from __future__ import annotations

import html
import logging

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from ..widgets import theme
from ..widgets.subscribe import subscribe

log = logging.getLogger(__name__)

EOT = "<|endoftext|>"
MAX_RENDERED_TOKENS = 600       # tokens drawn in the stream around the batch
CONTEXT_BEFORE = 120            # tokens drawn before the batch window, when cut
NOT_RUN_NOTE = "Tokenizer not run yet: press F10"

# Row label colours for the batch rows (cycled for B > 4) and the target token.
_ROW_COLOURS_LIGHT = ("#1f5fbf", "#b4480b", "#2e7d32", "#8e24aa")
_ROW_COLOURS_DARK = ("#6aa8ff", "#ff9a57", "#77cc7a", "#d58cf0")


def visible(token: str) -> str:
    """A token string with its whitespace made visible (plain text)."""
    if token == EOT:
        return "⟨eot⟩"
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥").replace("\r", "␍")


# Chip backgrounds: (first, second) tint of neighbouring tokens; outside and inside the batch band.
_TINTS = {
    (False, False): ("#ececec", "#dadada"),   # light theme, outside the batch: neutral greys
    (False, True): ("#d9e6fb", "#bfd4f6"),    # light theme, the batch band: the same two steps, blue
    (True, False): ("#303236", "#3c3f44"),    # dark theme
    (True, True): ("#1f3350", "#2a4268"),
}


def token_colour(alternate: bool, dark: bool, in_batch: bool) -> str:
    """Chip background: one of two neutral tints (they alternate token by token, so a
    boundary always shows); inside the batch the band's tint."""
    return _TINTS[(dark, in_batch)][1 if alternate else 0]


def is_merged(token: str) -> bool:
    """A token the merges made (more than one character; not end-of-text)."""
    return token != EOT and len(token) > 1


class VocabModel(QtCore.QAbstractTableModel):
    """id | token | count in the stream; tokens of the current batch in bold."""

    HEADERS = ("id", "token", "count")

    def __init__(self, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self._vocab: tuple[str, ...] = ()
        self._counts = np.zeros(0, dtype=np.int64)
        self._in_batch: frozenset[int] = frozenset()
        self._bold = QtGui.QFont()
        self._bold.setBold(True)

    def set_data(self, vocab: tuple[str, ...], counts: np.ndarray, in_batch: frozenset[int]) -> None:
        self.beginResetModel()
        self._vocab, self._counts, self._in_batch = vocab, counts, in_batch
        self.endResetModel()

    def rowCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._vocab)

    def columnCount(self, parent: QtCore.QModelIndex = QtCore.QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: QtCore.Qt.Orientation,  # noqa: N802
                   role: int = QtCore.Qt.ItemDataRole.DisplayRole):
        if role == QtCore.Qt.ItemDataRole.DisplayRole and orientation == QtCore.Qt.Orientation.Horizontal:
            return self.HEADERS[section]
        return None

    def data(self, index: QtCore.QModelIndex, role: int = QtCore.Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._vocab):
            return None
        i, col = index.row(), index.column()
        token = self._vocab[i]
        if role == QtCore.Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return str(i)
            if col == 1:
                return visible(token)
            return str(int(self._counts[i])) if i < len(self._counts) else "0"
        if role == QtCore.Qt.ItemDataRole.FontRole and (i in self._in_batch or is_merged(token)):
            font = QtGui.QFont(self._bold if i in self._in_batch else QtGui.QFont())
            font.setUnderline(col == 1 and is_merged(token))  # merged tokens underlined, as in the stream
            return font
        if role == QtCore.Qt.ItemDataRole.TextAlignmentRole and col != 1:
            return int(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        if role == QtCore.Qt.ItemDataRole.ToolTipRole:
            where = " · in the current batch" if i in self._in_batch else ""
            count = int(self._counts[i]) if i < len(self._counts) else 0
            return f"id {i}: {token!r} · {count}× in the stream{where}"
        return None


class _StreamBrowser(QtWidgets.QTextBrowser):
    """A QTextBrowser whose tooltips name exactly the token under the mouse."""

    def viewportEvent(self, event: QtCore.QEvent) -> bool:  # noqa: N802
        if event.type() == QtCore.QEvent.Type.ToolTip:
            try:
                text = self.tooltip_at(event.pos())
            except Exception:  # never raise out of an event handler
                log.exception("token tooltip failed")
                text = ""
            if text:
                QtWidgets.QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QtWidgets.QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def tooltip_at(self, pos: QtCore.QPoint) -> str:
        point = QtCore.QPointF(pos.x() + self.horizontalScrollBar().value(),
                               pos.y() + self.verticalScrollBar().value())
        at = self.document().documentLayout().hitTest(point, QtCore.Qt.HitTestAccuracy.ExactHit)
        if at < 0:
            return ""
        cursor = QtGui.QTextCursor(self.document())
        cursor.setPosition(at)
        cursor.movePosition(QtGui.QTextCursor.MoveOperation.NextCharacter)  # format of the char at `at`
        return cursor.charFormat().toolTip()


class TokenizerView(QtWidgets.QWidget):
    """Merges, vocabulary and the token stream with the batch window marked."""

    def __init__(self, controller, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._controller = controller
        self._key: tuple | None = None
        self._corpus = None            # the Corpus shown (kept to compare by identity)
        self._html = ""
        self._window: tuple[int, int] | None = None     # batch window [start, stop) in stream indices
        self._rendered: tuple[int, int] = (0, 0)        # stream indices rendered [start, stop)
        self._marked: list[int] = []                    # stream indices drawn as the batch window
        self._tooltips: dict[int, str] = {}             # stream index -> chip tooltip

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self._stack = QtWidgets.QStackedWidget(self)
        layout.addWidget(self._stack)

        self._note = QtWidgets.QLabel(NOT_RUN_NOTE, self._stack)
        self._note.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._note.setWordWrap(True)
        self._stack.addWidget(self._note)

        content = QtWidgets.QWidget(self._stack)
        self._stack.addWidget(content)
        outer = QtWidgets.QVBoxLayout(content)
        outer.setContentsMargins(0, 0, 0, 0)
        self._summary = QtWidgets.QLabel(content)
        self._summary.setWordWrap(True)
        self._summary.setTextFormat(QtCore.Qt.TextFormat.RichText)
        outer.addWidget(self._summary)

        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal, content)
        outer.addWidget(splitter, 1)

        tables = QtWidgets.QWidget(splitter)
        tables_layout = QtWidgets.QVBoxLayout(tables)
        tables_layout.setContentsMargins(0, 0, 0, 0)
        self._merges_title = QtWidgets.QLabel("Merges", tables)
        tables_layout.addWidget(self._merges_title)
        self._merges_model = QtCore.QStringListModel(tables)
        self._merges = QtWidgets.QListView(tables)
        self._merges.setModel(self._merges_model)
        self._merges.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self._merges.setUniformItemSizes(True)
        self._merges.setAlternatingRowColors(True)
        tables_layout.addWidget(self._merges, 1)
        self._vocab_title = QtWidgets.QLabel("Vocabulary", tables)
        tables_layout.addWidget(self._vocab_title)
        self._vocab_model = VocabModel(tables)
        self._vocab = QtWidgets.QTableView(tables)
        self._vocab.setModel(self._vocab_model)
        self._vocab.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self._vocab.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self._vocab.verticalHeader().setVisible(False)
        self._vocab.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self._vocab.horizontalHeader().setStretchLastSection(True)
        self._vocab.setAlternatingRowColors(True)
        self._vocab.setWordWrap(False)
        tables_layout.addWidget(self._vocab, 3)

        stream_box = QtWidgets.QWidget(splitter)
        stream_layout = QtWidgets.QVBoxLayout(stream_box)
        stream_layout.setContentsMargins(0, 0, 0, 0)
        self._stream_title = QtWidgets.QLabel("Token stream", stream_box)
        self._stream_title.setWordWrap(True)
        stream_layout.addWidget(self._stream_title)
        self._stream = _StreamBrowser(stream_box)
        self._stream.setOpenLinks(False)
        self._stream.setOpenExternalLinks(False)
        self._stream.setWordWrapMode(QtGui.QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        stream_layout.addWidget(self._stream, 1)
        splitter.addWidget(tables)
        splitter.addWidget(stream_box)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([230, 600])

        subscribe(controller.changed, self, self._on_changed)
        self._refresh(controller.snapshot())

    # ------------------------------------------------------------ public
    def showing_note(self) -> bool:
        """True while the 'not run yet' note is shown instead of the content."""
        return self._stack.currentWidget() is self._note

    def note_text(self) -> str:
        return self._note.text() if self.showing_note() else ""

    def merge_lines(self) -> list[str]:
        return list(self._merges_model.stringList())

    def vocab_rows(self) -> int:
        return self._vocab_model.rowCount()

    def vocab_model(self) -> QtCore.QAbstractItemModel:
        return self._vocab_model

    def stream_html(self) -> str:
        """The generated HTML of the token stream (as given to the browser)."""
        return self._html

    def stream_text(self) -> str:
        return self._stream.toPlainText()

    def batch_window(self) -> tuple[int, int] | None:
        """Stream indices [start, stop) of the batch window: B*T x tokens and the last y."""
        return self._window

    def rendered_range(self) -> tuple[int, int]:
        """Stream indices [start, stop) drawn in the token stream."""
        return self._rendered

    def marked_indices(self) -> list[int]:
        """Stream indices drawn as part of the batch window."""
        return list(self._marked)

    def tooltip_for(self, index: int) -> str:
        """The tooltip of the chip of stream index ``index`` ('' if not drawn)."""
        return self._tooltips.get(index, "")

    def retheme(self) -> None:
        """View → Theme: the chips again, in the new scheme's colours."""
        self._key = None
        self._refresh(self._controller.snapshot())
        self.update()

    # ------------------------------------------------------------ slots
    def _on_changed(self, snapshot) -> None:
        try:
            self._refresh(snapshot)
        except Exception:  # never raise out of a slot
            log.exception("TokenizerView could not update")

    def showEvent(self, event: QtGui.QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self._scroll_to_batch()

    # ------------------------------------------------------------ building
    def _refresh(self, snapshot) -> None:
        if not snapshot.phase_done("tokenize"):
            self._stack.setCurrentWidget(self._note)
            return
        self._stack.setCurrentWidget(self._stack.widget(1))
        corpus = snapshot.corpus
        cfg = snapshot.config
        key = (snapshot.state.position, cfg.batch_size, cfg.context_length, theme.current().dark)
        if corpus is self._corpus and key == self._key:
            return
        self._corpus, self._key = corpus, key
        self._build(corpus, *key[:3])

    def _build(self, corpus, position: int, B: int, T: int) -> None:
        tokens = np.asarray(corpus.tokens)
        vocab = corpus.vocab
        n = len(tokens)
        stop = min(n, position + B * T + 1)
        self._window = (position, stop)
        in_batch = frozenset(int(i) for i in np.unique(tokens[position:stop]))
        counts = np.bincount(tokens, minlength=len(vocab)) if n else np.zeros(len(vocab), dtype=np.int64)

        ids = {token: i for i, token in enumerate(vocab)}
        lines = []
        for k, (a, b) in enumerate(corpus.merges, start=1):
            merged = a + b
            suffix = f"   (id {ids[merged]})" if merged in ids else ""
            lines.append(f"{k}. '{visible(a)}' + '{visible(b)}' → '{visible(merged)}'{suffix}")
        self._merges_model.setStringList(lines)
        self._merges_title.setText(f"<b>Merges</b> ({len(lines)}, in the order learned)")
        self._vocab_model.set_data(vocab, counts, in_batch)
        self._vocab.resizeColumnsToContents()
        self._vocab_title.setText(f"<b>Vocabulary</b> ({len(vocab)}; bold: in this batch; underlined: merged)")

        first, last = self._render_range(n, position, stop)
        self._rendered = (first, last)
        self._html = self._stream_html(tokens, vocab, corpus.eot_id, first, last, position, B, T)
        self._stream.setHtml(self._html)

        n_chars = len(vocab) - len(corpus.merges) - (1 if corpus.eot_id < len(vocab) else 0)
        self._summary.setText(
            f"{len(vocab)} tokens = {n_chars} characters + {len(corpus.merges)} merges + ⟨eot⟩ · "
            f"stream of {n} tokens · batch: tokens {position}…{stop - 1} "
            f"(B={B} rows × T={T}, plus one target)")
        cut = "" if (first, last) == (0, n) else \
            f" — showing tokens {first}…{last - 1} of {n}, around the batch"
        self._stream_title.setText(f"<b>Token stream</b>{cut}. Tokens alternate two tints; merged tokens are "
                                   f"underlined. The batch is the tinted band, in bold; b=0, b=1, … mark where "
                                   f"each row starts, +y the last target. Hover a token for its id.")
        self._scroll_to_batch()

    @staticmethod
    def _render_range(n: int, start: int, stop: int) -> tuple[int, int]:
        if n <= MAX_RENDERED_TOKENS:
            return 0, n
        first = max(0, start - CONTEXT_BEFORE)
        last = min(n, first + MAX_RENDERED_TOKENS)
        if last - first < MAX_RENDERED_TOKENS:
            first = max(0, last - MAX_RENDERED_TOKENS)
        return first, last

    def _stream_html(self, tokens: np.ndarray, vocab: tuple[str, ...], eot_id: int, first: int, last: int,
                     position: int, B: int, T: int) -> str:
        scheme = theme.current()
        dark = scheme.dark
        row_colours = _ROW_COLOURS_DARK if dark else _ROW_COLOURS_LIGHT
        dim_text = "#8a8f98" if dark else "#6b6f76"
        strong_text = scheme.foreground
        space_colour = "#9aa0a6" if dark else "#8a8f98"
        label_text = "#000000" if dark else "#ffffff"
        n_window = B * T
        parts: list[str] = [
            f'<html><body style="font-family: \'DejaVu Sans Mono\', monospace; font-size: 11pt; '
            f'color: {strong_text};"><p style="line-height: 150%;">']
        self._marked = []
        self._tooltips = {}
        if first > 0:
            parts.append(f'<span style="color: {dim_text};">… {first} tokens before … </span>')
        anchor_at = max(first, position - 24)
        for i in range(first, last):
            tid = int(tokens[i])
            token = vocab[tid] if 0 <= tid < len(vocab) else "?"
            rel = i - position
            in_window = 0 <= rel <= n_window
            if i == anchor_at:
                parts.append('<a name="batch"></a>')
            if i > first and tid == eot_id and int(tokens[i - 1]) == eot_id:
                parts.append("<br/>")
            if in_window and rel < n_window and rel % T == 0:
                b = rel // T
                colour = row_colours[b % len(row_colours)]
                parts.append(f'<span style="background-color: {colour}; color: {label_text}; font-weight: bold; '
                             f'font-size: 9pt;">&nbsp;b={b}&nbsp;</span>&#8202;')
            elif in_window and rel == n_window:
                colour = row_colours[(B - 1) % len(row_colours)]
                parts.append(f'&#8202;<span style="color: {colour}; font-weight: bold; font-size: 9pt;">'
                             f'+y&#8202;</span>')
            where = f"stream index {i}"
            if in_window:
                self._marked.append(i)
                if rel < n_window:
                    where += f" · batch row b={rel // T}, t={rel % T} (x)"
                else:
                    where += f" · last target y[{B - 1}, {T - 1}]"
            tip = f"id {tid}: {token!r} · {where}"
            self._tooltips[i] = tip
            bg = token_colour((i % 2) == 1, dark, in_window)
            style = [f"background-color: {bg}"]
            if is_merged(token):
                style.append("text-decoration: underline")
            if in_window:
                style.append("font-weight: bold")
                style.append(f"color: {strong_text}")
            else:
                style.append(f"color: {dim_text}")
            if tid == eot_id:
                style.append("font-size: 8pt")
                text = "⟨eot⟩"
            else:
                text = self._chip_text(token, space_colour)
            # Lines may break only between words (before a token that starts with
            # whitespace) and around end-of-text, so words stay on one line.
            if i > first and (tid == eot_id or int(tokens[i - 1]) == eot_id or token[:1].isspace()):
                parts.append("&#8203;")
            parts.append(f'<span title="{html.escape(tip, quote=True)}" style="{"; ".join(style)}">'
                         f'{text}</span>')
        if last < len(tokens):
            parts.append(f'<span style="color: {dim_text};"> … {len(tokens) - last} tokens after …</span>')
        parts.append("</p></body></html>")
        return "".join(parts)

    @staticmethod
    def _chip_text(token: str, space_colour: str) -> str:
        out = []
        for ch in token:
            shown = visible(ch)
            if shown != ch:
                out.append(f'<span style="color: {space_colour};">{html.escape(shown)}</span>')
            else:
                out.append(html.escape(ch))
        return "".join(out)

    def _scroll_to_batch(self) -> None:
        if self._window is not None and self._html:
            self._stream.scrollToAnchor("batch")
