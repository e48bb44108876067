"""Memory budgets (trace cache, undo history), a training run as one undo step,
honest size estimates, and numerical faults located in computation order."""
import numpy as np
import pytest

from gru_debugger.core.base.config import MAX_TRACE_BYTES, PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.text.data import tokenize
from gru_debugger.core.model.edits import estimate_trace_bytes, trace_array_bytes
from gru_debugger.core.control.training import train_iterations

DEFAULT_INIT = {n: {"scheme": "default"} for n in PARAM_NAMES}


def config(cell="gru", **kw):
    return Config(seed=4, cell=cell, init=DEFAULT_INIT, learning_rate=0.5, **kw)


def one_trace_bytes(cell="gru"):
    tr = Controller(config(cell)).snapshot().trace
    return sum(a.nbytes for a in tr.arrays.values())


def param_bytes(ctl):
    return sum(t.numel() * 4 for t in ctl.state.params.values())


def arrays(ctl):
    return {k: v.copy() for k, v in ctl.snapshot().trace.arrays.items()}


def same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_budgets_hold_over_many_iterations_and_edits(cell):
    trace = one_trace_bytes(cell)
    trace_budget, history_budget = 3 * trace + trace // 2, 0
    probe = Controller(config(cell))
    history_budget = 5 * param_bytes(probe)
    ctl = Controller(config(cell), trace_budget=trace_budget, history_budget=history_budget)
    for i in range(40):
        ctl.set_param("h2g.weight", (0, 0), 0.1 * (i % 7))
        if i % 3 == 0:
            ctl.undo()
            ctl.redo()
        ctl.run_to_end()
        ctl.next_iteration()
        assert ctl.trace_cache_bytes <= trace_budget
        assert ctl.history_bytes <= history_budget
    assert ctl.history_dropped > 0
    assert ctl.history_note == f"({ctl.history_dropped} older steps dropped to save memory)"
    kept = len(ctl.undo_texts)
    assert 1 <= kept < 80 and ctl.history_dropped + kept == 80
    # undo and redo stay exact for every step that was kept
    forward = [arrays(ctl)]
    for _ in range(kept):
        ctl.undo()
        forward.append(arrays(ctl))
    assert not ctl.can_undo()
    with pytest.raises(ControllerError, match="nothing to undo"):
        ctl.undo()
    for expected in reversed(forward[:-1]):
        ctl.redo()
        same(arrays(ctl), expected)
    assert ctl.trace_cache_bytes <= trace_budget


def test_trace_cache_always_keeps_the_current_trace():
    cfg = config()
    corpus = tokenize(cfg)
    just_one = estimate_trace_bytes(cfg, corpus.vocab_size, len(corpus.tokens))
    assert just_one < 2 * one_trace_bytes()
    ctl = Controller(cfg, trace_budget=just_one, history_budget=10**9)  # room for one trace only ...
    ctl.set_learning_rate(0.25)
    ctl.set_learning_rate(0.125)
    assert ctl.trace_cache_bytes == one_trace_bytes()          # ... the current one
    ctl.undo()
    assert ctl.config.learning_rate == 0.25 and ctl.trace_cache_bytes == one_trace_bytes()
    with pytest.raises(ControllerError, match=r"KB for one iteration .*limit 1 KB"):
        Controller(cfg, trace_budget=1)


def test_no_history_dropped_within_budget():
    ctl = Controller(config())
    for _ in range(5):
        ctl.next_iteration()
    assert ctl.history_dropped == 0 and ctl.history_note is None and len(ctl.undo_texts) == 5


def test_training_run_is_one_undo_step_and_step_back_returns_into_it():
    ctl = Controller(config())
    start = arrays(ctl)
    ctl.run_to("loss")
    run = train_iterations(ctl, 6)
    assert len(run) == 6 and not run.stopped_at_fault and ctl.state.iteration == 6
    assert ctl.undo_texts == ["Training run (6 iterations)"]
    end = arrays(ctl)
    ctl.undo()
    assert ctl.state.iteration == 0 and ctl.snapshot().step.phase == "loss"
    same(arrays(ctl), start)
    ctl.redo()
    assert ctl.state.iteration == 6 and ctl.cursor == -1
    same(arrays(ctl), end)
    ctl.step_back()  # into the run's last iteration, at its end
    assert ctl.state.iteration == 5 and ctl.snapshot().at_end
    assert ctl.undo_texts == ["Training run (5 iterations)"] and ctl.redo_texts == ["Next iteration"]
    ctl.redo()
    same(arrays(ctl), end)


def test_runs_with_the_same_merge_key_become_one_step():
    ctl = Controller(config())
    train_iterations(ctl, 2, merge_key="run-1")
    train_iterations(ctl, 3, merge_key="run-1")
    train_iterations(ctl, 1, merge_key="run-2")
    assert ctl.undo_texts == ["Training run (5 iterations)", "Training run (1 iterations)"]
    ctl.undo()
    ctl.undo()
    assert ctl.state.iteration == 0


def test_grouped_refuses_nesting_and_undo_inside():
    ctl = Controller(config())
    with ctl.grouped("Two edits"):
        ctl.set_learning_rate(0.3)
        with pytest.raises(ControllerError, match="already open"):
            with ctl.grouped("inner"):
                pass
        with pytest.raises(ControllerError, match="group"):
            ctl.undo()
        ctl.set_dropout(0.2)
    assert ctl.undo_texts == ["Two edits"]
    ctl.undo()
    assert ctl.config.learning_rate == 0.5 and ctl.config.dropout == 0.1


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_trace_size_formula_is_exact_and_estimate_covers_it(cell):
    cfg = config(cell, batch_size=3, context_length=5, n_embd=7, hidden_size=6, num_merges=9)
    ctl = Controller(cfg)
    trace = ctl.snapshot().trace
    corpus = tokenize(cfg)
    actual = sum(a.nbytes for a in trace.arrays.values())
    assert trace_array_bytes(cfg, corpus.vocab_size, len(corpus.tokens)) == actual
    assert estimate_trace_bytes(cfg, corpus.vocab_size, len(corpus.tokens)) > actual


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_hidden_size_4096_is_refused_with_the_estimate(cell):
    with pytest.raises(ControllerError, match=r"about \d.*(GiB|MB) for one iteration"):
        Controller(Config(seed=0, cell=cell, hidden_size=4096))
    ctl = Controller(Config(seed=0, cell=cell))
    state = ctl.state
    with pytest.raises(ControllerError, match="for one iteration"):
        ctl.set_sizes(4, 4096)
    assert ctl.state is state and not ctl.can_undo()


def test_a_small_trace_budget_refuses_sizes_before_computing():
    ctl = Controller(config(), trace_budget=one_trace_bytes() * 3)
    with pytest.raises(ControllerError, match="limit"):
        ctl.set_sizes(64, 64)
    assert ctl.config.hidden_size == 2 and not ctl.can_undo()
    assert Controller(config()).trace_budget == MAX_TRACE_BYTES


# ------------------------------------------------------------------ faults
def test_learning_rate_1e30_gives_a_located_fault():
    ctl = Controller(Config(seed=0, learning_rate=1e30, init=DEFAULT_INIT))
    fault = None
    for _ in range(4):
        fault = ctl.snapshot().fault
        if fault is not None:
            break
        ctl.next_iteration()
    assert fault is not None
    assert fault.key in ctl.snapshot().trace.arrays and fault.t is not None
    arr = ctl.snapshot().trace[fault.key]
    assert not np.isfinite(arr[fault.index])
    assert fault.key in fault.message and f"t={fault.t}" in fault.message
    assert ctl.snapshot().fault is fault  # computed once per trace
    with pytest.raises(ControllerError, match=fault.key):
        train_iterations(ctl, 5)


def test_training_stops_at_the_first_faulty_iteration():
    """lr 1e21 on this LSTM: iteration 0 is finite, iteration 1's weights overflow gx at t=2."""
    ctl = Controller(Config(seed=0, cell="lstm", learning_rate=1e21, init=DEFAULT_INIT))
    assert ctl.snapshot().fault is None
    run = train_iterations(ctl, 8)
    assert run.stopped_at_fault and [p.iteration for p in run] == [0, 1]
    assert (run.fault.key, run.fault.t, run.fault.phase) == ("gx", 2, "cell")
    assert ctl.state.iteration == 1 and ctl.snapshot().fault == run.fault  # it stays on the faulty iteration
    assert ctl.undo_texts == ["Training run (1 iterations)"]
    with pytest.raises(ControllerError, match="iteration 1 has a numerical fault"):
        train_iterations(ctl, 8)


def test_fault_order_prefers_the_earliest_timestep_and_forward_before_backward():
    from gru_debugger.core.model.engine import Trace
    from gru_debugger.core.analysis.faults import find_fault
    ctl = Controller(config())
    base = dict(ctl.snapshot().trace.arrays)

    def fault_with(**changes):
        arrays = {k: np.array(v) for k, v in base.items()}
        for key, (index, value) in changes.items():
            arrays[key.replace("__", "/")][index] = value
        return find_fault(Trace(arrays, ctl.snapshot().trace.corpus), "gru")

    assert fault_with() is None
    f = fault_with(h=((0, 5, 0), np.nan), z=((1, 3, 1), np.inf))
    assert (f.key, f.t, f.phase, f.kind) == ("z", 3, "cell", "Inf")
    f = fault_with(r=((0, 2, 0), np.nan), z=((0, 2, 0), np.nan))  # same t: the cell's order, z before r
    assert (f.key, f.t) == ("z", 2)
    f = fault_with(grad__h=((0, 1, 0), np.nan), grad__z=((0, 6, 0), np.nan))  # backward runs from T-1 down
    assert (f.key, f.t, f.phase) == ("grad/z", 6, "backward")
    f = fault_with(grad__h=((0, 1, 0), np.nan), logits=((0, 0, 0), -np.inf))
    assert (f.key, f.t, f.phase, f.kind) == ("logits", None, "head", "-Inf")
    f = fault_with(loss_after=((), np.nan))
    assert (f.key, f.phase) == ("loss_after", "forward_after")


def test_dropped_traces_are_freed_after_the_views_checked_them():
    """Checks on a trace (non-finite arrays, the first fault) must not keep it past the trace budget."""
    import gc
    import weakref

    cfg = config()
    corpus = tokenize(cfg)
    ctl = Controller(cfg, trace_budget=estimate_trace_bytes(cfg, corpus.vocab_size, len(corpus.tokens)))  # one trace
    gone = []
    for k in range(4):
        snap = ctl.snapshot()
        assert snap.non_finite() == [] and snap.fault is None
        gone.append(weakref.ref(snap.trace))
        del snap
        ctl.set_param("h2g.weight", (0, 0), 0.01 * (k + 1))
    from gru_debugger.core.control import controller as controller_module
    controller_module._background().submit(lambda: None).result()  # a running background job holds its trace
    gc.collect()
    assert all(ref() is None for ref in gone)
    assert ctl.snapshot().trace is not None
