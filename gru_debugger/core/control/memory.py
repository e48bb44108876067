"""Keep freed trace memory returnable to the system (Linux, glibc).

glibc raises its mmap threshold each time a large block is freed (up to 32
MB), after which a trace's arrays come from the heap, where freed space is
fragmented and not given back: measured at B=32, T=64, E=64, H=256, V=2,000,
the process grew by about 5 MB per iteration (3.2 GB after 500 iterations)
while the controller itself kept 640 MB. A fixed threshold keeps every large
array in its own mapping, released when freed.

The threshold is 4 MB: a trace's big arrays (the logits, the gates, the
hidden states over time: 2 to 16 MB each at that size) are mapped, the many
small ones (a timestep's slice, Qt's and Python's own) come from the heap.
Measured at that size: 400 training iterations in a row held 724 to 799 MB
(glibc's own threshold: 992 to 1,104 MB); a step in the window took a median
of 20.8 ms and an edit 131 ms (with a 64 KB threshold, where every array is
mapped and every page faulted in afresh: 50 ms and 168 ms).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 4 * 1024 * 1024
_done = False
_libc = None


def limit_heap_fragmentation() -> bool:
    """Fix glibc's mmap threshold (once); False where that does not apply."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    libc = _glibc()
    if libc is None:
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    return _done


def release_free_memory() -> bool:
    """Give the system back the free pages glibc holds between live blocks (``malloc_trim``).

    Arrays under the mmap threshold (a large trace's per-timestep slices, its 2 MB arrays at
    B=32, T=64, H=256) come from the heap. When traces are dropped one after another (a weight
    edited again and again, each edit a new iteration), their freed pages stay with the process:
    measured at that size in the window, 30 edits in a row left 1.13 GB resident once the
    back-propagation had finished, 0.78 GB with this call (which took 15-25 ms; ctypes lets go
    of the interpreter lock meanwhile). False where that does not apply (not Linux, not glibc)."""
    libc = _glibc()
    if libc is None:
        return False
    trim = libc.malloc_trim
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)
    return True


def _glibc():
    """The C library, if it is glibc on Linux (None otherwise)."""
    global _libc
    if _libc is None:
        if not sys.platform.startswith("linux"):
            return None
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            libc.mallopt, libc.malloc_trim
        except (OSError, AttributeError):  # not glibc (e.g. musl)
            return None
        _libc = libc
    return _libc
