import os

# Qt tests draw offscreen: no display needed, in CI or anywhere else.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402 (after the platform is chosen)


@pytest.fixture
def shown_window(qtbot):
    """``shown_window(**config)``: a controller on ``Config(seed=0, **config)`` and its main window,
    shown at 1600x1000 (no saved settings)."""
    from gru_debugger.core.config import Config
    from gru_debugger.core.controller import Controller
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
