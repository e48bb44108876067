"""A scrolling rich-text page that shows a document laid out beforehand.

``QTextBrowser.setDocument`` lays a document out again at the browser's width
(``QTextEdit`` re-sets the page size, and Qt then redoes the whole layout), so
a page parsed and laid out in idle time costs the click a second layout: about
a millisecond for an equation page, more for a long backward page. A
:class:`PageView` draws the document it is given as it is. A document made by
:meth:`PageView.make_document` is laid out as the view will show it (less the
scroll bar's width when it is taller than the view: the view shows the bar at
once, not on a later pass of the event loop, so the page never reflows after
it is shown) and is then shown without another layout.

:meth:`PageView.prepare_picture` goes one step further: it paints, in idle
time, what the view will show of a document at a given scroll position, and
the view copies that image when it gets there.

It keeps what a reader does with such a page: scrolling (wheel, keys, bar),
selecting text with the mouse (double-click: a word), Select All and Copy
(keys and context menu). It holds the documents it shows and deletes the one
it replaces.
"""
from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

SCROLL_STEP = 20  # pixels per arrow-key or wheel step (what QTextEdit uses)


class PageView(QtWidgets.QAbstractScrollArea):
    """Shows a :class:`QtGui.QTextDocument` read-only, with selection and copy."""

    def __init__(self, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent)
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # see _show_fitted
        self.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
        viewport = self.viewport()
        viewport.setBackgroundRole(QtGui.QPalette.ColorRole.Base)
        viewport.setAutoFillBackground(True)
        viewport.setCursor(QtCore.Qt.CursorShape.IBeamCursor)
        self.verticalScrollBar().setSingleStep(SCROLL_STEP)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)  # a method: no reference cycle
        self._document = self.make_document()
        self._picture: tuple | None = None  # (document, key, image): see prepare_picture
        self.pictures_used = 0              # paints that copied a prepared picture (for tests)
        self._anchor: int | None = None  # the selection: anchor and position (characters)
        self._position = 0
        self._dragging = False

    # ------------------------------------------------------------ documents
    def make_document(self, html: str = "") -> QtGui.QTextDocument:
        """A document in this view's font, holding ``html``, laid out as this view shows it."""
        document = QtGui.QTextDocument(self)
        document.setUndoRedoEnabled(False)
        document.setDefaultFont(self.font())
        if html:
            document.setHtml(html)
        self._fit(document)
        document.documentLayout().documentSize()  # lays it all out now
        return document

    def text_width(self) -> int:
        """The width the shown page is laid out at (the viewport's)."""
        return self.viewport().width()

    def _widths(self) -> tuple[int, int]:
        """The text width without and with the scroll bar."""
        bar = self.verticalScrollBar().sizeHint().width()
        full = self.maximumViewportSize().width()  # less the bar's width while the bar is on
        if self.verticalScrollBarPolicy() == QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOn:
            full += bar
        return full, full - bar

    def _fit(self, document: QtGui.QTextDocument) -> bool:
        """Lay ``document`` out at the width it is shown at (less the scroll bar's when it is taller
        than the view); True when it needs the scroll bar. Nothing is laid out again if it is."""
        full, narrow = self._widths()
        height = self.maximumViewportSize().height()
        if document.textWidth() == narrow and document.size().height() > height:
            return True
        if document.textWidth() != full:
            document.setTextWidth(full)
        if document.size().height() <= height:
            return False
        document.setTextWidth(narrow)
        return True

    def _show_fitted(self) -> None:
        """Lay the shown page out for the view, with a scroll bar only when it is needed."""
        policy = (QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOn if self._fit(self._document)
                  else QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        if self.verticalScrollBarPolicy() != policy:
            self.setVerticalScrollBarPolicy(policy)  # the viewport is resized now, not on a later pass
        self._sync_scroll_bar()

    def document(self) -> QtGui.QTextDocument:
        return self._document

    def set_document(self, document: QtGui.QTextDocument) -> None:
        """Show ``document`` (taking it over) from its top; the one shown before is deleted."""
        if document is self._document:
            return
        old, self._document = self._document, document
        document.setParent(self)
        self._anchor, self._position, self._dragging = None, 0, False
        self._show_fitted()
        self.viewport().update()
        old.deleteLater()

    def setHtml(self, html: str) -> None:  # noqa: N802 (the QTextEdit name)
        self.set_document(self.make_document(html))

    def toPlainText(self) -> str:  # noqa: N802 (the QTextEdit name)
        return self._document.toPlainText()

    # ------------------------------------------------------------ geometry
    def _sync_scroll_bar(self) -> None:
        bar = self.verticalScrollBar()
        bar.setPageStep(self.viewport().height())
        bar.setRange(0, self.scroll_range(self._document))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._show_fitted()

    def _on_scrolled(self, _value: int) -> None:
        self.viewport().update()

    def scroll_range(self, document: QtGui.QTextDocument) -> int:
        """How far the view can scroll ``document`` (laid out for this view)."""
        return max(0, int(round(document.size().height())) - self.maximumViewportSize().height())

    def block_rect(self, block: QtGui.QTextBlock, scroll: int | None = None) -> QtCore.QRectF:
        """A block's rectangle in viewport coordinates, its document scrolled to ``scroll``
        (default: where the view is)."""
        rect = block.document().documentLayout().blockBoundingRect(block)
        return rect.translated(0, -(self.verticalScrollBar().value() if scroll is None else scroll))

    def cursorRect(self, cursor: QtGui.QTextCursor, scroll: int | None = None) -> QtCore.QRect:  # noqa: N802
        """The rectangle of the text cursor ``cursor`` in viewport coordinates (as QTextEdit's
        ``cursorRect``), its document scrolled to ``scroll`` (default: where the view is)."""
        block = cursor.block()
        corner = self.block_rect(block, scroll).topLeft()
        layout = block.layout()
        offset = cursor.position() - block.position()
        line = layout.lineForTextPosition(offset) if layout is not None else QtGui.QTextLine()
        if not line.isValid():
            return QtCore.QRectF(corner.x(), corner.y(), 1, 10).toRect()
        return QtCore.QRectF(corner.x() + line.cursorToX(offset)[0], corner.y() + line.y(), 1, line.height()).toRect()

    # ------------------------------------------------------------ painting
    def shown_size(self, document: QtGui.QTextDocument) -> QtCore.QSize:
        """The viewport's size while ``document`` (made by :meth:`make_document`) is shown."""
        return QtCore.QSize(int(document.textWidth()), self.maximumViewportSize().height())

    def _picture_key(self, document: QtGui.QTextDocument, scroll: int, size: QtCore.QSize) -> tuple:
        """Everything a picture of the view depends on besides the document itself."""
        return (scroll, size.width(), size.height(), self.viewport().devicePixelRatioF(), document.textWidth(),
                document.revision(), self.palette().cacheKey())

    def prepare_picture(self, document: QtGui.QTextDocument, scroll: int) -> None:
        """Idle time: paint what the view will show of ``document`` scrolled to ``scroll``, so that
        showing it there copies one image (drawn as :meth:`paintEvent` draws, a test compares them)."""
        size = self.shown_size(document)
        ratio = self.viewport().devicePixelRatioF()
        image = QtGui.QImage(max(1, round(size.width() * ratio)), max(1, round(size.height() * ratio)),
                             QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        image.fill(self.palette().color(QtGui.QPalette.ColorRole.Base))
        painter = QtGui.QPainter(image)
        try:
            self._draw(painter, document, scroll, QtCore.QRect(QtCore.QPoint(0, 0), size), None)
        finally:
            painter.end()
        self._picture = (document, self._picture_key(document, scroll, size), image)

    def _draw(self, painter: QtGui.QPainter, document: QtGui.QTextDocument, scroll: int, rect: QtCore.QRect,
              selection: QtGui.QTextCursor | None) -> None:
        painter.translate(0, -scroll)
        context = QtGui.QAbstractTextDocumentLayout.PaintContext()
        context.clip = QtCore.QRectF(rect.translated(0, scroll))
        context.palette = self.palette()
        if selection is not None and selection.hasSelection():
            chosen = QtGui.QAbstractTextDocumentLayout.Selection()
            chosen.cursor = selection
            chosen.format.setBackground(self.palette().brush(QtGui.QPalette.ColorRole.Highlight))
            chosen.format.setForeground(self.palette().brush(QtGui.QPalette.ColorRole.HighlightedText))
            context.selections = [chosen]
        document.documentLayout().draw(painter, context)

    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QtGui.QPainter(self.viewport())
        try:
            scroll = self.verticalScrollBar().value()
            selection = self.selection()
            picture = self._picture
            if (picture is not None and picture[0] is self._document and not selection.hasSelection()
                    and picture[1] == self._picture_key(self._document, scroll, self.viewport().size())):
                painter.drawImage(QtCore.QPoint(0, 0), picture[2])
                self.pictures_used += 1
            else:
                self._draw(painter, self._document, scroll, event.rect(), selection)
        finally:
            painter.end()

    # ------------------------------------------------------------ selection
    def selection(self) -> QtGui.QTextCursor:
        """The selected text as a cursor (no selection: a cursor without one)."""
        cursor = QtGui.QTextCursor(self._document)
        if self._anchor is not None and self._anchor != self._position:
            cursor.setPosition(self._anchor)
            cursor.setPosition(self._position, QtGui.QTextCursor.MoveMode.KeepAnchor)
        return cursor

    def selected_text(self) -> str:
        """The selection as plain text (paragraphs on lines of their own)."""
        return self.selection().selection().toPlainText()

    def select_all(self) -> None:
        end = QtGui.QTextCursor(self._document)
        end.movePosition(QtGui.QTextCursor.MoveOperation.End)
        self._anchor, self._position = 0, end.position()
        self.viewport().update()

    def copy(self) -> None:
        text = self.selected_text()
        if text:
            QtGui.QGuiApplication.clipboard().setText(text)

    def _hit(self, point: QtCore.QPointF) -> int:
        shifted = QtCore.QPointF(point.x(), point.y() + self.verticalScrollBar().value())
        found = self._document.documentLayout().hitTest(shifted, QtCore.Qt.HitTestAccuracy.FuzzyHit)
        return max(0, found)

    def mousePressEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        where = self._hit(event.position())
        if not (event.modifiers() & QtCore.Qt.KeyboardModifier.ShiftModifier and self._anchor is not None):
            self._anchor = where
        self._position = where
        self._dragging = True
        self.viewport().update()
        event.accept()

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if not self._dragging:
            return super().mouseMoveEvent(event)
        y = event.position().y()
        bar = self.verticalScrollBar()
        if y < 0:  # dragged past an edge: scroll along
            bar.setValue(bar.value() - SCROLL_STEP)
        elif y > self.viewport().height():
            bar.setValue(bar.value() + SCROLL_STEP)
        self._position = self._hit(event.position())
        self.viewport().update()
        event.accept()

    def mouseReleaseEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != QtCore.Qt.MouseButton.LeftButton or not self._dragging:
            return super().mouseReleaseEvent(event)
        self._dragging = False
        clipboard = QtGui.QGuiApplication.clipboard()
        text = self.selected_text()
        if text and clipboard.supportsSelection():
            clipboard.setText(text, QtGui.QClipboard.Mode.Selection)
        event.accept()

    def mouseDoubleClickEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() != QtCore.Qt.MouseButton.LeftButton:
            return super().mouseDoubleClickEvent(event)
        cursor = QtGui.QTextCursor(self._document)
        cursor.setPosition(self._hit(event.position()))
        cursor.select(QtGui.QTextCursor.SelectionType.WordUnderCursor)
        self._anchor, self._position = cursor.anchor(), cursor.position()
        self._dragging = False
        self.viewport().update()
        event.accept()

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.matches(QtGui.QKeySequence.StandardKey.Copy):
            self.copy()
        elif event.matches(QtGui.QKeySequence.StandardKey.SelectAll):
            self.select_all()
        else:
            return super().keyPressEvent(event)
        event.accept()

    def contextMenuEvent(self, event: QtGui.QContextMenuEvent) -> None:  # noqa: N802 (Qt name)
        menu = QtWidgets.QMenu(self)
        copy = menu.addAction("Copy", self.copy)
        copy.setShortcut(QtGui.QKeySequence.StandardKey.Copy)
        copy.setEnabled(self.selection().hasSelection())
        select = menu.addAction("Select All", self.select_all)
        select.setShortcut(QtGui.QKeySequence.StandardKey.SelectAll)
        menu.exec(event.globalPos())
        menu.deleteLater()
