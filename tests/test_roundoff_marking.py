"""Round-off marked wherever it shows (the weights after the update, the Equation pages, the
learning-rate preview), and float32 that cannot resolve an example says so."""
import re

import numpy as np
import pytest

from gru_debugger.core import precision
from gru_debugger.core.config import PARAM_NAMES, Config, load_config
from gru_debugger.core.controller import Controller
from gru_debugger.core.edits import fresh_state
from gru_debugger.core.engine import compute_trace
from gru_debugger.core.examples import list_examples
from gru_debugger.core.roundoff import change_roundoff_mask, roundoff_mask

EXAMPLES = {e.path.stem: e for e in list_examples()}
RANDOM = {name: {"scheme": "default"} for name in PARAM_NAMES}


def example_config(stem: str, **changes) -> Config:
    config = load_config(EXAMPLES[stem].path)
    return config.with_changes(seed=config.seed if config.seed is not None else 3, **changes)


# ------------------------------------------------------------------ core: the weights after the update
def test_weights_moved_only_by_round_off_are_marked():
    trace = compute_trace(fresh_state(Config(seed=0)))
    for name in ("x2g.bias", "h2g.bias"):
        after, before = trace[f"updated/{name}"], trace[f"param/{name}"]
        assert not before.any() and after.any()          # 0 − lr·(round-off): noise after the update
        mask = change_roundoff_mask(trace, name)
        np.testing.assert_array_equal(mask, after != before)
        assert mask.shape == after.shape and not mask.flags.writeable
    for name in ("x2g.weight", "h2g.weight", "wte.weight"):
        mask = change_roundoff_mask(trace, name)
        step = roundoff_mask(trace, f"update/{name}")
        moved = trace[f"updated/{name}"] != trace[f"param/{name}"]
        assert step is not None and step.any(), name
        # exactly the weights whose round-off step changed the float32 sum; absorbed steps are not marked
        np.testing.assert_array_equal(mask if mask is not None else np.zeros_like(moved), step & moved)
        if name != "wte.weight":   # 1.0 + 5e-8 rounds back to 1.0: wte's ones may not move at all
            assert mask is not None and mask.any() and not mask.all(), name
    assert change_roundoff_mask(trace, "lm_head.weight") is None   # the head's update is real
    with pytest.raises(KeyError):
        change_roundoff_mask(trace, "nope.weight")


def test_real_updates_are_not_marked():
    trace = compute_trace(fresh_state(Config(seed=0, init=RANDOM)))
    for name in PARAM_NAMES:
        assert change_roundoff_mask(trace, name) is None, name


def test_snapshot_marks_changes_only_once_the_update_ran():
    ctl = Controller(Config(seed=0))
    ctl.run_to("backward", 0)
    assert ctl.snapshot().change_roundoff_mask("x2g.bias") is None
    ctl.run_to("update")
    assert ctl.snapshot().change_roundoff_mask("x2g.bias").all()


# ------------------------------------------------------------------ core: float32 that cannot resolve
def test_exploding_example_is_not_resolved_by_float32():
    trace = compute_trace(fresh_state(example_config("rnn-exploding")))
    found = precision.unresolved(trace)
    assert found is not None
    assert found.key in precision.forward_keys("rnn") and found.t is not None
    T = trace["h"].shape[1]
    # chaotic: float32 drifts late in the sequence (t ≈ 25 here; the exact step depends on the CPU)
    assert T // 2 <= found.t < T
    assert found.index[1] == found.t
    # the numbers it quotes are the trace's own and the float64 recomputation's
    assert found.value32 == pytest.approx(float(trace[found.key][found.index]), abs=0)
    assert found.error > precision.RESOLVE_RTOL * found.scale
    # and nothing before that timestep is off by as much (it names the first)
    exact = compute_trace(fresh_state(example_config("rnn-exploding", dtype="float64")))
    for key in precision.forward_keys("rnn"):
        scale = np.abs(exact[key]).max()
        err = np.abs(trace[key][:, :found.t].astype(np.float64) - exact[key][:, :found.t])
        assert err.max() <= precision.RESOLVE_RTOL * scale, key
    assert "float64" in found.message and f"t={found.t}" in found.message and "dtype" in found.message


@pytest.mark.parametrize("stem", ["notebook", "random-init", "lstm", "rnn-vanishing"])
def test_stable_examples_are_resolved(stem):
    trace = compute_trace(fresh_state(example_config(stem)))
    assert precision.unresolved(trace) is None


def test_float64_runs_have_nothing_to_report_and_the_answer_is_kept():
    trace = compute_trace(fresh_state(example_config("rnn-exploding", dtype="float64")))
    assert precision.known(trace) == (False, None)
    assert precision.unresolved(trace) is None
    assert precision.known(trace) == (True, None)


def test_snapshot_and_worker_expose_it():
    ctl = Controller(example_config("rnn-exploding"))
    snap = ctl.snapshot()
    precision.start(snap.trace)
    found = snap.precision
    assert found is not None and precision.known(snap.trace) == (True, found)
    assert Controller(example_config("notebook")).snapshot().precision is None


def test_export_cli_notes_it(tmp_path, capsys):
    from gru_debugger.cli import main

    path = tmp_path / "exploding.json"
    path.write_text(EXAMPLES["rnn-exploding"].path.read_text())
    assert main(["export", "--config", str(path), "--out", str(tmp_path / "a.npz")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"^note: float32 cannot resolve this example: h\[.*float64", err, re.M), err
