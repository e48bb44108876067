"""Random sequences of steps, step-backs, edits and undo/redo (hypothesis),
mixed with invalid requests of every type that must change nothing."""
import numpy as np
import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.engine import ModelState, compute_trace
from gru_debugger.core.model.phases import PHASES

SMALL = Config(seed=3, batch_size=2, context_length=3, n_embd=3, hidden_size=2,
               init={"x2g.weight": {"scheme": "normal", "std": 0.5}, "h2g.weight": {"scheme": "default"}})
NAV = ["step", "step_into", "step_out", "run_to_end", "continue_", "run_to_start"]

# Pools of values that are wrong for a kind of argument, whatever their type.
_HUGE_INT = st.integers(min_value=10**39, max_value=10**400) | st.integers(min_value=-10**400, max_value=-10**39)
_NON_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf"), 1e39, -1e39, 3.5e38])
_CONTAINERS = st.lists(st.integers(0, 3), max_size=2) | st.lists(st.lists(st.integers(0, 3), max_size=2),
                                                                   min_size=1, max_size=2) | \
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)
NOT_NUMBER = st.none() | st.text(max_size=4) | st.booleans() | _HUGE_INT | _NON_FINITE | _CONTAINERS
NOT_INT = st.text(max_size=4) | st.booleans() | _HUGE_INT | _NON_FINITE | st.floats(-5, 5) | _CONTAINERS
NOT_BOOL = st.none() | st.text(max_size=4) | st.integers(-2, 2) | st.floats(-1, 1) | _CONTAINERS
NOT_NAME = st.none() | st.text(max_size=6).filter(lambda t: t not in PHASES + PARAM_NAMES) | st.booleans() | \
    st.integers() | _NON_FINITE | _CONTAINERS | st.tuples(st.sampled_from(PARAM_NAMES + PHASES))
NOT_TEXTS = st.text(min_size=0, max_size=60) | st.none() | st.integers() | st.booleans() | _NON_FINITE | \
    st.lists(st.integers(), min_size=1, max_size=3) | st.lists(st.lists(st.text(max_size=3), min_size=1),
                                                               min_size=1, max_size=2)
NOT_INDEX = st.none() | st.text(max_size=3) | st.integers() | \
    st.tuples(NOT_INT, st.integers(0, 1)) | st.tuples(st.integers(0, 1), NOT_INT) | \
    st.tuples(st.integers(0, 1), st.integers(0, 1), st.integers(0, 1)) | st.tuples(st.integers(6, 10**400))
NOT_SPEC = NOT_NUMBER | st.fixed_dictionaries({"scheme": NOT_NAME}) | \
    st.fixed_dictionaries({"scheme": st.just("constant"), "value": NOT_NUMBER}) | \
    st.fixed_dictionaries({"scheme": st.just("normal"), "std": NOT_NUMBER})
NOT_MERGE_KEY = st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)

# A bad request: the method and a function from drawn bad values to its arguments.
INVALID = {
    "run_to": (NOT_NAME, lambda v: ((v,), {})),
    "run_to_t": (NOT_INT, lambda v: (("cell", v), {})),
    "toggle_breakpoint": (NOT_NAME, lambda v: ((v,), {})),
    "set_param_name": (NOT_NAME, lambda v: ((v, (0, 0), 1.0), {})),
    "set_param_index": (NOT_INDEX, lambda v: (("h2g.weight", v, 1.0), {})),
    "set_param": (NOT_NUMBER, lambda v: (("h2g.weight", (0, 0), v), {})),
    "set_param_key": (NOT_MERGE_KEY, lambda v: (("h2g.weight", (0, 0), 1.0), {"merge_key": v})),
    "set_init": (NOT_SPEC, lambda v: (("x2g.weight", v), {})),
    "set_inits": (NOT_SPEC, lambda v: (({"x2g.weight": v},), {})),
    "reinitialise": (NOT_TEXTS.filter(lambda v: v is not None), lambda v: ((v,), {})),  # None: all of them
    "set_seed": (NOT_INT, lambda v: ((v,), {})),
    "set_learning_rate": (NOT_NUMBER, lambda v: ((v,), {})),
    "set_dropout": (NOT_NUMBER, lambda v: ((v,), {})),
    "set_train_mode": (NOT_BOOL, lambda v: ((v,), {})),
    "set_corpus": (NOT_TEXTS, lambda v: ((v,), {})),
    "set_tokenizer": (NOT_INT, lambda v: ((v, True), {})),
    "set_tokenizer_lowercase": (NOT_BOOL, lambda v: ((5, v), {})),
    "set_batch": (NOT_INT, lambda v: ((v, 2), {})),
    "set_batch_T": (NOT_INT, lambda v: ((2, v), {})),
    "set_batch_position": (NOT_INT, lambda v: ((2, 2, v), {})),
    "set_position": (NOT_INT | st.none(), lambda v: ((v,), {})),
    "set_sizes": (NOT_INT, lambda v: ((v, 2), {})),
    "set_sizes_H": (NOT_INT, lambda v: ((2, v), {})),
    "configure": (NOT_NUMBER, lambda v: (("Settings",), {"learning_rate": v})),
    "configure_text": (NOT_NUMBER.filter(lambda v: not isinstance(v, str)), lambda v: ((v,), {"dropout": 0.2})),
    "snapshot": (NOT_NAME.filter(lambda v: v not in ("cursor", "model", None) and v != [] and v != {}),
                 lambda v: ((v,), {})),  # an empty collection is a valid set of reasons
}


def method_of(kind):
    return kind if hasattr(Controller, kind) else kind.rsplit("_", 1)[0]


def observed(ctl):
    return (ctl.state, ctl.snapshot().trace, ctl.cursor, list(ctl._nav), ctl.undo_texts, ctl.redo_texts,
            ctl.breakpoints)


def refused_without_change(ctl, kind, value):
    """Call one bad request; it must raise ControllerError and leave everything as it was, silently."""
    args, kwargs = INVALID[kind][1](value)
    seen = []
    record = lambda *a: seen.append(a)  # noqa: E731
    signals = (ctl.changed, ctl.history_changed, ctl.breakpoints_changed)
    for signal in signals:
        signal.connect(record)
    before = observed(ctl)
    try:
        with pytest.raises(ControllerError):
            getattr(ctl, method_of(kind))(*args, **kwargs)
    finally:
        for signal in signals:
            signal.disconnect(record)
    after = observed(ctl)
    assert after[0] is before[0] and after[1] is before[1], f"{kind}({value!r}) changed the model"
    assert after[2:] == before[2:], f"{kind}({value!r}) moved the cursor, history or breakpoints"
    assert seen == [], f"{kind}({value!r}) sent a notification"


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
            return False
        return True

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

    @rule(cell=st.sampled_from(["gru", "lstm", "rnn", "transformer"]))
    def cell(self, cell):
        """Switch the cell (an unknown one is refused): the cursor keeps its place, undo is exact."""
        before = (self.ctl.state, self.ctl.snapshot().step)
        if not self.attempt(lambda: self.ctl.set_cell(cell)) or before[0].config.cell == cell:
            return
        step = self.ctl.snapshot().step
        if before[1] is not None:
            assert step.phase == before[1].phase and step.t == before[1].t
        self.ctl.undo()
        assert self.ctl.state is before[0]
        self.ctl.redo()

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

    @rule(kind=st.sampled_from(sorted(INVALID)), data=st.data())
    def invalid_request(self, kind, data):
        refused_without_change(self.ctl, kind, data.draw(INVALID[kind][0], label="bad value"))

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
