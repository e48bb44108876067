"""The "dtype" setting: float64 runs the whole iteration in double precision,
matches torch.nn.GRU / nn.LSTM / nn.RNN to about 1e-12, and switching live casts."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from gru_debugger.core.base.config import PARAM_NAMES, Config, ConfigError
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.model.engine import compute_trace
from gru_debugger.core.storage.export import trace_arrays

from torch_reference import reference

RANDOM_INIT = {"wte.weight": {"scheme": "normal", "std": 1.0}, "x2g.weight": {"scheme": "default"},
               "x2g.bias": {"scheme": "uniform", "low": -0.5, "high": 0.5}, "h2g.weight": {"scheme": "orthogonal"},
               "h2g.bias": {"scheme": "default"}, "lm_head.weight": {"scheme": "xavier_uniform"}}


@pytest.mark.parametrize("bad", ["float16", "double", 64, None, "FLOAT64", ["float64"]])
def test_dtype_is_validated(bad, tmp_path):
    with pytest.raises(ConfigError, match="dtype must be"):
        Config().with_changes(dtype=bad)
    path = tmp_path / "c.json"
    path.write_text('{"dtype": %s}' % ('"%s"' % bad if isinstance(bad, str) else str(bad).replace("None", "null")
                                       .replace("'", '"')))
    with pytest.raises(ConfigError, match="dtype must be"):
        load_config(path)


@pytest.mark.parametrize("cell", ["gru", "lstm", "rnn"])
def test_float64_runs_everything_in_double_from_the_float32_weights(cell):
    f32 = fresh_state(Config(seed=4, cell=cell, init=RANDOM_INIT))
    f64 = fresh_state(Config(seed=4, cell=cell, init=RANDOM_INIT, dtype="float64"))
    for name in PARAM_NAMES:
        assert f64.params[name].dtype == torch.float64 and f32.params[name].dtype == torch.float32
        # the same numbers, made in float32 and cast (random draws included)
        np.testing.assert_array_equal(f64.params[name].numpy(), f32.params[name].numpy().astype(np.float64))
    t32, t64 = compute_trace(f32), compute_trace(f64)
    floats = [k for k, v in t64.arrays.items() if v.dtype.kind == "f"]
    assert {"h", "dropout_in_mask", "loss", "grad/h2g.weight", "update/wte.weight", "loss_after"} <= set(floats)
    assert all(t64[k].dtype == np.float64 for k in floats)
    assert all(t32[k].dtype == np.float32 for k in floats)
    np.testing.assert_array_equal(t64["dropout_in_mask"] != 0, t32["dropout_in_mask"] != 0)  # same masks
    np.testing.assert_allclose(t64["h"], t32["h"], rtol=1e-5, atol=1e-6)
    assert all(v.dtype in (np.float64, np.int64) or v.dtype.kind == "U"
               for k, v in trace_arrays(t64).items() if k not in ("x", "y", "tokens"))


def _torch_reference(cell, trace, params):
    """h, loss, parameter gradients and dL/dh_t from torch's own modules and cells, in double."""
    ref = reference(cell, trace, {k: v.detach().double() for k, v in params.items()})
    return ref["h"], ref["loss"], {n: ref[f"grad/{n}"] for n in PARAM_NAMES}, ref["grad/h"]


configs = st.fixed_dictionaries({
    "cell": st.sampled_from(["gru", "lstm", "rnn"]),
    "batch_size": st.integers(1, 3), "context_length": st.integers(1, 10), "n_embd": st.integers(1, 5),
    "hidden_size": st.integers(1, 4), "dropout": st.sampled_from([0.0, 0.1, 0.5]),
    "seed": st.integers(0, 2**31), "position": st.integers(0, 200), "num_merges": st.integers(0, 6),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs)
def test_float64_matches_torch_modules_to_1e12(cfg):
    state = fresh_state(Config(init=RANDOM_INIT, dtype="float64", **cfg))
    trace = compute_trace(state)
    hs, loss, grads, grad_h = _torch_reference(cfg["cell"], trace, state.params)
    np.testing.assert_allclose(trace["h"], hs.numpy(), rtol=1e-12, atol=1e-13)
    assert abs(float(trace["loss"]) - float(loss)) <= 1e-12 * abs(float(loss)) + 1e-13
    for name in PARAM_NAMES:
        np.testing.assert_allclose(trace[f"grad/{name}"], grads[name].numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(trace["grad/h"], grad_h.numpy(), rtol=1e-10, atol=1e-13)


def test_switching_dtype_live_casts_the_current_weights():
    ctl = Controller(Config(seed=0))
    ctl.set_param("h2g.weight", (0, 1), 0.1)          # 0.1 is not a float32 number exactly
    before = ctl.state.params["h2g.weight"].clone()
    ctl.configure("Precision float64", dtype="float64")
    after = ctl.state.params["h2g.weight"]
    assert after.dtype == torch.float64
    np.testing.assert_array_equal(after.numpy(), before.numpy().astype(np.float64))  # cast, not redrawn
    assert ctl.snapshot().trace["h"].dtype == np.float64
    ctl.undo()
    assert ctl.state.params["h2g.weight"].dtype == torch.float32
    with pytest.raises(ControllerError, match="dtype must be"):
        ctl.configure(dtype="float16")


def test_float64_next_iteration_and_edits_stay_double():
    ctl = Controller(Config(seed=0, dtype="float64", init=RANDOM_INIT))
    ctl.set_param("x2g.weight", (1, 1), 0.3)
    ctl.reinitialise(["lm_head.weight"])
    ctl.next_iteration()
    assert all(t.dtype == torch.float64 for t in ctl.state.params.values())
    assert ctl.snapshot().trace["grad/x2g.weight"].dtype == np.float64


def test_loss_after_both_ways_equal_without_dropout_and_exported():
    trace = compute_trace(fresh_state(Config(seed=2, dropout=0.0, init=RANDOM_INIT)))
    assert float(trace["loss_after"]) == float(trace["loss_after_same_masks"])
    with_dropout = compute_trace(fresh_state(Config(seed=2, dropout=0.5, init=RANDOM_INIT)))
    assert float(with_dropout["loss_after"]) != float(with_dropout["loss_after_same_masks"])
    exported = trace_arrays(with_dropout)
    assert {"loss_after", "loss_after_same_masks"} <= set(exported)
