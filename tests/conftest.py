import os

# Qt tests draw offscreen: no display needed, in CI or anywhere else.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402

import pytest  # noqa: E402 (after the platform is chosen)


@pytest.fixture(autouse=True, scope="session")
def _collect_on_the_main_thread():
    """As the window does (ui/qt_setup.py, collect_on_the_gui_thread): no automatic collection, which
    could run in a worker thread and delete Qt objects of a closed window there; the tests
    collect on the main thread after each test instead (_collect_after_each)."""
    gc.disable()
    gc.freeze()  # what the test modules imported lives to the end: not scanned again after each test
    yield
    gc.unfreeze()
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_after_each():
    yield
    gc.collect()


@pytest.fixture
def shown_window(qtbot):
    """``shown_window(**config)``: a controller on ``Config(seed=0, **config)`` and its main window,
    shown at 1600x1000 (no saved settings)."""
    from gru_debugger.core.base.config import Config
    from gru_debugger.core.control.controller import Controller
    from gru_debugger.ui.main_window import MainWindow

    def make(**config):
        ctl = Controller(Config(seed=0, **config))
        win = MainWindow(ctl, settings=None)
        qtbot.addWidget(win)
        win.resize(1600, 1000)
        win.show()
        qtbot.waitExposed(win)
        return ctl, win

    return make


@pytest.fixture
def plot_canvas(qtbot):
    """``plot_canvas(width, height)``: a shown pyqtgraph GraphicsLayoutWidget of that size, for
    heatmaps placed in its layout (``Heatmap(canvas.ci, ...)``)."""
    import pyqtgraph as pg

    def make(width: int, height: int):
        widget = pg.GraphicsLayoutWidget()
        qtbot.addWidget(widget)
        widget.resize(width, height)
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return make
