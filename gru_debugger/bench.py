"""``python main.py bench``: how long a click takes to reach the screen.

A "click" is one Step (F10) through the GRU and backward phases, timed from
the controller call until the window has processed its events and repainted
(offscreen). Targets: 10 ms at the notebook's sizes, 40 ms at B=32, T=64,
E=64, H=256 with a vocabulary of 2,000+.
"""
from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass

import numpy as np

from .core.config import Config

TARGET_MS = {"notebook": 10.0, "large": 40.0}


def large_corpus(n_chars: int = 2100, length: int = 30_000, seed: int = 0) -> tuple[str, ...]:
    """Text over n_chars distinct characters: a vocabulary of 2,000+ with
    only a few merges (BPE over a large text in pure Python is slow)."""
    rng = np.random.default_rng(seed)
    alphabet = [chr(0x4E00 + i) for i in range(n_chars)]
    return ("".join(rng.choice(alphabet, size=length)),)


def configs(quick: bool) -> dict[str, Config]:
    out = {"notebook": Config(seed=0)}
    if not quick:
        out["large"] = Config(seed=0, corpus=large_corpus(), num_merges=2, batch_size=32, context_length=64,
                              n_embd=64, hidden_size=256,
                              init={n: {"scheme": "default"} for n in Config().init})
    return out


@dataclass
class Result:
    name: str
    build_s: float
    edit_ms: float
    clicks_ms: list[float]   # every timed click
    same_panel: list[bool]   # the click stayed on the panel in front (no panel came forward)

    def line(self) -> str:
        c = np.array(self.clicks_ms)
        steady = c[np.array(self.same_panel)]
        target = TARGET_MS[self.name]
        verdict = "meets" if np.median(steady) <= target else "misses"
        return (f"{self.name:9s} built {self.build_s:4.2f} s | edit+recompute {self.edit_ms:6.1f} ms | "
                f"click median {np.median(c):5.1f} ms, p95 {np.percentile(c, 95):5.1f} ms | "
                f"within a phase median {np.median(steady):5.1f} ms ({len(steady)} clicks; {verdict} the "
                f"{target:.0f} ms aim)")


def _front_panel(window) -> str | None:
    return next((k for k, p in window.panels.items() if p.is_showing()), None)


def _time_clicks(window, app, clicks: int) -> tuple[list[float], list[bool]]:
    ctl = window.controller
    times: list[float] = []
    same: list[bool] = []
    ctl.run_to("dropout_in")
    app.processEvents()
    while len(times) < clicks:
        if not ctl.can_step() or ctl.snapshot().step.phase in ("update", "forward_after"):
            ctl.run_to("dropout_in")  # untimed: back to the start of the GRU
            app.processEvents()
            continue
        front = _front_panel(window)
        start = time.perf_counter()
        ctl.step()
        app.processEvents()  # runs the posted paint events of what changed
        times.append((time.perf_counter() - start) * 1000)
        same.append(_front_panel(window) == front)
    return times, same


def run_benchmarks(clicks: int, quick: bool = False) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .core.controller import Controller
    from .ui.app import make_application
    from .ui.main_window import MainWindow

    app = make_application(dark=False)
    print(f"clicks per configuration: {clicks} (Step through the GRU and backward, offscreen, 1600x1000)")
    for name, cfg in configs(quick).items():
        start = time.perf_counter()
        controller = Controller(cfg)
        window = MainWindow(controller, settings=None)
        window.resize(1600, 1000)
        window.show()
        app.processEvents()
        build = time.perf_counter() - start
        start = time.perf_counter()
        controller.set_learning_rate(1.0)
        edit_ms = (time.perf_counter() - start) * 1000
        result = Result(name, build, edit_ms, *_time_clicks(window, app, clicks))
        print(result.line(), flush=True)
        window.close()
        window.deleteLater()
        app.processEvents()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS): {peak:.0f} MiB")
    return 0
