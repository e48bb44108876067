"""The part of an iteration after its forward pass, computed on a worker thread after an edit:
the same numbers as computing everything at once, whoever reads first, and the views hear when
it is done."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.engine import backward_names, compute_trace, start_trace
from gru_debugger.core.analysis.faults import find_fault

DEFAULT_INIT = {n: {"scheme": "default"} for n in PARAM_NAMES}


def same_arrays(full, other):
    assert list(full.arrays) == list(other.arrays)
    for key in full.arrays:
        a, b = full[key], other[key]
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True), key


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_first_gives_every_array_of_the_whole_computation(cell, dtype):
    state = Controller(Config(seed=3, cell=cell, dtype=dtype, init=DEFAULT_INIT, dropout=0.3)).state
    with ThreadPoolExecutor(1) as pool:
        trace = start_trace(state, pool)
        same_arrays(compute_trace(state), trace)
        assert trace.complete


def test_a_job_that_never_ran_is_computed_by_the_reader_with_the_same_numbers():
    state = Controller(Config(seed=5, init=DEFAULT_INIT)).state
    gate = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(gate.wait)  # the worker is busy: the trace's job waits in the queue
        trace = start_trace(state, pool)
        assert not trace.complete and trace.ready("h") and not trace.ready("grad/h")
        assert "grad/h" in trace and set(backward_names(state_cell(state))) <= set(trace.arrays)
        grad = trace["grad/h"]  # computed here, not behind the busy worker
        assert trace.complete
        gate.set()
    np.testing.assert_array_equal(grad, compute_trace(state)["grad/h"])


def test_a_cancelled_job_is_recomputed_when_read():
    state = Controller(Config(seed=6, cell="lstm", init=DEFAULT_INIT)).state
    gate = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(gate.wait)
        trace = start_trace(state, pool)
        assert trace.arrays.cancel()  # dropped with its graph
        gate.set()
        same_arrays(compute_trace(state), trace)


def state_cell(state):
    from gru_debugger.core.model.cells import get_cell
    return get_cell(state.config.cell)


def wait_computed(ctl, limit=30.0):
    start = time.monotonic()
    while ctl.poll():
        assert time.monotonic() - start < limit
        time.sleep(0.005)


def test_an_edit_announces_the_end_of_the_background_part_once():
    ctl = Controller(Config(seed=1, init=DEFAULT_INIT))
    ctl.run_to("cell", 3)
    heard = []
    ctl.changed.connect(lambda snap: heard.append(set(snap.reasons)))
    ctl.set_param("h2g.weight", (0, 0), 0.3)
    assert heard[0] == {"model", "cursor"}
    wait_computed(ctl)
    assert not ctl.computing and heard.count({"computed"}) == (1 if len(heard) > 1 else 0)
    assert not ctl.poll() and heard.count({"computed"}) <= 1  # announced at most once
    expected = compute_trace(ctl.state)
    same_arrays(expected, ctl.snapshot().trace)


def test_stepping_into_backward_right_after_an_edit_reads_the_right_gradients():
    ctl = Controller(Config(seed=2, init=DEFAULT_INIT))
    ctl.run_to("cell", 2)
    ctl.set_param("x2g.weight", (1, 1), -0.4)
    ctl.run_to("backward", 5)  # no waiting for the worker: reading waits when it must
    snap = ctl.snapshot()
    np.testing.assert_array_equal(snap.final("grad/h"), compute_trace(ctl.state)["grad/h"])
    assert snap.get("grad/h") is not None


def test_a_forward_fault_is_found_before_the_background_part_ends():
    init = dict(Config().init, **{"x2g.weight": {"scheme": "constant", "value": 3e38}})
    ctl = Controller(Config(seed=0, init=init))  # gx = sum over 4 inputs of 1.1 * 3e38: overflows
    gate = threading.Event()
    from gru_debugger.core.control import controller as controller_module
    pool = controller_module._background()
    pool.submit(gate.wait)  # hold the worker: the new trace stays incomplete
    try:
        ctl.set_param("h2g.weight", (0, 0), 0.3)  # a new iteration, its background part held up
        trace = ctl.snapshot().trace
        assert not trace.complete
        fault = find_fault(trace, "gru")
        assert fault is not None and (fault.key, fault.phase, fault.t) == ("gx", "cell", 0)
        assert not trace.complete
    finally:
        gate.set()
    wait_computed(ctl)
    assert ctl.snapshot().fault == fault


class _Held(dict):
    """Arrays whose part after the forward pass is "still being computed" until ``done``."""
    done = False

    @property
    def complete(self):
        return self.done

    def is_ready(self, key):
        return self.done or not key.startswith(("grad/", "update", "after/", "loss_after", "loss_impr"))

    def __getitem__(self, key):
        assert self.is_ready(key), f"{key} was read before it was computed"
        return dict.__getitem__(self, key)


def test_a_fault_after_the_forward_pass_is_reported_once_the_background_part_is_done():
    from gru_debugger.core.model.engine import Trace

    full = Controller(Config(seed=0, init=DEFAULT_INIT)).snapshot().trace
    arrays = _Held({k: np.array(v) for k, v in full.arrays.items()})
    dict.__getitem__(arrays, "grad/z")[0, 4, 1] = np.nan
    trace = Trace(arrays, full.corpus)
    assert find_fault(trace, "gru") is None  # provisional: nothing in the forward part, nothing waited for
    arrays.done = True
    fault = find_fault(trace, "gru")
    assert fault is not None and (fault.key, fault.t, fault.phase) == ("grad/z", 4, "backward")


def test_the_status_line_says_while_back_propagation_is_computed(qapp):
    from gru_debugger.ui.poll_clock import PollClock
    from gru_debugger.ui.views.status import BUSY_TEXT, StatusLine
    from gru_debugger.core.control import controller as controller_module

    ctl = Controller(Config(seed=1, init=DEFAULT_INIT))
    clock = PollClock(ctl)  # the window's clock polls; the status line shows what it is told
    status = StatusLine(ctl)
    clock.busy_changed.connect(status.show_busy)
    gate = threading.Event()
    controller_module._background().submit(gate.wait)
    try:
        ctl.set_param("h2g.weight", (0, 0), 0.2)
        assert ctl.computing and status.busy.text() == BUSY_TEXT
    finally:
        gate.set()
    start = time.monotonic()
    while status.busy.text():
        assert time.monotonic() - start < 30
        qapp.processEvents()
        time.sleep(0.005)
    assert not ctl.computing


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
@pytest.mark.parametrize("seed,sizes", [(11, dict(batch_size=3, context_length=5, n_embd=6, hidden_size=7)),
                                        (12, dict(batch_size=4, context_length=9, n_embd=3, hidden_size=16,
                                                  dropout=0.5)),
                                        (13, dict(batch_size=1, context_length=12, n_embd=8, hidden_size=5,
                                                  train_mode=False))])
def test_the_forward_pass_without_a_graph_gives_the_same_bits(cell, seed, sizes):
    """The arrays shown first come from a pass without autograd; the worker's pass records the graph."""
    state = Controller(Config(seed=seed, cell=cell, init=DEFAULT_INIT, **sizes)).state
    with ThreadPoolExecutor(1) as pool:
        same_arrays(compute_trace(state), start_trace(state, pool))


def test_the_round_off_check_is_prepared_on_the_worker_at_the_first_move_after_an_edit():
    from gru_debugger.core.control import controller as controller_module
    from gru_debugger.core.analysis import roundoff

    ctl = Controller(Config(seed=0))  # the notebook's example: its gradients are round-off
    ctl.run_to("cell", 2)
    ctl.set_param("h2g.weight", (0, 0), 0.3)
    ctl.poll()  # lets the worker start on the edit's back-propagation
    controller_module._background().submit(lambda: None).result()  # the worker has done its queue
    trace = ctl.snapshot().trace
    assert trace.complete and trace not in roundoff._cache  # an edit alone does not queue it
    ctl.step()
    controller_module._background().submit(lambda: None).result()
    assert trace in roundoff._cache
    ctl.run_to("backward", 0)
    assert ctl.snapshot().roundoff_mask("grad/h") is not None


def test_an_edits_back_propagation_waits_for_poll_and_a_reader_never_waits_for_it():
    """The window repaints an edit before the worker starts (it polls once it has painted)."""
    from gru_debugger.core.control import controller as controller_module

    ctl = Controller(Config(seed=0))
    ctl.run_to("cell", 2)
    ctl.set_param("h2g.weight", (0, 0), 0.3)
    controller_module._background().submit(lambda: None).result()
    assert ctl.computing and ctl._jobs.held == 1  # held: the worker has not been given it
    ctl.poll()
    assert ctl._jobs.held == 0
    controller_module._background().submit(lambda: None).result()
    assert not ctl.computing
    ctl.set_param("h2g.weight", (0, 0), 0.4)  # never let go: the first reader computes it
    assert ctl.computing
    grads = ctl.snapshot().final("grad/h2g.weight")
    again = compute_trace(ctl.state)
    assert np.array_equal(grads, again["grad/h2g.weight"]) and not ctl.computing
    assert ctl._jobs.release() == 0  # the job it would have run was dropped
