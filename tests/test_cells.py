"""Every cell against PyTorch's own modules and unrolled cells (float32), and the cell seam's contracts."""
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

from gru_debugger.core.model.cells import CELLS, get_cell
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.model.engine import compute_trace, param_shapes
from gru_debugger.core.storage.export import trace_arrays
from gru_debugger.core.model.phases import build_steps

from torch_reference import reference

RANDOM_INIT = {"wte.weight": {"scheme": "normal", "std": 1.0}, "x2g.weight": {"scheme": "default"},
               "x2g.bias": {"scheme": "uniform", "low": -0.5, "high": 0.5}, "h2g.weight": {"scheme": "orthogonal"},
               "h2g.bias": {"scheme": "default"}, "lm_head.weight": {"scheme": "xavier_uniform"}}
configs = st.fixed_dictionaries({
    "cell": st.sampled_from(["gru", "lstm", "rnn"]),
    "batch_size": st.integers(1, 3), "context_length": st.integers(1, 10), "n_embd": st.integers(1, 5),
    "hidden_size": st.integers(1, 4), "dropout": st.sampled_from([0.0, 0.1, 0.5]),
    "seed": st.integers(0, 2**31), "position": st.integers(0, 200), "num_merges": st.integers(0, 6),
    "learning_rate": st.floats(0.01, 10),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs)
def test_every_cell_matches_torch_modules_and_unrolled_cells(cfg):
    config = Config(init=RANDOM_INIT, **cfg)
    state = fresh_state(config)
    trace = compute_trace(state)
    ref = reference(cfg["cell"], trace, state.params)
    tol = dict(rtol=1e-4, atol=2e-6)
    for key in ("h", "logits") + tuple(g for g in get_cell(cfg["cell"]).gates if g != "h") + ("grad/h", "grad/h_last"):
        np.testing.assert_allclose(trace[key], ref[key].numpy(), err_msg=key, **tol)
    if cfg["cell"] == "lstm":
        np.testing.assert_allclose(trace["grad/c"], ref["grad/c"].numpy(), **tol)
    assert float(trace["loss"]) == pytest.approx(float(ref["loss"]), rel=1e-5)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(trace[f"grad/{name}"], ref[f"grad/{name}"].numpy(), err_msg=name, **tol)
        np.testing.assert_allclose(trace[f"updated/{name}"],
                                   state.params[name].numpy() - config.learning_rate * ref[f"grad/{name}"].numpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("cell", list(CELLS))
def test_grad_h_last_is_the_last_positions_gradient_alone(cell):
    state = fresh_state(Config(seed=3, cell=cell, init=RANDOM_INIT, context_length=6))
    trace = compute_trace(state)
    last, total = trace["grad/h_last"], trace["grad/h"]
    assert last.shape == total.shape
    assert np.abs(last[:, -1]).max() > 0
    assert not np.allclose(last, total)          # the total has every position's own term
    # at the last timestep only the last position's own prediction reaches h: 1/T of the mean loss there
    T = trace["x"].shape[1]
    np.testing.assert_allclose(last[:, -1] / T, total[:, -1], rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("cell", list(CELLS))
def test_export_holds_the_cells_arrays(cell):
    trace = compute_trace(fresh_state(Config(seed=0, cell=cell)))
    arrays = trace_arrays(trace)
    c = get_cell(cell)
    H = 2
    assert arrays["gx"].shape == arrays["gh"].shape == (2, 8, c.n_blocks * H)
    for gate in c.gates:
        assert arrays[gate].shape == (2, 8, H)
        assert f"grad/{gate}" in arrays
    assert "grad/h" in arrays and "grad/h_last" in arrays
    assert ("grad/c" in arrays) == (cell == "lstm")
    assert str(arrays["cell"]) == cell
    assert list(arrays["gates"]) == list(c.gates)
    letters = {"gru": "z r n h", "lstm": "i f g o c h", "rnn": "h"}[cell]
    assert " ".join(c.gates) == letters


def test_parameter_shapes_follow_the_cell():
    for cell, blocks in (("gru", 3), ("lstm", 4), ("rnn", 1)):
        shapes = param_shapes(Config(cell=cell, n_embd=5, hidden_size=3), 36)
        assert shapes["x2g.weight"] == (3 * blocks, 5) and shapes["h2g.weight"] == (3 * blocks, 3)
        assert shapes["x2g.bias"] == shapes["h2g.bias"] == (3 * blocks,)
        assert shapes["wte.weight"] == (36, 5) and shapes["lm_head.weight"] == (36, 3)


def test_every_cell_declares_what_the_seam_needs():
    for name, cell in CELLS.items():
        assert cell.name == name and cell.title and cell.long_title and cell.equations
        assert cell.substeps[:2] == ("x2g", "h2g") and cell.substeps[-1] == "h"
        assert set(cell.substeps[2:]) == set(cell.gates)   # every gate is a Step Into stop
        assert "h" in cell.state and set(cell.state) <= set(cell.gates)
        steps = build_steps(4, name)
        assert len([s for s in steps if s.phase == "cell"]) == 4 * len(cell.substeps)
        assert {s.label.split(" ")[0] for s in steps if s.phase == "cell"} == {cell.title}


def test_unknown_cell_is_a_config_error(tmp_path, capsys):
    from gru_debugger.cli import main
    from gru_debugger.core.base.config import ConfigError

    with pytest.raises(ConfigError, match="cell must be one of gru, lstm, rnn"):
        Config().with_changes(cell="transformer")
    path = tmp_path / "c.json"
    path.write_text('{"cell": "transformer"}')
    assert main(["export", "--config", str(path), "--out", str(tmp_path / "t.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "transformer" in err[0] and str(path) in err[0]


def test_switching_cells_live_is_one_undo_step_and_keeps_the_other_weights():
    from gru_debugger.core.control.controller import Controller

    ctl = Controller(Config(seed=1, init=RANDOM_INIT))
    ctl.run_to("cell", 3)
    ctl.step_into()                              # inside timestep 4 of the GRU (sub-step x2g)
    before = ctl.state
    ctl.set_cell("lstm")
    assert ctl.config.cell == "lstm" and ctl.state.params["x2g.weight"].shape == (8, 4)
    for name in ("wte.weight", "lm_head.weight"):
        assert torch.equal(ctl.state.params[name], before.params[name])
    assert ctl.snapshot().step.phase == "cell" and ctl.snapshot().step.t == 4
    assert ctl.undo_texts[-1] == "Cell = LSTM"
    ctl.undo()
    assert ctl.state is before and ctl.config.cell == "gru"
