"""The pinned baseline (core/analysis/baseline.py): exact differences at the same cursor."""
import numpy as np

from gru_debugger.core.analysis.baseline import NotComparable, baseline_snapshot, diff, pin
from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller


def make():
    # random weights: with the notebook's constant ones every logit is equal and the loss never moves
    ctl = Controller(Config(seed=0, dropout=0.0, init={n: {"scheme": "default"} for n in Config().init}))
    ctl.run_to_end()
    return ctl


def test_pin_keeps_the_state_and_trace_not_copies():
    ctl = make()
    base = pin(ctl)
    assert base.state is ctl.state and base.trace is ctl.snapshot().trace
    assert base.iteration == 0 and "iteration 0" in base.describe()


def test_an_edit_changes_downstream_exactly_and_upstream_not_at_all():
    ctl = make()
    base = pin(ctl)
    ctl.set_param("h2g.weight", (0, 0), 0.75)
    now = ctl.snapshot()
    for key in ("h", "logits", "loss", "grad/x2g.weight", "param/h2g.weight"):
        got = diff(now, base, key)
        assert isinstance(got, tuple), key
        n, b, d = got
        assert d.dtype == np.float64
        np.testing.assert_array_equal(d, now.get(key).astype(np.float64) - base.trace[key].astype(np.float64))
        np.testing.assert_array_equal(n + 0, now.get(key).astype(np.float64))
        assert np.any(d != 0), key
    # h at t=0 does not depend on h2g (h_{-1} = 0); later timesteps do
    _, _, dh = diff(now, base, "h")
    assert np.all(dh[:, 0] == 0) and np.any(dh[:, 1:] != 0)
    for key in ("embedded", "x_in", "param/x2g.weight", "param/wte.weight", "x", "y"):
        _, _, d = diff(now, base, key)
        assert np.all(d == 0), key


def test_differences_follow_the_cursor_and_missing_arrays_are_none():
    ctl = make()
    base = pin(ctl)
    ctl.set_param("lm_head.weight", (1, 0), 2.0)
    ctl.run_to("cell", t=2)
    now = ctl.snapshot()
    assert diff(now, base, "logits") is None  # not computed yet at this cursor
    assert baseline_snapshot(now, base).cursor == now.cursor


def test_a_change_of_t_or_shapes_is_not_comparable():
    ctl = make()
    base = pin(ctl)
    ctl.set_batch(2, 6)
    got = diff(ctl.snapshot(), base, "h")
    assert isinstance(got, NotComparable) and "T changed" in str(got)
    ctl.undo()
    ctl.set_sizes(4, 3)  # H: 2 -> 3, same steps, other shapes
    got = diff(ctl.snapshot(), base, "h")
    assert isinstance(got, NotComparable) and got.reason == "was 2×8×2, now 2×8×3"
    _, _, d = diff(ctl.snapshot(), base, "param/wte.weight")  # E unchanged: still comparable
    assert np.all(d == 0)


def test_undo_past_the_pin_keeps_the_baseline():
    ctl = make()
    ctl.set_param("x2g.weight", (0, 0), 1.5)
    base = pin(ctl)
    ctl.undo()
    _, _, d = diff(ctl.snapshot(), base, "param/x2g.weight")
    assert d[0, 0] == ctl.state.params["x2g.weight"][0, 0].item() - 1.5 and np.count_nonzero(d) == 1
    ctl.redo()
    _, _, d = diff(ctl.snapshot(), base, "param/x2g.weight")
    assert np.all(d == 0)
