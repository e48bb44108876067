"""Work done in idle time for the next click gives exactly what the click would have computed."""
import time

from gru_debugger.core.config import Config
from gru_debugger.core.controller import Controller
from gru_debugger.ui.views.equation_view import AHEAD_MS, EquationView, render_html
from gru_debugger.ui.views.equation_pages import build_page
from gru_debugger.ui.widgets.view_state import ViewState


def idle(qapp, ms):
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        qapp.processEvents()
        time.sleep(0.002)


def test_snapshot_ahead_is_the_next_step():
    ctl = Controller(Config())
    ctl.run_to("cell", 2)
    ahead = ctl.snapshot().ahead()
    ctl.step()
    assert ahead.cursor == ctl.snapshot().cursor and ahead.step == ctl.snapshot().step
    ctl.run_to_end()
    assert ctl.snapshot().ahead() is None


def test_the_equation_page_prepared_ahead_is_the_one_the_step_shows(qapp, caplog):
    ctl = Controller(Config())
    view = EquationView(ctl, ViewState())
    view.resize(500, 600)
    view.show()
    used = 0
    for _ in range(12):  # tokenize … into the cell and beyond
        idle(qapp, AHEAD_MS * 3)
        prepared = view._ahead
        ctl.step()
        snap = ctl.snapshot()
        b, j = view.selection()
        assert view.html() == render_html(build_page(snap, b, j), b, j)
        if prepared is not None and prepared[0] == view.html():
            assert view._browser.document() is prepared[1]  # shown without parsing it again
            used += 1
        text = view.plain_text()
        view._browser.setHtml(view.html())  # parsed afresh: the same text
        assert view.plain_text() == text
    assert used >= 8
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    view.close()
