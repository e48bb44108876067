"""What keeps a trace's memory: only the controller's cache and the current snapshot. A dropped
trace is freed (no reference left behind by the round-off check or the completion notice), the
trace budget also holds while the next trace is computed, and arrays share no memory with
anything that could still change."""
import gc
import platform
import subprocess
import sys
import threading
import weakref

import numpy as np
import pytest
import torch

from gru_debugger.core.control import background as background_module
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, _background
from gru_debugger.core.model.engine import _np, compute_trace

DEFAULT_INIT = {n: {"scheme": "default"} for n in PARAM_NAMES}


def config():
    return Config(seed=4, init=DEFAULT_INIT, learning_rate=0.5)


def one_trace_bytes():
    return sum(a.nbytes for a in Controller(config()).snapshot().trace.arrays.values())


def test_a_trace_dropped_from_the_cache_is_freed():
    ctl = Controller(config(), trace_budget=2 * one_trace_bytes())
    ctl.step()  # the first move queues the iteration's round-off check
    ctl.snapshot().trace.wait()
    ctl.poll()  # announces the completed trace
    first = weakref.ref(ctl.snapshot().trace)
    for k in range(4):  # a dragged value: the first trace leaves the cache
        ctl.set_param("h2g.weight", (0, 0), 0.1 * k, merge_key="drag")
        ctl.poll()
    _background().submit(lambda: None).result()  # the worker's queue is done
    gc.collect()
    assert first() is None
    assert len(ctl._traces) <= 2


def test_the_trace_budget_holds_while_the_next_trace_is_computed():
    one = one_trace_bytes()
    ctl = Controller(config(), trace_budget=5 * one // 2)  # room for two traces
    held = []
    real = background_module.start_trace

    def start(state, executor):
        held.append(ctl.trace_cache_bytes)
        return real(state, executor)

    background_module.start_trace = start
    try:
        for k in range(5):
            ctl.set_param("h2g.weight", (0, 0), 0.1 * k)
    finally:
        background_module.start_trace = real
    assert len(held) == 5 and max(held) + one <= ctl.trace_budget
    assert ctl.trace_cache_bytes <= ctl.trace_budget and len(ctl._traces) == 2
    for _ in range(5):  # undo to evicted states: computed again, bitwise the same
        ctl.undo()
    again = compute_trace(ctl.state)
    for name, array in ctl.snapshot().trace.arrays.items():
        assert np.array_equal(array, again[name]), name


def test_arrays_are_read_only_and_copies_of_views():
    whole = torch.arange(12.0).reshape(3, 4)
    shared, part = _np(whole * 2), _np(whole[1:])
    whole[1, 0] = 99.0  # the tensor a view was cut from changes later: the array does not
    assert part[0, 0] == 4.0 and shared[1, 0] == 8.0
    assert not shared.flags.writeable and not part.flags.writeable


def test_freed_heap_pages_go_back_to_the_system_once_an_edit_is_computed(monkeypatch):
    """When the background part of an edit is announced, the worker hands glibc's free pages
    back (traces dropped while a value was dragged leave them in the heap), once per trace."""
    calls = []

    def release():
        calls.append(threading.current_thread() is threading.main_thread())
        return True

    monkeypatch.setattr(background_module, "release_free_memory", release)
    ctl = Controller(config())
    for k in range(3):
        ctl.set_param("h2g.weight", (0, 0), 0.1 * k, merge_key="drag")
    while ctl.poll():
        ctl.snapshot().trace.wait()
    assert not ctl.poll()          # announced already: no second release
    _background().submit(lambda: None).result()
    assert calls == [False]        # once, on the worker thread


FRAGMENTED_HEAP = """
import numpy as np
from gru_debugger.core.control.memory import limit_heap_fragmentation, release_free_memory

def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

assert limit_heap_fragmentation()   # the program's setting: blocks under 4 MB come from the heap
kept, freed = [], []
for _ in range(300):                # 300 MB in 1 MB blocks, each followed by a small one that stays
    freed.append(np.ones(1 << 18, np.float32))
    kept.append(np.ones(2048, np.float32))   # 8 KB, from the heap too
before = rss_kb()
freed.clear()
after_free = rss_kb()
assert release_free_memory()
print(before, after_free, rss_kb(), len(kept))
"""


@pytest.mark.skipif(not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"),
                    reason="malloc_trim is glibc's")
def test_release_free_memory_shrinks_a_fragmented_heap():
    """Blocks under the mmap threshold, freed between blocks still in use, stay with the process
    until they are released."""
    out = subprocess.run([sys.executable, "-c", FRAGMENTED_HEAP], capture_output=True, text=True, check=True)
    before, after_free, after_release, kept = map(int, out.stdout.split())
    assert after_free - after_release > 250 * 1024     # freeing kept them; releasing gave them back
    assert before - after_release > 250 * 1024


def test_a_script_that_never_polls_keeps_no_trace_alive_through_held_jobs():
    """Without a window nothing calls poll(), so an edit's back-propagation stays held until a
    reader computes it. A job a reader has taken over holds nothing: traces that leave the cache
    are freed (a 500-iteration training soak with an edit every 50 grew by a trace per edit)."""
    ctl = Controller(config(), trace_budget=2 * one_trace_bytes())
    dropped = []
    for k in range(4):
        ctl.set_param("h2g.weight", (0, 0), 0.1 * (k + 1))   # its back-propagation is held
        trace = ctl.snapshot().trace
        trace["grad/h2g.weight"]                             # read here: the held job is cancelled
        assert trace.complete
        dropped.append(weakref.ref(trace))
        ctl.next_iteration()
        del trace
    assert ctl._jobs.held == 1          # only the current iteration's, which nobody has read
    gc.collect()
    assert [ref() is None for ref in dropped[:2]] == [True, True]   # out of the cache: freed
