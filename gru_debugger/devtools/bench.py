"""``python main.py bench [--json OUT.json] [--quick]``: how fast the window answers.

What is timed (milliseconds unless a key ends in ``_s`` or ``_mb``):

- ``step_ms.<config>.median`` / ``.p95``: one Step (F10: ``controller.step()``)
  in the real main window (offscreen, 1600x1000), from the call until every
  visible view has been updated and painted: the event loop runs until a pass
  paints nothing more. Whole iterations are walked, start to end, and the
  clicks that bring a panel to the front count too. Between two timed clicks
  the event loop runs idle for ``THINK_MS`` (150 ms, not timed), as it does
  while a person moves to the next click: work the program defers until after
  a repaint, or paints ahead for the next click, happens there; the same
  clicks without the pause are ``detail.<config>.back_to_back_*``.
  ``paint_check`` proves
  the timing holds the painting: ``paints_timed`` > 0 and ``late_paints`` 0
  (paint events after the timed part ended).
- ``edit_ms.<config>``: a weight edit (``controller.set_param``) until repainted, the
  median of 7 (``detail.<config>.edits``), with the same pause before each
  (``back_to_back_edit_ms``: edits one after the other, as when a value is dragged).
- ``bpe_s``, ``bpe_merges_match``: :func:`gru_debugger.devtools.bench_bpe.bpe_benchmark`.
- ``startup_s``: process start to the first painted main window;
  ``import_floor_s``: a process that only imports torch, PySide6.QtWidgets and
  pyqtgraph (each the median of 3, measured in the same run).
- ``screenshots_s``: ``python -m gru_debugger screenshots`` of the notebook's
  example into a temporary folder, the whole process: the median of three runs
  (``detail.screenshots_runs_s`` lists them).
- ``peak_rss_mb``: peak resident memory of the process that ran the large GRU.

Each window configuration runs in its own process, so one cannot slow down or
fill the memory of the next. The large configuration: B=32, T=64, E=64, H=256
on a real text (:func:`gru_debugger.devtools.bench_bpe.large_corpus_text`) with 2,000
merges, for each cell (``step_ms.large`` is the GRU, ``step_ms.large_lstm`` …).
"""
from __future__ import annotations

import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

TARGETS = {  # (key, limit): medians on the project's 2-core machine
    "step_ms.notebook.median": 10.0, "step_ms.large.median": 25.0,
    "step_ms.notebook.p95": 40.0, "step_ms.large.p95": 40.0,
    "edit_ms.notebook": 15.0, "edit_ms.large": 150.0,
    "bpe_s": 5.0, "screenshots_s": 6.0, "peak_rss_mb": 1500.0,
    # the timed part of a click holds its painting: a view painted after it would make the
    # step times too short (a measurement, so a target here: a loaded machine may paint late)
    "detail.notebook.paint_check.late_paints": 0.0,
}
NOTEBOOK: dict[str, Any] = {}  # the notebook's example: Config defaults
LARGE: dict[str, Any] = {"batch_size": 32, "context_length": 64, "n_embd": 64, "hidden_size": 256,
                         "num_merges": 2000}
CELLS = ("gru", "lstm", "rnn")
RESULT_TAG = "BENCH-RESULT "
STARTUP_ENV = "GRU_DEBUGGER_BENCH_STARTUP"  # the app prints FIRST_PAINT_TAG + time.time() after its first paint
FIRST_PAINT_TAG = "first-paint "
ROOT = Path(__file__).resolve().parents[2]  # the folder holding the package (<repo>/gru_debugger/devtools/ -> <repo>)


# ------------------------------------------------------------------ one window
def _config(sizes: Mapping[str, Any], cell: str, large_text: str | None):
    from ..core.base.config import Config

    changes = dict(sizes)
    if large_text is not None:
        changes["corpus"] = (large_text,)
        changes["init"] = {n: {"scheme": "default"} for n in Config().init}
    return Config(seed=0, cell=cell, **changes)


class _PaintCounter:
    """Counts paint events of every widget (installed only while checking)."""

    def __init__(self, app):
        from PySide6 import QtCore, QtWidgets

        class Filter(QtCore.QObject):
            count = 0

            def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
                # The main window's own background gets repainted over and over
                # whatever happens (see the README): only the views are counted, and
                # only on screen (a hidden panel painted ahead into an image is not).
                if (event.type() == QtCore.QEvent.Type.Paint and isinstance(obj, QtWidgets.QWidget)
                        and not obj.isWindow() and obj.isVisible()):
                    Filter.count += 1
                return False

        self.filter = Filter()
        self.kind = Filter
        self.app = app

    def __enter__(self):
        self.kind.count = 0
        self.app.installEventFilter(self.filter)
        return self

    def __exit__(self, *exc):
        self.app.removeEventFilter(self.filter)

    @property
    def count(self) -> int:
        return self.kind.count


_COUNTER: "_PaintCounter | None" = None


def _settle(app) -> None:
    """Run the event loop until a pass paints nothing: the posted updates are
    delivered and every dirty region is painted (Qt paints inside the
    UpdateRequest it handles here; a scene's change notice comes a pass later
    and may post more)."""
    counter = _COUNTER
    app.processEvents()
    for _ in range(20):
        before = counter.count if counter is not None else 0
        app.processEvents()
        if counter is None or counter.count == before:
            return


THINK_MS = 150  # the event loop's idle time between two timed actions (see _think)


def _think(app, ms: float = THINK_MS) -> None:
    """Idle time between two clicks, as a person gives the program: the event loop runs its
    timers (work deferred until after a repaint, painting ahead what the next click shows) and
    worker threads go on (back-propagation after an edit). Not timed. Quick clicks are also timed
    without it (``back_to_back``)."""
    end = time.perf_counter() + ms / 1000
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.004)


def _front_panel(window) -> str | None:
    return next((k for k, p in window.panels.items() if p.is_showing()), None)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def measure_window(cfg, clicks: int = 60, edits: int = 7) -> dict[str, Any]:
    """Time clicks and edits in a MainWindow for ``cfg`` (this process)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..core.control.controller import Controller
    from ..ui.qt_setup import make_application
    from ..ui.main_window import MainWindow

    global _COUNTER
    app = make_application(dark=False)
    from PySide6 import QtCore

    from ..ui.docs.screenshots import _quiet_qt  # the offscreen platform's notes about window hints
    _quiet_qt.previous = QtCore.qInstallMessageHandler(_quiet_qt)  # type: ignore[attr-defined]
    _COUNTER = _PaintCounter(app)
    _COUNTER.__enter__()  # counts every paint, so that _settle knows when painting has ended
    start = time.perf_counter()
    controller = Controller(cfg)
    model_s = time.perf_counter() - start
    window = MainWindow(controller, settings=None)
    window.resize(1600, 1000)
    window.show()
    _settle(app)
    window.prebuild_now()  # as the program does in idle time after the first paint
    _settle(app)
    build_s = time.perf_counter() - start
    times: list[float] = []
    switches: list[bool] = []
    iterations = 0
    while len(times) < clicks:  # whole iterations, from the start to the end
        iterations += 1
        controller.run_to_start()
        _settle(app)
        _think(app)
        while controller.can_step():
            front = _front_panel(window)
            begin = time.perf_counter()
            controller.step()
            _settle(app)
            times.append((time.perf_counter() - begin) * 1000)
            switches.append(_front_panel(window) != front)
            _think(app)
    quick: list[float] = []  # one more iteration, clicked as fast as the window answers
    controller.run_to_start()
    _settle(app)
    while controller.can_step():
        begin = time.perf_counter()
        controller.step()
        _settle(app)
        quick.append((time.perf_counter() - begin) * 1000)
    # The timed part holds the painting: paints happen inside it, none after.
    counter = _COUNTER
    controller.run_to("dropout_in")
    _settle(app)
    timed = late = 0
    if True:
        for _ in range(min(6, controller.last - controller.cursor)):
            before = counter.count
            controller.step()
            _settle(app)
            timed += counter.count - before
            before = counter.count
            for _ in range(5):
                app.processEvents()
                time.sleep(0.002)  # let timers of a few ms fire too
            late += counter.count - before
    controller.run_to("cell", cfg.context_length // 2)
    _settle(app)
    edit_times, quick_edits = [], []
    base = float(controller.state.params["h2g.weight"][0, 0])
    for k in range(edits):
        _think(app)
        begin = time.perf_counter()
        controller.set_param("h2g.weight", (0, 0), base + 0.01 * (k + 1), merge_key="bench")
        _settle(app)
        edit_times.append((time.perf_counter() - begin) * 1000)
    for k in range(edits):  # one after the other, as when a value is dragged
        begin = time.perf_counter()
        controller.set_param("h2g.weight", (0, 0), base - 0.01 * (k + 1), merge_key="bench")
        _settle(app)
        quick_edits.append((time.perf_counter() - begin) * 1000)
    window.close()
    _COUNTER.__exit__()
    return {
        "model_s": model_s, "build_s": build_s, "clicks": len(times), "iterations": iterations,
        "median": statistics.median(times), "p95": _percentile(times, 95), "max": max(times),
        "within_phase_median": statistics.median([t for t, s in zip(times, switches) if not s] or times),
        "panel_switch_median": statistics.median([t for t, s in zip(times, switches) if s] or [math.nan]),
        "panel_switches": sum(switches), "edit_ms": statistics.median(edit_times), "edits": len(edit_times),
        "back_to_back_median": statistics.median(quick), "back_to_back_p95": _percentile(quick, 95),
        "back_to_back_edit_ms": statistics.median(quick_edits),
        "paint_check": {"paints_timed": timed, "late_paints": late},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _worker(spec: Mapping[str, Any]) -> None:
    """Entry point of a child process: measure one configuration, print the result."""
    from ..core.control.memory import limit_heap_fragmentation

    limit_heap_fragmentation()  # the memory settings of the program itself (cli.main)
    text = None
    if spec.get("large"):
        from .bench_bpe import large_corpus_text
        text = spec.get("text") or large_corpus_text()
    cfg = _config(spec["sizes"], spec["cell"], text)
    result = measure_window(cfg, spec["clicks"], spec["edits"])
    print(RESULT_TAG + json.dumps(result), flush=True)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    return env


def _run_worker(spec: Mapping[str, Any]) -> dict[str, Any]:
    code = ("import json, sys; from gru_debugger.devtools.bench import _worker; _worker(json.loads(sys.argv[1]))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], env=_child_env(), cwd=str(ROOT),
                          capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark of {spec['name']} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len(RESULT_TAG):])


# ------------------------------------------------------------------ processes
def _first_paint_s(args: list[str], tag: str, env: Mapping[str, str]) -> float:
    start = time.time()
    proc = subprocess.Popen(args, env=dict(env), cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    out, err = proc.communicate(timeout=300)
    stamps = [ln for ln in out.splitlines() if ln.startswith(tag)]
    if not stamps:
        raise RuntimeError(f"{' '.join(args[:3])}… printed no {tag.strip()!r} (exit {proc.returncode}):\n{err[-2000:]}")
    return float(stamps[-1][len(tag):]) - start


def startup_times(runs: int = 3) -> dict[str, float]:
    """Median seconds to the first painted window, and to the bare imports."""
    env = _child_env()
    floor_code = ("import torch, PySide6.QtWidgets, pyqtgraph, time; "
                  f"print({FIRST_PAINT_TAG!r} + repr(time.time()), flush=True)")
    floors, starts = [], []
    with tempfile.TemporaryDirectory() as home:
        env[STARTUP_ENV] = "1"
        env["XDG_CONFIG_HOME"] = home  # the user's saved layout is neither read nor written
        for _ in range(runs):  # interleaved, so both see the same machine load
            floors.append(_first_paint_s([sys.executable, "-c", floor_code], FIRST_PAINT_TAG, env))
            starts.append(_first_paint_s([sys.executable, "-m", "gru_debugger"], FIRST_PAINT_TAG, env))
    return {"startup_s": statistics.median(starts), "import_floor_s": statistics.median(floors)}


def screenshots_time(phases: list[str] | None = None) -> float:
    """Seconds for the whole screenshot walk-through of the notebook's example (a child process)."""
    with tempfile.TemporaryDirectory() as out:
        args = [sys.executable, "-m", "gru_debugger", "screenshots", "--out", out]
        if phases:
            args += ["--phases", *phases]
        start = time.perf_counter()
        proc = subprocess.run(args, env=_child_env(), cwd=str(ROOT), capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"screenshots failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def screenshots_times(phases: list[str] | None = None, runs: int = 3) -> dict[str, Any]:
    """``screenshots_s``: the median of ``runs`` walk-throughs (each run is listed too)."""
    times = [screenshots_time(phases) for _ in range(runs)]
    return {"screenshots_s": statistics.median(times), "detail.screenshots_runs_s": times}


# ------------------------------------------------------------------ the whole run
def run(clicks: int = 60, edits: int = 7, quick: bool = False, notebook: Mapping[str, Any] | None = None,
        large: Mapping[str, Any] | None = None, large_text: str | None = None, cells: tuple[str, ...] = CELLS,
        bpe: Mapping[str, Any] | None = None, startup_runs: int = 3,
        screenshot_phases: list[str] | None = None, screenshot_runs: int = 3, report=print) -> dict[str, Any]:
    """Every measurement as a flat dict of dotted keys (see the module doc).

    The sizes are parameters so a test can run it small: ``notebook`` / ``large``
    are Config changes, ``large_text`` replaces the real text, ``bpe`` holds
    keyword arguments of ``bpe_benchmark``.
    """
    out: dict[str, Any] = {}
    configs = [("notebook", dict(NOTEBOOK if notebook is None else notebook), "gru", False)]
    if not quick:
        sizes = dict(LARGE if large is None else large)
        configs += [("large" if cell == "gru" else f"large_{cell}", sizes, cell, True) for cell in cells]
    for name, sizes, cell, is_large in configs:
        spec = {"name": name, "sizes": sizes, "cell": cell, "large": is_large, "text": large_text,
                "clicks": clicks, "edits": edits}
        try:
            r = _run_worker(spec)
        except RuntimeError as exc:  # one configuration the window cannot show must not hide the others
            out[f"error.{name}"] = str(exc).strip().splitlines()[-1]
            report(f"{name:11s} FAILED: {out[f'error.{name}']}")
            continue
        out[f"step_ms.{name}.median"] = r["median"]
        out[f"step_ms.{name}.p95"] = r["p95"]
        out[f"edit_ms.{name}"] = r["edit_ms"]
        for key in ("max", "within_phase_median", "panel_switch_median", "panel_switches", "clicks", "edits", "build_s",
                    "back_to_back_median", "back_to_back_p95", "back_to_back_edit_ms"):
            out[f"detail.{name}.{key}"] = r[key]
        out[f"detail.{name}.paint_check.paints_timed"] = r["paint_check"]["paints_timed"]
        out[f"detail.{name}.paint_check.late_paints"] = r["paint_check"]["late_paints"]
        out[f"detail.{name}.peak_rss_mb"] = r["peak_rss_mb"]
        if name == "large":
            out["peak_rss_mb"] = r["peak_rss_mb"]
        report(f"{name:11s} step median {r['median']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
               f"(within a phase {r['within_phase_median']:5.1f}, panel to front {r['panel_switch_median']:5.1f}; "
               f"{r['clicks']} clicks)  edit {r['edit_ms']:7.1f} ms  peak {r['peak_rss_mb']:5.0f} MB")
        report(f"{'':11s} back to back: step median {r['back_to_back_median']:6.1f} ms  "
               f"p95 {r['back_to_back_p95']:6.1f} ms  edit {r['back_to_back_edit_ms']:7.1f} ms")
    if not quick:
        from .bench_bpe import bpe_benchmark
        result = bpe_benchmark(**dict(bpe or {}))
        out["bpe_s"], out["bpe_merges_match"] = result["bpe_s"], result["bpe_merges_match"]
        report(f"bpe         {out['bpe_s']:.2f} s on {result['bpe_text_bytes']:,} bytes "
               f"({result['bpe_text_source']}); matches the reference: {out['bpe_merges_match']}")
        out.update(startup_times(startup_runs))
        report(f"startup     {out['startup_s']:.2f} s to the first painted window; "
               f"imports alone {out['import_floor_s']:.2f} s")
        out.update(screenshots_times(screenshot_phases, screenshot_runs))
        report(f"screenshots {out['screenshots_s']:.2f} s (median of "
               + ", ".join(f"{t:.2f}" for t in out["detail.screenshots_runs_s"]) + " s)")
    return out


def verdicts(result: Mapping[str, Any]) -> list[tuple[str, float, str, bool]]:
    """(key, value, target, met) for each target the result can be judged on."""
    rows = [(key, float(result[key]), f"<= {limit:g}", float(result[key]) <= limit)
            for key, limit in TARGETS.items() if key in result]
    if "startup_s" in result:
        limit = 1.25 * result["import_floor_s"]
        rows.append(("startup_s", result["startup_s"], f"<= 1.25 x import floor = {limit:.2f}",
                     result["startup_s"] <= limit))
    if "bpe_merges_match" in result:
        rows.append(("bpe_merges_match", float(result["bpe_merges_match"]), "true", bool(result["bpe_merges_match"])))
    return rows


def run_benchmarks(clicks: int, quick: bool = False, json_out: str | None = None) -> int:
    print(f"Step clicks: whole iterations of at least {clicks} clicks per configuration, offscreen 1600x1000"
          + ("; notebook sizes only" if quick else ""), flush=True)
    result = run(clicks=clicks, quick=quick, report=lambda line: print(line, flush=True))
    print()
    print(f"{'measure':32s} {'value':>10s}  target")
    for key, value, target, met in verdicts(result):
        print(f"{key:32s} {value:10.2f}  {target:28s} {'met' if met else 'NOT met'}")
    if json_out:
        Path(json_out).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {json_out}")
    return 0
