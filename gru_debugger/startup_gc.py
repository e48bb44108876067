"""The window's cold start loads its modules without cyclic garbage collection.

Importing torch, Qt and pyqtgraph leaves some 300,000 objects (modules,
classes, functions) that live as long as the program. The collector, set
off by all those allocations, scans them again and again while they load
(about a quarter of a second of a cold start) and finds next to nothing.
The window's start-up pauses it until every module the window needs is
loaded, then freezes what the imports made (``gc.freeze``: left out of
every later collection, so they are not scanned again either) and collects
as usual from there on: the controller and the window are made after that.
"""
from __future__ import annotations

import gc
import sys

_paused = False
_gui_thread_collects = False  # the window collects from a timer of its own (see ui/qt_setup.py)


def pause() -> bool:
    """Pause the collector on a cold start (torch not loaded yet); True if it is now paused."""
    global _paused
    if _paused or "torch" in sys.modules or not gc.isenabled():
        return False
    gc.disable()
    _paused = True
    return True


def resume() -> None:
    """Collect as usual again; what was made while paused is frozen first (once; nothing if not paused)."""
    global _paused
    if not _paused:
        return
    _paused = False
    gc.freeze()
    if not _gui_thread_collects:
        gc.enable()


def collect_from_gui_thread() -> None:
    """From now on the window's timer collects (automatic collection stays off): :func:`resume`
    leaves the collector off."""
    global _gui_thread_collects
    _gui_thread_collects = True


def paused() -> bool:
    return _paused
