"""Every public method of the controller refuses bad arguments of any type the
same way (ControllerError, nothing changed, no signal), and a listener that
raises cannot leave a change half-recorded."""
import numpy as np
import pytest
from psygnal import EmitLoopError

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller, ControllerError

HUGE = 10**400
NAN, INF = float("nan"), float("inf")
# Wrong for any argument that wants a number, a name or a list of names.
ANY_BAD = [None, "", "x", True, HUGE, NAN, INF, [1, [2]], {"a": 1}, object(), b"bytes", 1j]
NUMBER_BAD = [None, "1", True, False, HUGE, -HUGE, NAN, INF, -INF, 1e39, -1e39, [1.0], {"v": 1}, 1j, object()]
INT_BAD = [None, "2", True, 1.5, 2.0, HUGE, NAN, INF, [2], {"v": 2}, object(), np.float32(2)]
NAME_BAD = ANY_BAD + ["nope", "WTE.WEIGHT", ("wte.weight",)]
PHASE_BAD = ANY_BAD + ["nowhere", "GRU", ("gru",)]
MERGE_BAD = [[1], {"a": 1}, {1, 2}, np.zeros(2)]
TEXTS_BAD = ["a bare string is a sequence of characters " * 5, b"bytes", None, 5, True, [5], [["nested"]],
             ["ok", None], {"a": "b"}, object(), []]
SPEC_BAD = [None, "normal", ["normal"], 5, {}, {"scheme": ["normal"]}, {"scheme": None}, {"scheme": "nope"},
            {"scheme": "constant", "value": 1e39}, {"scheme": "constant", "value": HUGE},
            {"scheme": "constant", "value": True}, {"scheme": "constant", "value": "1"},
            {"scheme": "constant", "value": NAN}, {"scheme": "constant", "value": [1]},
            {"scheme": "normal", "std": -1}, {"scheme": "normal", "mean": 3e38, "std": 1e37},
            {"scheme": "uniform", "low": -3e38, "high": 3e38}, {"scheme": "orthogonal", "gain": 3e38},
            {"scheme": "zeros", "value": 1}, {"scheme": "constant", ("value",): 1}]


def cases():
    """(method, args, kwargs) for every public method with arguments, each with one bad value."""
    out = []
    for v in PHASE_BAD:
        out += [("run_to", (v,), {}), ("toggle_breakpoint", (v,), {})]
    for v in ["x", True, 1.5, HUGE, NAN, [0], -1, 8, 99, {"t": 1}]:
        out.append(("run_to", ("gru", v), {}))
    for v in NAME_BAD:
        out += [("set_param", (v, (0, 0), 1.0), {}), ("set_init", (v, {"scheme": "zeros"}), {})]
    for v in [None, "00", (0,), (0, 0, 0), (True, 0), (0.0, 0), (HUGE, 0), ([0], 0), (-1, 0), (6, 0), (0, 2), 5,
              {0: 0, 1: 0}, np.zeros((2,))]:
        out.append(("set_param", ("h2g.weight", v, 1.0), {}))
    for v in NUMBER_BAD:
        out += [("set_param", ("h2g.weight", (0, 0), v), {}), ("set_learning_rate", (v,), {}),
                ("set_dropout", (v,), {})]
    for v in MERGE_BAD:
        out += [("set_param", ("h2g.weight", (0, 0), 1.0), {"merge_key": v}),
                ("set_learning_rate", (1.0,), {"merge_key": v}), ("configure", ("Settings", v), {"dropout": 0.2})]
    for v in SPEC_BAD:
        out += [("set_init", ("x2g.weight", v), {}), ("set_inits", ({"x2g.weight": v},), {})]
    for v in [None, "x2g.weight", [], {}, ["x2g.weight"], {"nope": {"scheme": "zeros"}}, 5, {5: {"scheme": "zeros"}}]:
        out.append(("set_inits", (v,), {}))
    for v in [None, 5, ["text"]]:
        out.append(("set_inits", ({"x2g.bias": {"scheme": "ones"}}, v), {}))
    for v in ["wte.weight", 5, [5], [["wte.weight"]], [], ["nope"], {"wte.weight": 1}, [None], True]:
        out.append(("reinitialise", (v,), {}))
    for v in INT_BAD[1:] + [-1, 2**63]:  # None is a valid seed (draw one)
        out.append(("set_seed", (v,), {}))
    for v in [None, 1, 0, "true", 0.0, [True], np.zeros(1)]:
        out += [("set_train_mode", (v,), {}), ("set_tokenizer", (5, v), {})]
    for v in TEXTS_BAD:
        out += [("set_corpus", (v,), {}), ("configure", ("Corpus",), {"corpus": v})]
    for v in INT_BAD + [-1, 10**6]:
        out += [("set_tokenizer", (v, True), {}), ("set_batch", (v, 8), {}), ("set_batch", (2, v), {}),
                ("set_position", (v,), {}), ("set_sizes", (v, 2), {}), ("set_sizes", (4, v), {})]
    for v in [None, "", "GRU", "transformer", 3, ["lstm"], True, b"lstm"]:
        out += [("set_cell", (v,), {}), ("configure", ("Cell",), {"cell": v})]
    for v in ["2", True, 1.5, HUGE, NAN, [0], -1, 10**6]:  # None: keep the position
        out.append(("set_batch", (2, 8, v), {}))
    for v in [None, 5, ["Settings"]]:
        out.append(("configure", (v,), {"dropout": 0.2}))
    for changes in [{}, {"nope": 1}, {"seed": 1}, {"init": {}}, {"batch_size": "2"}, {"learning_rate": 1e39},
                    {"dropout": HUGE}, {"position": None}, {"lowercase": 1}, {"n_embd": 1.0}, {"corpus": None}]:
        out.append(("configure", ("Settings",), changes))
    for v in [5, "cursor", ["nope"], [None], [["cursor"]], None]:
        out.append(("snapshot", (v,), {}))
    # weights files: bad types and paths that cannot be read (files that exist but are refused: test_weights_io)
    for v in [None, "", 5, True, b"w.pt", ["w.pt"], {"path": "w.pt"}, object(), "/nonexistent/w.safetensors",
              "/nonexistent/w.pt", "/dev/null.npz", "/", "/dev/zero.pt"]:
        out.append(("import_weights", (v,), {}))
    for v in [None, "", 5, True, b"w.safetensors", ["w.safetensors"], object(), "/nonexistent/w.safetensors",
              "/tmp/w.pt", "/tmp/w.npz", "/"]:
        out.append(("export_weights", (v,), {}))
    for v in [None, "", "keras", "TORCH", 1, True, ["torch"]]:
        out.append(("export_weights", ("/tmp/gru-debugger-never-written.safetensors", v), {}))
    for v in [None, "", 5, True, b"bytes", ["a.grus"], "bad\0name.grus", "/", "/nonexistent-folder/x.grus"]:
        out.append(("save", (v,), {}))
    for v in [None, "", 5, True, b"bytes", ["a.grus"], "bad\0name.grus", "/", "/dev/null",
              "/nonexistent-folder/x.grus", __file__]:
        out.append(("load", (v,), {}))
    for v in [None, 0, 1.5, "x", [1], {"a": 1}]:
        out.append(("load", (__file__,), {"trace_budget": v}))
        out.append(("load", (__file__,), {"history_budget": v if v != 0 else -1}))
    for v in [None, 5, "config", {"seed": 0}, Config, [Config()], Config(corpus=("  ",)), Config(dropout=HUGE),
              Config(batch_size=True), Config(init={"wte.weight": {"scheme": "constant", "value": 1e39}}),
              Config(corpus=("tiny",), batch_size=50, context_length=50)]:
        out.append(("use_config", (v,), {}))
    for v in [None, 5, b"text", ["text"]]:
        out.append(("use_config", (Config(seed=1),), {"text": v}))
    for v in [None, 5, b"text", ["text"]]:
        out.append(("grouped", (v,), {}))
    for v in MERGE_BAD:
        out.append(("grouped", ("Run",), {"merge_key": v}))
    return out


CASES = cases()


def prepared():
    """A controller with a cursor, a step-back history, undo and redo entries and a breakpoint."""
    ctl = Controller(Config(seed=11))
    ctl.set_learning_rate(2.0)
    ctl.set_learning_rate(3.0)
    ctl.undo()
    ctl.run_to("embed")
    ctl.run_to("loss")
    ctl.toggle_breakpoint("head")
    return ctl


def observed(ctl):
    return (ctl.state, ctl.cursor, list(ctl._nav), ctl.undo_texts, ctl.redo_texts, ctl.breakpoints,
            ctl.snapshot().trace)


def assert_unchanged(ctl, before):
    after = observed(ctl)
    assert after[0] is before[0], "the model state changed"
    assert after[6] is before[6], "the trace changed"
    assert after[1:6] == before[1:6]


@pytest.fixture
def ctl():
    return prepared()


@pytest.fixture(scope="module")
def shared():
    """One controller for all the refusals (each test checks that its request changed nothing)."""
    return prepared()


@pytest.mark.parametrize("method, args, kwargs", CASES,
                         ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(CASES)])
def test_bad_argument_is_refused_and_changes_nothing(shared, method, args, kwargs):
    ctl, seen = shared, []
    record = lambda *a: seen.append(a)  # noqa: E731
    signals = (ctl.changed, ctl.history_changed, ctl.breakpoints_changed)
    for signal in signals:
        signal.connect(record)
    before = observed(ctl)
    try:
        with pytest.raises(ControllerError) as info:
            getattr(ctl, method)(*args, **kwargs)
    finally:
        for signal in signals:
            signal.disconnect(record)
    assert type(info.value) is ControllerError and isinstance(info.value, ValueError)
    message = str(info.value)
    assert message and "\n" not in message and len(message) < 400
    assert_unchanged(ctl, before)
    assert seen == [], "a refused request must not notify anyone"


def test_every_public_method_with_arguments_is_covered():
    public = {name for name in dir(Controller) if not name.startswith("_")
              and callable(getattr(Controller, name)) and getattr(Controller, name).__code__.co_argcount > 1}
    assert public - {m for m, _, _ in CASES} == set()


@pytest.mark.parametrize("config", ["config", 5, Config(corpus="a bare string"), Config(init=[["x"]]),
                                    Config(dropout=HUGE), Config(learning_rate=1e39), Config(batch_size=True),
                                    Config(init={"wte.weight": {"scheme": "constant", "value": 1e39}})])
def test_constructor_refuses_bad_configs(config):
    with pytest.raises(ControllerError):
        Controller(config)


def test_learning_rate_whose_step_overflows_is_refused():
    ctl = Controller(Config(seed=11, init={"wte.weight": {"scheme": "constant", "value": 1e20},
                                           "x2g.weight": {"scheme": "constant", "value": 1e-20}}))
    before = observed(ctl)
    with pytest.raises(ControllerError, match="overflows float32"):
        ctl.set_learning_rate(1e30)
    assert_unchanged(ctl, before)
    ctl.set_learning_rate(1e-3)  # a learning rate that fits is fine
    assert np.isfinite(ctl.snapshot().trace["updated/x2g.weight"]).all()


def test_values_at_the_float32_limit_are_accepted(ctl):
    ctl.set_param("h2g.weight", (0, 0), 3.0e38)
    assert float(ctl.state.params["h2g.weight"][0, 0]) == pytest.approx(3.0e38, rel=1e-6)
    ctl.set_param("h2g.weight", (0, 1), np.float32(0.5))   # numpy scalars are numbers too
    ctl.set_param("h2g.weight", (np.int64(1), 1), 1)
    assert ctl.undo_texts[-1] == "Set h2g.weight[1, 1] = 1"


# ------------------------------------------------------------------ listeners that raise
def boom(*args):
    raise RuntimeError("listener failed")


def test_raising_change_listener_leaves_the_edit_fully_recorded(ctl):
    history = []
    ctl.changed.connect(boom)
    ctl.history_changed.connect(lambda: history.append(ctl.undo_texts))
    with pytest.raises(EmitLoopError):
        ctl.set_learning_rate(0.5)
    assert ctl.config.learning_rate == 0.5
    assert ctl.undo_texts == ["Learning rate = 2", "Learning rate = 0.5"] and ctl.redo_texts == []
    assert history == [ctl.undo_texts], "history_changed must still be sent"
    ctl.changed.disconnect(boom)
    ctl.undo()
    assert ctl.config.learning_rate == 2.0 and ctl.redo_texts == ["Learning rate = 0.5"]


def test_raising_history_listener_leaves_undo_and_redo_consistent(ctl):
    seen = []
    ctl.changed.connect(lambda snap: seen.append(snap.reasons))
    ctl.history_changed.connect(boom)
    for action, lr, undo, redo in [(lambda: ctl.set_learning_rate(0.5), 0.5, ["Learning rate = 2",
                                                                                "Learning rate = 0.5"], []),
                                   (ctl.undo, 2.0, ["Learning rate = 2"], ["Learning rate = 0.5"]),
                                   (ctl.redo, 0.5, ["Learning rate = 2", "Learning rate = 0.5"], [])]:
        with pytest.raises(EmitLoopError):
            action()
        assert ctl.config.learning_rate == lr and ctl.undo_texts == undo and ctl.redo_texts == redo
        assert ctl.snapshot().trace is ctl._trace_for(ctl.state)  # the trace belongs to the state
    assert seen == [{"model", "cursor"}] * 3


def test_raising_listener_during_navigation_keeps_step_back_exact(ctl):
    cursor = ctl.cursor
    ctl.changed.connect(boom)
    with pytest.raises(EmitLoopError):
        ctl.step()
    assert ctl.cursor == cursor + 1
    ctl.changed.disconnect(boom)
    ctl.step_back()
    assert ctl.cursor == cursor


def test_raising_listener_inside_batched_still_records(ctl):
    ctl.changed.connect(boom)
    with pytest.raises(EmitLoopError):
        with ctl.batched():
            ctl.set_dropout(0.2)
            ctl.set_dropout(0.3)
    assert ctl.config.dropout == 0.3 and ctl.undo_texts[-2:] == ["Dropout p = 0.2", "Dropout p = 0.3"]
    assert ctl._quiet == 0
