"""The Equation panel's page: shown as laid out ahead, read like a text browser (scroll, select, copy)."""
from PySide6 import QtCore, QtGui, QtWidgets
from pytestqt.qtbot import QtBot

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui.views.equation_view import CURRENT_MARK, EquationView
from gru_debugger.ui.widgets.page_view import PageView
from gru_debugger.ui.widgets.view_state import ViewState

HTML = ("<p><b>Title</b> first paragraph with several words to wrap around the page</p>"
        "<table width='100%'><tr><td width='40'>a</td><td>alpha = 1.25 ▶ here</td></tr>"
        "<tr><td>b</td><td>beta = −3.5</td></tr></table><p>closing words</p>")


def _page(qtbot: QtBot, html: str = HTML, size=(300, 200)) -> PageView:
    page = PageView()
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    qtbot.waitExposed(page)
    page.setHtml(html)
    return page


def test_a_document_made_at_the_text_width_is_shown_without_another_layout(qtbot):
    page = _page(qtbot)
    document = page.make_document(HTML)
    assert document.textWidth() == page.text_width()
    relaid = []
    document.documentLayout().update.connect(lambda *_: relaid.append(1))
    document.documentLayout().documentSizeChanged.connect(lambda *_: relaid.append(1))
    page.set_document(document)
    assert page.document() is document and not relaid
    # the page a text browser would show: same text, same height
    browser = QtWidgets.QTextBrowser()
    qtbot.addWidget(browser)
    browser.setFont(page.font())
    browser.resize(page.size())
    browser.setHtml(HTML)
    assert page.toPlainText() == browser.toPlainText()


def test_the_page_it_replaces_is_deleted(qtbot):
    page = _page(qtbot)
    for k in range(20):
        page.setHtml(f"<p>page {k}</p>")
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    assert len(page.findChildren(QtGui.QTextDocument)) == 1
    assert page.toPlainText() == "page 19"


def _at(page: PageView, text: str, start: bool = False) -> QtCore.QPoint:
    """The middle of the text cursor just after (or before) ``text`` on the page, in viewport pixels."""
    found = page.document().find(text)
    cursor = QtGui.QTextCursor(page.document())
    cursor.setPosition(found.anchor() if start else found.position())
    return page.cursorRect(cursor).center()


def test_cursor_rect_is_the_one_a_text_browser_gives(qtbot):
    page = _page(qtbot, size=(260, 60))
    browser = QtWidgets.QTextBrowser()
    qtbot.addWidget(browser)
    browser.setFont(page.font())
    browser.resize(page.size())
    browser.show()
    browser.setHtml(HTML)
    for value in (0, 25):
        page.verticalScrollBar().setValue(value)
        browser.verticalScrollBar().setValue(value)
        assert page.verticalScrollBar().value() == browser.verticalScrollBar().value() == value
        for text in ("▶", "beta", "closing"):
            mine, theirs = page.document().find(text), browser.document().find(text)
            assert page.cursorRect(mine) == browser.cursorRect(theirs), text


def test_drag_selects_and_copy_puts_the_selection_on_the_clipboard(qtbot):
    page = _page(qtbot)
    clipboard = QtGui.QGuiApplication.clipboard()
    clipboard.setText("before")
    start, end = _at(page, "alpha", start=True) + QtCore.QPoint(2, 0), _at(page, "1.25")  # inside its first letter
    qtbot.mousePress(page.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(page.viewport(), end)
    qtbot.mouseRelease(page.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=end)
    chosen = page.selected_text()
    assert chosen == "alpha = 1.25"
    qtbot.keyClick(page, QtCore.Qt.Key.Key_C, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert clipboard.text() == chosen
    # a new page drops the selection
    page.setHtml("<p>other</p>")
    assert page.selected_text() == ""


def test_double_click_selects_a_word_and_select_all_selects_the_page(qtbot):
    page = _page(qtbot)
    where = _at(page, "clos")
    qtbot.mouseDClick(page.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=where)
    assert page.selected_text() == "closing"
    qtbot.keyClick(page, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert page.selected_text() == page.toPlainText()
    assert page.grab().toImage() != _page(qtbot).grab().toImage()  # the selection is drawn


def test_the_selection_is_painted_in_the_highlight_colour(qtbot):
    page = _page(qtbot)
    plain = page.viewport().grab().toImage()
    page.select_all()
    chosen = page.viewport().grab().toImage()
    highlight = page.palette().color(QtGui.QPalette.ColorRole.Highlight).rgb()
    count = lambda image: sum(image.pixel(x, y) == highlight  # noqa: E731
                              for x in range(0, image.width(), 3) for y in range(0, image.height(), 3))
    assert count(plain) == 0 and count(chosen) > 50


def test_the_equation_panel_keeps_no_old_pages(qtbot):
    ctl = Controller(Config())
    view = EquationView(ctl, ViewState())
    qtbot.addWidget(view)
    view.resize(500, 600)
    view.show()
    for _ in range(8):  # into the cell, where a line is current
        ctl.step()
        view._prepare_ahead()  # as idle time does: a page made ahead, used by the next step
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    assert len(view.findChildren(QtGui.QTextDocument)) <= 2  # the one shown and the one made ahead
    assert CURRENT_MARK in view.plain_text()


def test_a_long_page_gets_its_scroll_bar_at_once_and_a_short_one_none(qtbot):
    page = _page(qtbot, html="<p>short</p>", size=(300, 100))
    assert not page.verticalScrollBar().isVisibleTo(page)
    wide = page.viewport().width()
    long_page = page.make_document("".join(f"<p>line {k} with a few words</p>" for k in range(30)))
    page.set_document(long_page)  # no pass of the event loop in between
    bar = page.verticalScrollBar()
    assert bar.isVisibleTo(page) and bar.maximum() > 0
    assert page.viewport().width() < wide
    assert long_page.textWidth() == page.viewport().width()  # laid out at the width it is shown at
    bar.setValue(bar.maximum())
    last = page.document().find("line 29")
    assert page.viewport().rect().contains(page.cursorRect(last))
    page.setHtml("<p>short again</p>")
    assert not bar.isVisibleTo(page) and page.document().textWidth() == page.viewport().width() == wide


def test_the_page_painted_ahead_is_the_page_the_step_paints_and_scrolled_the_same(qtbot):
    ctl = Controller(Config())
    view = EquationView(ctl, ViewState())
    qtbot.addWidget(view)
    view.resize(420, 260)  # short: a timestep's page scrolls to its last line, the current one
    view.show()
    qtbot.waitExposed(view)
    ctl.run_to("cell", 1)
    page, scrolled = view.page(), 0
    for _ in range(5):
        view._prepare_ahead()  # as idle time does
        used = page.pictures_used
        ctl.step()
        shown = page.viewport().grab().toImage()
        assert page.pictures_used == used + 1  # copied, not drawn
        bar = page.verticalScrollBar()
        value = bar.value()
        scrolled += value > 0
        page._picture = None  # drawn afresh: the same pixels
        assert page.viewport().grab().toImage() == shown
        bar.setValue(0)  # found afresh: the same place
        view._scroll_to_current()
        assert bar.value() == value
    assert scrolled >= 3
