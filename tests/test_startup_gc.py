"""The garbage collector waits during a cold start of the window, and only then."""
import gc
import subprocess
import sys

import pytest

from gru_debugger import startup_gc
from gru_debugger.ui import app


def run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_paused_on_a_cold_start_then_frozen_and_resumed():
    out = run("import gc; from gru_debugger import startup_gc as s\n"
              "print(s.pause(), gc.isenabled(), s.pause())\n"
              "import torch; s.resume(); print(gc.isenabled(), gc.get_freeze_count() > 100000, s.paused())")
    assert out.splitlines() == ["True False False", "True True False"]


def test_not_paused_once_torch_is_loaded():
    assert "torch" in sys.modules
    was = gc.isenabled()
    gc.enable()  # (the test session collects by hand: see conftest.py)
    try:
        assert startup_gc.pause() is False
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()


def test_the_window_command_pauses_it_and_every_way_out_resumes_it():
    fake_app = ("import sys, types, gc\n"
                "from gru_debugger import startup_gc\n"
                "ui_app = types.ModuleType('gru_debugger.ui.app')\n"
                "ui_app.no_display_reason = lambda: None\n"
                "def run(config, weights=None, session=None):\n"
                "    print('window', gc.isenabled(), startup_gc.paused())\n"
                "    raise OSError(2, 'gone', 'x.json')\n"
                "ui_app.run = run\n"
                "import gru_debugger.ui\n"
                "sys.modules['gru_debugger.ui.app'] = ui_app\n"
                "from gru_debugger.cli import main\n"
                "print('exit', main([]), gc.isenabled(), startup_gc.paused())\n")
    assert run(fake_app).splitlines() == ["window False True", "exit 2 True False"]
    out = run("import gc; from gru_debugger.cli import main; import gru_debugger.core.storage.export as e\n"
              "e.write_npz = lambda *a: print('export', gc.isenabled())\n"
              "main(['export', '--out', '/tmp/never-written.npz'])")
    assert out.splitlines()[0] == "export True"


def test_the_window_collects_as_usual_before_it_makes_the_controller(monkeypatch):
    """The pause ends once the modules are loaded: the controller and the window are not frozen."""
    seen = []

    def controller(*args, **kwargs):
        seen.append((gc.isenabled(), startup_gc.paused()))
        raise OSError(2, "stop here", "x.json")

    monkeypatch.setattr(startup_gc, "_paused", True)
    monkeypatch.setattr(startup_gc, "_gui_thread_collects", False)  # no window has taken the collecting over
    monkeypatch.setattr(app, "Controller", controller)
    was = gc.isenabled()
    gc.disable()
    try:
        with pytest.raises(OSError):
            app.run()
        assert seen == [(True, False)] and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        if was:
            gc.enable()
        else:
            gc.disable()


def test_the_window_collects_cyclic_garbage_on_its_own_thread_only():
    """No automatic collection (a worker thread could run it and delete Qt objects there): a timer
    of the GUI thread collects, by the usual thresholds, within a second or two."""
    code = ("import gc, os, threading, time\n"
            "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
            "from gru_debugger.ui.qt_setup import make_application\n"
            "from gru_debugger import startup_gc\n"
            "app = make_application()\n"
            "print('automatic', gc.isenabled())\n"
            "startup_gc._paused = True; startup_gc.resume(); print('after resume', gc.isenabled())\n"
            "where = []\n"
            "class Cycle:\n"
            "    def __init__(self): self.me = self\n"
            "    def __del__(self): where.append(threading.current_thread() is threading.main_thread())\n"
            "def worker():\n"
            "    for _ in range(3000): Cycle()\n"  # past the threshold, made on a worker thread
            "t = threading.Thread(target=worker); t.start(); t.join()\n"
            "print('collected by the worker', len(where))\n"
            "end = time.monotonic() + 2.5\n"
            "while time.monotonic() < end and len(where) < 3000:\n"
            "    app.processEvents(); time.sleep(0.01)\n"
            "print('collected', len(where), 'all on the main thread', all(where))\n")
    assert run(code).splitlines() == ["automatic False", "after resume False", "collected by the worker 0",
                                      "collected 3000 all on the main thread True"]
