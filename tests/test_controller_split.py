"""The controller's jobs on their own: the history (core/control/history.py), the background work
(core/control/background.py) without a controller, and the window's poll clock without a status line."""
import threading
import time

import numpy as np
import pytest
import torch

from gru_debugger.core.text import data as data_module
from gru_debugger.core.model import engine as engine_module
from gru_debugger.core.control.background import Background, worker
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.text.data import tokenize
from gru_debugger.core.model.engine import ModelState, compute_trace, masks_for
from gru_debugger.core.control.history import Command, Group, History
from gru_debugger.core.model.shadow import shadow_state
from gru_debugger.core.control.trace_cache import TraceCache

DEFAULT_INIT = {n: {"scheme": "default"} for n in PARAM_NAMES}


def base_state(**changes) -> ModelState:
    return Controller(Config(seed=5, init=DEFAULT_INIT, **changes)).state


def variant(state: ModelState, k: float) -> ModelState:
    """A state with parameter tensors of its own (fresh storages)."""
    params = {name: t.clone() + k for name, t in state.params.items()}
    return ModelState(state.config, params, state.iteration, state.position, state.base_seed)


def param_bytes(state: ModelState) -> int:
    return sum(t.untyped_storage().nbytes() for t in state.params.values())


# ---------------------------------------------------------------- history
def test_history_pushes_counts_each_storage_once_and_undoes_and_redoes():
    s0 = base_state()
    s1, s2 = variant(s0, 1.0), variant(s0, 2.0)
    h = History(budget=10**9)
    assert h.record(Command("one", s0, s1)) and h.record(Command("two", s1, s2))
    assert [c.text for c in h.undo] == ["one", "two"] and h.redo == []
    assert h.bytes == 3 * param_bytes(s0)  # s1 is shared by both commands: counted once
    cmd = h.to_undo()
    assert cmd.after is s2
    h.undone()
    assert [c.text for c in h.redo] == ["two"] and h.bytes == 3 * param_bytes(s0)  # redo keeps its states
    assert h.to_redo() is cmd
    h.redone()
    assert h.redo == [] and h.top is cmd
    h.undone()
    h.record(Command("other", s1, variant(s0, 3.0)))  # a new change drops the redo stack
    assert h.redo == [] and [c.text for c in h.undo] == ["one", "other"]
    assert h.bytes == 3 * param_bytes(s0)  # s2 is no longer kept


def test_history_merges_equal_merge_keys_but_not_into_a_group():
    s0 = base_state()
    s1, s2, s3 = variant(s0, 1.0), variant(s0, 2.0), variant(s0, 3.0)
    h = History(budget=10**9)
    h.record(Command("drag 1", s0, s1, merge_key="drag"))
    h.record(Command("drag 2", s1, s2, merge_key="drag"))
    assert len(h.undo) == 1 and h.top.text == "drag 2" and h.top.before is s0 and h.top.after is s2
    assert h.bytes == 2 * param_bytes(s0)  # s1 was let go by the merge
    h.record(Command("other", s2, s3, merge_key="elsewhere"))
    assert [c.text for c in h.undo] == ["drag 2", "other"]


def test_history_groups_become_one_step_and_merge_with_the_previous_group():
    s0 = base_state()
    states = [s0] + [variant(s0, float(k)) for k in range(1, 5)]
    h = History(budget=10**9)
    opened = []
    group = Group("Run ({n})", "run", opened.append, lambda g: h.close(g, states[2]))
    h.open(group, s0, 3, [1, 2])
    with pytest.raises(ControllerError):
        h.open(Group("again", None, print, print), s0, 3, [])
    for k in (1, 2):
        assert not h.record(Command("Next iteration", states[k - 1], states[k], kind="iteration", cursor_before=3))
    assert h.undo == []  # counted in the open group
    assert h.close(group, states[2])
    top = h.top
    assert (top.text, top.kind, top.count, top.before, top.after) == ("Run (2)", "group", 2, s0, states[2])
    assert top.cursor_before == 3 and top.nav_before == [1, 2] and top.last.after is states[2]
    second = Group("Run ({n})", "run", print, print)
    h.open(second, states[2], -1, [])
    h.record(Command("Next iteration", states[2], states[3], kind="iteration", cursor_before=-1))
    assert h.close(second, states[3])
    assert len(h.undo) == 1 and h.top.text == "Run (3)" and h.top.after is states[3]
    h.split_group()  # step back out of the run into its last iteration
    assert [c.text for c in h.undo] == ["Run (2)", "Next iteration"]
    empty = Group("Nothing ({n})", None, print, print)
    h.open(empty, states[3], -1, [])
    assert not h.close(empty, states[3]) and h.group is None


def test_history_drops_the_oldest_steps_over_its_byte_budget():
    s0 = base_state()
    one = param_bytes(s0)
    h = History(budget=3 * one)
    states = [s0] + [variant(s0, float(k)) for k in range(1, 6)]
    for k in range(1, 6):
        h.record(Command(f"edit {k}", states[k - 1], states[k]))
        assert h.bytes <= h.budget
    assert [c.text for c in h.undo] == ["edit 4", "edit 5"] and h.dropped == 3
    assert h.note == "(3 older steps dropped to save memory)"
    tiny = History(budget=0)
    tiny.record(Command("a", s0, states[1]))
    tiny.record(Command("b", states[1], states[2]))
    assert [c.text for c in tiny.undo] == ["b"] and tiny.dropped == 1  # the last change always stays
    with pytest.raises(ControllerError, match="nothing to redo"):
        tiny.to_redo()


# ---------------------------------------------------------------- background
def _on_main_thread_only(monkeypatch):
    """Record the threads on which the engine looks up the tokenizer cache."""
    threads = []
    real = engine_module.tokenize

    def recording(cfg, *args):
        threads.append(threading.current_thread())
        return real(cfg, *args)

    monkeypatch.setattr(engine_module, "tokenize", recording)
    return threads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_job_handed_its_inputs_completes_without_the_controller_or_the_tokenizer_cache(monkeypatch, dtype):
    state = base_state(dtype=dtype, dropout=0.4)
    corpus = tokenize(state.config)
    background = Background(TraceCache(10**9))
    trace = background.trace_for(state, lambda: corpus, None, now=False)
    threads = _on_main_thread_only(monkeypatch)
    data_module._cache.clear()  # nothing to find there: a job that looked would fill it again
    announced = []
    start = time.monotonic()
    while background.poll(trace, lambda: announced.append(trace)):
        assert time.monotonic() - start < 30
        time.sleep(0.005)
    background.prepare_roundoff(trace)  # the float64 recomputation and the precision check
    worker().submit(lambda: None).result()
    assert threads == [] and len(data_module._cache) == 0
    assert announced == [trace]
    full = compute_trace(state)
    for key in full.arrays:
        assert np.array_equal(trace[key], full[key], equal_nan=True), key


def test_poll_lets_held_jobs_go_and_announces_each_trace_once():
    state = base_state()
    background = Background(TraceCache(10**9))
    gate = threading.Event()
    worker().submit(gate.wait)  # the worker is busy: the job waits behind it
    try:
        trace = background.trace_for(state, lambda: tokenize(state.config), None, now=False)
        assert background.jobs.held == 1 and not trace.complete
        announced = []
        assert background.poll(trace, lambda: announced.append(1)) is True  # still computing
        assert background.jobs.held == 0 and announced == []
    finally:
        gate.set()
    worker().submit(lambda: None).result()
    assert background.poll(trace, lambda: announced.append(1)) is False and announced == [1]
    assert background.poll(trace, lambda: announced.append(1)) is False and announced == [1]  # once
    again = background.trace_for(state, lambda: pytest.fail("a kept trace is not made again"), trace, now=False)
    assert again is trace


def test_a_second_trace_drops_the_queued_job_of_the_first_and_poll_hands_it_back():
    s0 = base_state()
    s1 = variant(s0, 0.5)
    background = Background(TraceCache(10**9))
    first = background.trace_for(s0, lambda: tokenize(s0.config), None, now=False)
    second = background.trace_for(s1, lambda: tokenize(s1.config), first, now=False)
    assert first.arrays._future.cancelled() and not second.arrays._future.cancelled()
    while background.poll(first, lambda: None):  # first is current again: its job comes back
        time.sleep(0.005)
    assert first.complete


def test_handed_masks_in_another_precision_are_those_drawn_in_it():
    state = base_state(dropout=0.3)
    trace = compute_trace(state)
    shadow = shadow_state(state)
    B, T = state.config.batch_size, state.config.context_length
    got = trace.inputs.masks(shadow.config)
    want = masks_for(shadow, "train", B, T)
    assert all(g.dtype == torch.float64 and torch.equal(g, w) for g, w in zip(got, want))
    eval_state = base_state(dropout=0.3, train_mode=False)
    ones = compute_trace(eval_state).inputs.masks(shadow_state(eval_state).config)
    assert all(torch.equal(m, torch.ones_like(m)) for m in ones)


# ---------------------------------------------------------------- the window's clock
def test_a_window_without_a_status_line_completes_back_propagation_after_an_edit(qtbot):
    from gru_debugger.ui.main_window import MainWindow
    from gru_debugger.ui.views.status import StatusLine

    ctl = Controller(Config(seed=0, init=DEFAULT_INIT))
    win = MainWindow(ctl, settings=None, status_line=False)
    qtbot.addWidget(win)
    assert win.status is None and win.findChildren(StatusLine) == []
    reasons = []
    ctl.changed.connect(lambda snap: reasons.append(snap.reasons))
    ctl.set_param("h2g.weight", (0, 0), 0.25)
    assert ctl.computing and win.clock.busy
    qtbot.waitUntil(lambda: any("computed" in r for r in reasons), timeout=30000)  # only poll() says this
    assert not ctl.computing and not win.clock.busy and ctl._jobs.held == 0
    win.show_error("shown without a status line")
    assert win.statusBar().currentMessage() == "shown without a status line"
