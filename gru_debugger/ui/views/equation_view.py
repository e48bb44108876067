"""The Equation panel: the current step's equations with the numbers of one
batch row b and one hidden unit j substituted in.

The pages are built by :mod:`equation_pages` (no Qt); this widget renders
them and keeps the row and unit selection.
"""
from __future__ import annotations

import logging

from PySide6 import QtCore, QtGui, QtWidgets

from ..widgets import theme
from ..widgets.page_view import PageView
from ..widgets.subscribe import subscribe
from ..widgets.view_state import ViewState
from ..widgets.equation_format import Page, esc, fmt  # noqa: F401 (fmt: the format tests compare with)
from .equation_pages import build_page

log = logging.getLogger(__name__)

CURRENT_MARK = "▶"  # marks the current line; the view scrolls it into view after a step
AHEAD_MS = 40        # idle time after a change before the next step's page is prepared


class EquationView(QtWidgets.QWidget):
    """The current step's equation(s) with live numbers for row b and unit j."""

    def __init__(self, controller, view_state: ViewState, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self._controller = controller
        self._view_state = view_state
        self._snapshot = None
        self._html = ""
        self._shown_cursor: int | None = None

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        header = QtWidgets.QHBoxLayout()
        layout.addLayout(header)
        self._b_label = QtWidgets.QLabel("Row b =", self)
        header.addWidget(self._b_label)
        self._b_spin = QtWidgets.QSpinBox(self)
        self._b_spin.setToolTip("Batch row b whose numbers the equations show")
        header.addWidget(self._b_spin)
        self._j_label = QtWidgets.QLabel(", unit j =", self)
        header.addWidget(self._j_label)
        self._j_spin = QtWidgets.QSpinBox(self)
        self._j_spin.setToolTip("Hidden unit j whose numbers the equations show")
        header.addWidget(self._j_spin)
        self._hint = QtWidgets.QLabel(self)
        self._hint.setEnabled(False)  # drawn in the muted colour
        header.addWidget(self._hint)
        header.addStretch(1)
        self._b_label.setBuddy(self._b_spin)
        self._j_label.setBuddy(self._j_spin)

        self._page = PageView(self)
        self._page.setAccessibleName("Equations")
        layout.addWidget(self._page, 1)
        # The next step's page, parsed, laid out and painted in idle time, or None.
        self._ahead: tuple[str, QtGui.QTextDocument, int, QtCore.QSize] | None = None  # + scroll, viewport size
        self._ahead_timer = QtCore.QTimer(self)
        self._ahead_timer.setSingleShot(True)
        self._ahead_timer.setInterval(AHEAD_MS)
        self._ahead_timer.timeout.connect(self._prepare_ahead)

        self._b_spin.valueChanged.connect(self._on_b_spin)
        self._j_spin.valueChanged.connect(self._on_j_spin)
        subscribe(controller.changed, self, self._on_changed)
        view_state.changed.connect(self._on_view_changed)
        self._snapshot = controller.snapshot()
        self._refresh()

    # ------------------------------------------------------------ public
    def plain_text(self) -> str:
        """The shown equations and explanation as plain text."""
        return self._page.toPlainText()

    def page(self) -> PageView:
        """The widget that shows the page (for pictures of the panel)."""
        return self._page

    def html(self) -> str:
        return self._html

    def selection(self) -> tuple[int, int]:
        """(b, j) as shown: the view state's selection, clamped to B and H."""
        cfg = self._snapshot.config
        return (min(max(self._view_state.batch_row, 0), cfg.batch_size - 1),
                min(max(self._view_state.unit, 0), cfg.hidden_size - 1))

    def retheme(self) -> None:
        """View → Theme: the page again, in the new scheme's colours."""
        self._ahead = None
        self._refresh()

    # ------------------------------------------------------------ slots
    def _on_changed(self, snapshot) -> None:
        try:
            self._snapshot = snapshot
            self._refresh()
        except Exception:  # never raise out of a slot
            log.exception("EquationView could not update")

    def _on_view_changed(self) -> None:
        try:
            self._refresh()
        except Exception:  # never raise out of a slot
            log.exception("EquationView could not update")

    def _on_b_spin(self, value: int) -> None:
        try:
            self._view_state.select(batch_row=int(value))
        except Exception:
            log.exception("could not select batch row")

    def _on_j_spin(self, value: int) -> None:
        try:
            self._view_state.select(unit=int(value))
        except Exception:
            log.exception("could not select unit")

    # ------------------------------------------------------------ rendering
    def _refresh(self) -> None:
        snap = self._snapshot
        if snap is None:
            return
        cfg = snap.config
        b, j = self.selection()
        _set_spin(self._b_spin, cfg.batch_size - 1, b)
        _set_spin(self._j_spin, cfg.hidden_size - 1, j)
        try:
            page = build_page(snap, b, j)
        except Exception as exc:  # show the problem instead of raising out of a slot
            log.exception("equations failed")
            page = Page("Equations unavailable", [], f"Could not show the equations for this step: {esc(str(exc))}",
                        uses_b=False)
        # Greyed out: the selection does not change what this phase shows.
        self._b_spin.setEnabled(page.uses_b)
        self._b_label.setEnabled(page.uses_b)
        self._j_spin.setEnabled(page.uses_j)
        self._j_label.setEnabled(page.uses_j)
        if not page.uses_b:
            self._hint.setText("(no per-row numbers in this phase)")
        else:
            self._hint.setText("" if page.uses_j else "(this phase does not depend on j)")
        html_text = render_html(page, b, j)
        self._ahead_timer.start()  # (again) after this change: prepare the next step's page
        if html_text == self._html:
            return
        # Keep the scroll position while only b or j changes; start at the top on a new step.
        same_step = snap.cursor == self._shown_cursor
        self._shown_cursor = snap.cursor
        self._html = html_text
        bar = self._page.verticalScrollBar()
        keep = bar.value()
        scroll = self._show_html(self._html)
        if same_step:
            bar.setValue(keep)
        elif scroll is not None:  # where the page made ahead is to be read, found then
            bar.setValue(scroll)
        else:
            bar.setValue(0)
            self._scroll_to_current()

    def _show_html(self, html_text: str) -> int | None:
        """Show ``html_text``: the document prepared ahead if it is that page, else parsed now.
        Returns the scroll position found for the page made ahead (None: find it now)."""
        ahead, self._ahead = self._ahead, None
        if ahead is None or ahead[0] != html_text:
            if ahead is not None:
                ahead[1].deleteLater()
            self._page.setHtml(html_text)
            return None
        _, document, scroll, size = ahead
        self._page.set_document(document)  # laid out for the page already: shown as it is
        return scroll if self._page.viewport().size() == size else None

    def _prepare_ahead(self) -> None:
        """In idle time: the page Step would show next, parsed, laid out for the page view and painted
        where it will be scrolled to."""
        try:
            snap = self._snapshot
            following = snap.ahead() if snap is not None else None
            if following is None:
                return
            b, j = self.selection()
            html_text = render_html(build_page(following, b, j), b, j)
            if self._ahead is not None:
                if self._ahead[0] == html_text:
                    return
                self._ahead[1].deleteLater()
                self._ahead = None
            if html_text == self._html:
                return
            document = self._page.make_document(html_text)  # laid out now, not on the click
            scroll = min(max(0, self._scroll_for(document, 0) or 0), self._page.scroll_range(document))
            self._page.prepare_picture(document, scroll)
            self._ahead = (html_text, document, scroll, self._page.shown_size(document))
        except Exception:  # never raise out of a slot; the next click parses the page itself
            log.exception("EquationView could not prepare the next page")

    def current_line_rect(self) -> QtCore.QRect | None:
        """The current line's (▶) rectangle in viewport coordinates; None if no line is current."""
        return self._line_rect(self._page.document(), self._page.verticalScrollBar().value())

    def _line_rect(self, document: QtGui.QTextDocument, scroll: int) -> QtCore.QRect | None:
        """The current line's rectangle in ``document`` (laid out for the page) scrolled to ``scroll``."""
        cursor = document.find(CURRENT_MARK)
        if cursor.isNull():
            return None
        block = cursor.block()
        layout = document.documentLayout()
        # The ▶ sits in the row's first cell: the row is as tall as its tallest cell (the equation).
        rect = layout.blockBoundingRect(block)
        mark = self._page.cursorRect(cursor, scroll)
        top = int(rect.top()) - scroll
        table = cursor.currentTable()
        height = int(rect.height())
        if table is not None:
            cell = table.cellAt(cursor)
            row = cell.row()
            for column in range(table.columns()):
                other = table.cellAt(row, column).firstCursorPosition().block()
                height = max(height, int(layout.blockBoundingRect(other).bottom() - rect.top()))
        return QtCore.QRect(mark.left(), top, max(mark.width(), 1), max(height, 1))

    def _scroll_for(self, document: QtGui.QTextDocument, scroll: int) -> int | None:
        """Where to scroll ``document`` (at ``scroll`` now) to bring its current line (▶) into view, a
        little below the top when there is room; None when it is in view or there is no current line."""
        rect = self._line_rect(document, scroll)
        if rect is None:
            return None
        viewport = self._page.viewport().rect()
        if viewport.top() <= rect.top() and rect.bottom() <= viewport.bottom():
            return None
        return scroll + rect.top() - max(0, (viewport.height() - rect.height()) // 3)

    def _scroll_to_current(self) -> None:
        """Bring the current line (▶) into view."""
        bar = self._page.verticalScrollBar()
        target = self._scroll_for(self._page.document(), bar.value())
        if target is not None:
            bar.setValue(target)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        if self._page.verticalScrollBar().value() == 0:  # laid out again: the current line may have moved
            self._scroll_to_current()


def _set_spin(spin: QtWidgets.QSpinBox, maximum: int, value: int) -> None:
    """Range 0..maximum and the value, without signals; untouched (not repainted) when unchanged."""
    if spin.maximum() == maximum and spin.minimum() == 0 and spin.value() == value:
        return
    with QtCore.QSignalBlocker(spin):
        spin.setRange(0, maximum)
        spin.setValue(value)


def render_html(page: Page, b: int = 0, j: int = 0) -> str:
    scheme = theme.current()
    fg = scheme.foreground
    muted = "#9aa0a6" if scheme.dark else "#5f6368"
    current_bg = "#3b3320" if scheme.dark else "#fff1dc"
    label_colour = scheme.active
    rows = []
    for line in page.lines:
        bg = f' style="background-color: {current_bg};"' if line.current else ""
        marker = CURRENT_MARK if line.current else ""
        rows.append(
            f'<tr{bg}><td style="color: {label_colour}; padding-right: 6px;" width="14">{marker}</td>'
            f'<td style="color: {muted};" width="64">{line.label}</td>'
            f'<td style="font-family: \'DejaVu Serif\', \'Cambria Math\', serif; font-size: 12pt;">{line.html}</td>'
            f'</tr>')
    where = ""
    if page.uses_b:
        where = f"row b = {b}" + (f", unit j = {j}" if page.uses_j else "")
        where = f'<span style="color: {muted};">&nbsp;&nbsp;&nbsp;({where})</span>'
    table = (f'<table cellspacing="0" cellpadding="3" width="100%">{"".join(rows)}</table>' if rows else "")
    return (f'<html><body style="color: {fg};">'
            f'<p><span style="font-size: 13pt; font-weight: bold;">{page.title}</span>{where}</p>{table}'
            f'<p style="margin-top: 12px;">{page.explanation}</p></body></html>')


