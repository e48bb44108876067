"""Round-off detection: gradients that are zero in exact arithmetic are marked,
real gradients are not."""
import numpy as np
import pytest

from gru_debugger.core.analysis import roundoff
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.model.engine import compute_trace
from gru_debugger.core.analysis.roundoff import gradient_scale, is_roundoff, roundoff_keys, roundoff_mask

RANDOM = {name: {"scheme": "default"} for name in PARAM_NAMES}
RECURRENT = ["x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias", "wte.weight"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_default_example_marks_every_gradient_behind_the_head(dtype):
    trace = compute_trace(fresh_state(Config(seed=0, dtype=dtype)))
    expected = {"grad/h", "grad/h_last", "grad/gx_last", "grad/z", "grad/r", "grad/n", "grad/gx", "grad/gh",
                "grad/embedded"}
    expected |= {f"{family}/{name}" for family in ("grad", "update") for name in RECURRENT}
    for key in sorted(expected):
        assert np.count_nonzero(trace[key]) > 0, key       # the noise is really there to be marked
        assert is_roundoff(trace, key), key
        mask = roundoff_mask(trace, key)
        assert mask.shape == trace[key].shape and mask.dtype == bool
        np.testing.assert_array_equal(mask, trace[key] != 0)
    assert set(roundoff_keys(trace)) == expected
    for key in ("grad/lm_head.weight", "update/lm_head.weight", "grad/logits"):
        assert roundoff_mask(trace, key) is None and not is_roundoff(trace, key)
    assert roundoff_mask(trace, "h") is None                # forward values are never marked


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_random_example_has_no_roundoff(cell):
    trace = compute_trace(fresh_state(Config(seed=0, init=RANDOM, cell=cell)))
    assert roundoff_keys(trace) == ()
    for key in trace.arrays:
        assert roundoff_mask(trace, key) is None, key
    assert gradient_scale(trace) > 0.01


def test_zero_gradient_elements_are_not_marked_only_noise_is():
    # Random weights but lm_head rows equal: noise everywhere behind the head,
    # while wte rows of tokens that are not in the batch are exactly zero.
    state = fresh_state(Config(seed=1, init={**RANDOM, "lm_head.weight": {"scheme": "constant", "value": 0.3}}))
    trace = compute_trace(state)
    grad = trace["grad/wte.weight"]
    mask = roundoff_mask(trace, "grad/wte.weight")
    assert mask is not None and (grad == 0).any()
    assert not mask[grad == 0].any()
    assert is_roundoff(trace, "grad/wte.weight")


def test_shadow_is_computed_once_per_trace_and_never_by_a_step(monkeypatch):
    """The float64 recomputation runs once per iteration: on the controller's worker after the
    trace is made, or when first asked for; a Step on the window's thread never computes it."""
    import threading

    calls = []
    real = roundoff.shadow_pass
    monkeypatch.setattr(roundoff, "shadow_pass",
                        lambda state, *handed: calls.append((state, threading.current_thread())) or real(state, *handed))
    ctl = Controller(Config(seed=0))
    main = threading.current_thread()
    while ctl.can_step():
        ctl.step()
    assert [c for c in calls if c[1] is main] == []          # stepping never pays for it
    snap = ctl.snapshot()
    assert snap.is_roundoff("grad/h2g.weight")
    assert snap.roundoff_mask("grad/x2g.weight") is not None
    assert roundoff_mask(snap.trace, "grad/h") is not None
    assert len(calls) == 1 and calls[0][0].config.dtype == "float64"


def test_snapshot_says_nothing_before_the_gradient_exists():
    ctl = Controller(Config(seed=0))
    ctl.run_to("loss")
    snap = ctl.snapshot()
    assert snap.roundoff_mask("grad/h2g.weight") is None and not snap.is_roundoff("grad/h2g.weight")
    ctl.run_to("backward", 5)
    partial = ctl.snapshot()
    mask = partial.roundoff_mask("grad/h")
    assert mask is not None
    np.testing.assert_array_equal(mask, partial.get("grad/h") != 0)
    accumulated = partial.get("grad/x2g.weight")                       # a partial sum at t = 5
    np.testing.assert_array_equal(partial.roundoff_mask("grad/x2g.weight"), accumulated != 0)


def test_one_float64_pass_answers_the_round_off_and_the_precision_checks(monkeypatch):
    """The precision check of the forward values reads the round-off check's float64 pass: no
    second float64 forward pass (on the large sizes each is a second of a worker's time)."""
    from gru_debugger.core.analysis import precision
    from gru_debugger.core.storage.examples import list_examples, load_example

    def no_second_pass(*args, **kwargs):
        raise AssertionError("a second float64 forward pass")

    monkeypatch.setattr(precision, "_forward_part", no_second_pass)
    example = next(e for e in list_examples() if e.path.name == "rnn-exploding.json")
    for config in (Config(seed=0), load_example(example)):
        ctl = Controller(config)
        trace = ctl.snapshot().trace
        assert not precision.known(trace)[0]
        roundoff_mask(trace, "grad/h")                      # the round-off check, once
        done, found = precision.known(trace)
        assert done and (found is None) == (config.cell == "gru")   # the exploding example is not resolved
        assert found is None or found.key == "h"


def test_the_windows_precision_check_is_the_round_off_checks_pass():
    """The window starts the precision check when it has not moved yet: the job it queues is the
    round-off check's, so the masks are known with it (no second float64 pass later)."""
    import time

    from gru_debugger.core.analysis import precision

    snap = Controller(Config(seed=0)).snapshot()
    snap.start_precision_check()
    deadline = time.monotonic() + 60
    while not snap.precision_known()[0] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert snap.precision_known() == (True, None) and snap.roundoff_known()
    assert precision._queued[0].exception() is None
