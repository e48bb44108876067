"""gradient_diagnosis: each structural reason is detected, and its sentence is
true of the numbers."""
import numpy as np
import pytest

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.analysis.diagnosis import BREAK_SYMMETRY_SPEC, gradient_diagnosis
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.model.engine import compute_trace
from gru_debugger.core.analysis.roundoff import is_roundoff

RANDOM = {name: {"scheme": "default"} for name in PARAM_NAMES}
ZERO = {"scheme": "zeros"}


def test_default_example_is_the_symmetric_head_and_the_fix_removes_it():
    ctl = Controller(Config(seed=0))
    diagnosis = gradient_diagnosis(ctl.snapshot().trace)
    assert diagnosis is not None and diagnosis.codes == ("lm_head_rows_equal",)
    assert diagnosis.text.startswith("every row of lm_head.weight is the same")
    assert "dL/dh_t is exactly zero" in diagnosis.text
    assert gradient_diagnosis(ctl.state).codes == diagnosis.codes       # from the state too
    # the claim: zero in exact arithmetic (float64 leaves only ~1e-17 of it), noise in float32
    t64 = compute_trace(fresh_state(Config(seed=0, dtype="float64")))
    assert np.abs(t64["grad/h"]).max() < 1e-14 < np.abs(t64["grad/logits"]).max()
    assert is_roundoff(ctl.snapshot().trace, "grad/h")
    name, spec = diagnosis.fix
    assert (name, dict(spec)) == ("lm_head.weight", dict(BREAK_SYMMETRY_SPEC))
    undo_depth = len(ctl.undo_texts)
    ctl.set_init(*diagnosis.fix)
    assert len(ctl.undo_texts) == undo_depth + 1                        # one undo step
    assert gradient_diagnosis(ctl.snapshot().trace) is None
    assert not is_roundoff(ctl.snapshot().trace, "grad/h2g.weight")
    assert np.abs(ctl.snapshot().trace["grad/h2g.weight"]).max() > 1e-4
    ctl.undo()
    assert gradient_diagnosis(ctl.snapshot().trace).codes == ("lm_head_rows_equal",)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_random_weights_have_no_diagnosis(cell):
    assert gradient_diagnosis(fresh_state(Config(seed=0, cell=cell, init=RANDOM))) is None


def test_zero_head_is_named_and_fixed_the_same_way():
    diagnosis = gradient_diagnosis(fresh_state(Config(seed=0, init={**RANDOM, "lm_head.weight": ZERO})))
    assert diagnosis.codes == ("lm_head_zero",) and diagnosis.fix[0] == "lm_head.weight"
    trace = compute_trace(fresh_state(Config(seed=0, dtype="float64", init={**RANDOM, "lm_head.weight": ZERO})))
    assert not trace["grad/h"].any() and not trace["grad/x2g.weight"].any()


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_zero_h2g_cuts_the_path_back_in_time_for_rnn_and_lstm(cell):
    state = fresh_state(Config(seed=0, cell=cell, init={**RANDOM, "h2g.weight": ZERO}))
    diagnosis = gradient_diagnosis(state)
    assert diagnosis.codes == ("h2g_zero",) and diagnosis.fix is None
    trace = compute_trace(state)
    assert not trace["grad/h_last"][:, :-1].any()        # nothing of the last loss before t = T-1
    assert trace["grad/h_last"][:, -1].any() and trace["grad/h2g.weight"].any()
    if cell == "lstm":                                   # ...but c still carries it: early inputs get gradient
        assert np.abs(trace["grad/gx"][:, 0]).max() > 0


def test_zero_h2g_does_not_stop_the_gru():
    state = fresh_state(Config(seed=0, cell="gru", init={**RANDOM, "h2g.weight": ZERO}))
    assert gradient_diagnosis(state) is None
    assert np.abs(compute_trace(state)["grad/h_last"][:, 0]).max() > 1e-6   # the z ⊙ h_{t-1} path


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_zero_x2g_stops_the_embedding_gradient(cell):
    state = fresh_state(Config(seed=0, cell=cell, init={**RANDOM, "x2g.weight": ZERO}))
    assert gradient_diagnosis(state).codes == ("x2g_zero",)
    trace = compute_trace(state)
    assert not trace["grad/wte.weight"].any() and trace["grad/x2g.weight"].any()


def test_zero_embeddings_stop_the_x2g_weight_gradient():
    state = fresh_state(Config(seed=0, init={**RANDOM, "wte.weight": ZERO}))
    assert gradient_diagnosis(state).codes == ("wte_zero",)
    trace = compute_trace(state)
    assert not trace["grad/x2g.weight"].any() and trace["grad/x2g.bias"].any()


def test_saturated_gates_are_named():
    init = {**RANDOM, "wte.weight": {"scheme": "ones"}, "x2g.weight": {"scheme": "constant", "value": 20.0}}
    diagnosis = gradient_diagnosis(fresh_state(Config(seed=0, dropout=0.0, init=init)))
    saturated = [r for r in diagnosis.reasons if r.code == "saturated_gate"]
    assert {r.gate for r in saturated} == {"z", "r", "n"}
    assert any(r.sentence.startswith("the update gate z is saturated: 100%") for r in saturated)
    rnn = gradient_diagnosis(fresh_state(Config(seed=0, cell="rnn", dropout=0.0, init=init)))
    assert [r.gate for r in rnn.reasons] == ["h"]
