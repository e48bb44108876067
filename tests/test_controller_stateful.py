"""Random sequences of steps, step-backs, edits and undo/redo (hypothesis)."""
import numpy as np
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gru_debugger.core.config import PARAM_NAMES, Config
from gru_debugger.core.controller import Controller, ControllerError
from gru_debugger.core.engine import ModelState, compute_trace
from gru_debugger.core.phases import PHASES

SMALL = Config(seed=3, batch_size=2, context_length=3, n_embd=3, hidden_size=2,
               init={"x2g.weight": {"scheme": "normal", "std": 0.5}, "h2g.weight": {"scheme": "default"}})
NAV = ["step", "step_into", "step_out", "run_to_end", "continue_", "run_to_start"]


def visible(ctl):
    snap = ctl.snapshot()
    keys = list(snap.trace.arrays)
    return snap.cursor, {k: None if snap.get(k) is None else snap.get(k).copy() for k in keys}


def same_view(a, b):
    assert a[0] == b[0]
    assert a[1].keys() == b[1].keys()
    for key in a[1]:
        if a[1][key] is None or b[1][key] is None:
            assert a[1][key] is None and b[1][key] is None, key
        else:
            np.testing.assert_array_equal(a[1][key], b[1][key], err_msg=key)


class ControllerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.ctl = Controller(SMALL)

    def attempt(self, action):
        """Run an action; if refused, the state must be exactly as before."""
        state, cursor = self.ctl.state, self.ctl.cursor
        try:
            action()
        except ControllerError:
            assert self.ctl.state is state and self.ctl.cursor == cursor

    @rule(name=st.sampled_from(NAV))
    def navigate_then_step_back(self, name):
        before = visible(self.ctl)
        state = self.ctl.state
        try:
            getattr(self.ctl, name)()
        except ControllerError:
            assert visible(self.ctl)[0] == before[0]
            return
        if self.ctl.cursor == before[0]:
            return  # nothing moved (already there)
        self.ctl.step_back()
        assert self.ctl.state is state
        same_view(visible(self.ctl), before)
        getattr(self.ctl, name)()

    @rule(phase=st.sampled_from(PHASES + ("bogus",)), t=st.one_of(st.none(), st.integers(-1, 4)))
    def run_to(self, phase, t):
        self.attempt(lambda: self.ctl.run_to(phase, t))

    @rule()
    def step_back(self):
        self.attempt(self.ctl.step_back)

    @rule()
    def next_iteration(self):
        self.attempt(self.ctl.next_iteration)

    @rule()
    def reset(self):
        self.attempt(self.ctl.reset)

    @rule(name=st.sampled_from(PARAM_NAMES), i=st.integers(0, 8), j=st.integers(0, 8),
          value=st.one_of(st.floats(-3, 3), st.just(float("nan"))))
    def edit_param_then_undo(self, name, i, j, value):
        index = (i,) if name.endswith("bias") else (i, j)
        before = visible(self.ctl)
        try:
            self.ctl.set_param(name, index, value)
        except ControllerError:
            same_view(visible(self.ctl), before)
            return
        self.ctl.undo()
        same_view(visible(self.ctl), before)
        self.ctl.redo()

    @rule(lr=st.one_of(st.floats(-10, 10), st.just(float("inf"))), merge=st.booleans())
    def learning_rate(self, lr, merge):
        self.attempt(lambda: self.ctl.set_learning_rate(lr, merge_key="lr" if merge else None))

    @rule(p=st.floats(0, 1))
    def dropout(self, p):
        self.attempt(lambda: self.ctl.set_dropout(p))

    @rule(B=st.integers(0, 3), T=st.integers(0, 5))
    def batch(self, B, T):
        self.attempt(lambda: self.ctl.set_batch(B, T))

    @rule(E=st.integers(1, 4), H=st.integers(1, 3))
    def sizes(self, E, H):
        self.attempt(lambda: self.ctl.set_sizes(E, H))

    @rule(seed=st.one_of(st.none(), st.integers(-1, 100)))
    def seed(self, seed):
        self.attempt(lambda: self.ctl.set_seed(seed))

    @rule(phase=st.sampled_from(PHASES))
    def breakpoint(self, phase):
        self.ctl.toggle_breakpoint(phase)

    @rule()
    def undo(self):
        self.attempt(self.ctl.undo)

    @rule()
    def redo(self):
        self.attempt(self.ctl.redo)

    @invariant()
    def numbers_equal_a_fresh_recomputation(self):
        state = self.ctl.state
        copy = ModelState(state.config, {k: v.clone() for k, v in state.params.items()}, state.iteration,
                          state.position, state.base_seed)
        fresh = compute_trace(copy)
        trace = self.ctl.snapshot().trace
        for key in fresh.arrays:
            np.testing.assert_array_equal(fresh[key], trace[key], err_msg=key)

    @invariant()
    def cursor_in_range(self):
        assert -1 <= self.ctl.cursor <= self.ctl.last


ControllerMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None,
                                               suppress_health_check=[HealthCheck.too_slow])
TestController = ControllerMachine.TestCase
