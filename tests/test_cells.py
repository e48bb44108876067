"""Every cell against PyTorch's own modules and unrolled cells (float32), and the cell seam's contracts."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings, strategies as st

from gru_debugger.core.cells import CELLS, get_cell
from gru_debugger.core.config import PARAM_NAMES, Config
from gru_debugger.core.edits import fresh_state
from gru_debugger.core.engine import compute_trace, param_shapes
from gru_debugger.core.export import trace_arrays
from gru_debugger.core.phases import build_steps

RANDOM_INIT = {"wte.weight": {"scheme": "normal", "std": 1.0}, "x2g.weight": {"scheme": "default"},
               "x2g.bias": {"scheme": "uniform", "low": -0.5, "high": 0.5}, "h2g.weight": {"scheme": "orthogonal"},
               "h2g.bias": {"scheme": "default"}, "lm_head.weight": {"scheme": "xavier_uniform"}}
MODULES = {"gru": (torch.nn.GRU, torch.nn.GRUCell), "lstm": (torch.nn.LSTM, torch.nn.LSTMCell),
           "rnn": (torch.nn.RNN, torch.nn.RNNCell)}


def _swap(cell, H):
    """This project's block order <-> PyTorch's (the GRU's z | r | n is nn.GRU's r | z | n)."""
    if cell == "gru":
        return lambda w: torch.cat([w[H:2 * H], w[:H], w[2 * H:]])
    return lambda w: w


def _unrolled(cell, step, x_in, m_out, head, y, last_only):
    """Unroll a torch cell; return h_t and c_t (LSTM) with their gradients for the full loss or the last one."""
    B, T, _ = x_in.shape
    H = head.shape[1]
    h = torch.zeros(B, H)
    c = torch.zeros(B, H)
    hs, cs = [], []
    for t in range(T):
        if cell == "lstm":
            h, c = step(x_in[:, t], (h, c))
            c.retain_grad()
            cs.append(c)
        else:
            h = step(x_in[:, t], h)
        h.retain_grad()
        hs.append(h)
    logits = (torch.stack(hs, 1) * m_out) @ head.T
    if last_only:
        loss = F.cross_entropy(logits[:, -1], y[:, -1])
    else:
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    return hs, cs


def reference(cell, trace, params):
    p = {k: v.detach().clone() for k, v in params.items()}
    H, E = p["h2g.weight"].shape[1], p["x2g.weight"].shape[1]
    swap = _swap(cell, H)
    module_cls, step_cls = MODULES[cell]
    module, step = module_cls(E, H, batch_first=True), step_cls(E, H)
    with torch.no_grad():
        for mod, suffix in ((module, "_l0"), (step, "")):
            getattr(mod, "weight_ih" + suffix).copy_(swap(p["x2g.weight"]))
            getattr(mod, "bias_ih" + suffix).copy_(swap(p["x2g.bias"]))
            getattr(mod, "weight_hh" + suffix).copy_(swap(p["h2g.weight"]))
            getattr(mod, "bias_hh" + suffix).copy_(swap(p["h2g.bias"]))
    wte = p["wte.weight"].clone().requires_grad_(True)
    head = p["lm_head.weight"].clone().requires_grad_(True)
    x, y = torch.from_numpy(trace["x"].copy()), torch.from_numpy(trace["y"].copy())
    m_in, m_out = (torch.from_numpy(trace[k].copy()) for k in ("dropout_in_mask", "dropout_out_mask"))
    x_in = F.embedding(x, wte) * m_in
    out = module(x_in)
    hs = out[0]
    logits = (hs * m_out) @ head.T
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    ref = {"h": hs.detach(), "logits": logits.detach(), "loss": loss.detach()}
    for name, w in (("wte.weight", wte), ("lm_head.weight", head)):
        ref[f"grad/{name}"] = w.grad
    for ours, theirs in (("x2g.weight", "weight_ih_l0"), ("x2g.bias", "bias_ih_l0"),
                         ("h2g.weight", "weight_hh_l0"), ("h2g.bias", "bias_hh_l0")):
        ref[f"grad/{ours}"] = swap(getattr(module, theirs).grad)
    # gates, from the torch module's weights and its own hidden states (independent of the engine)
    x_det, h_prev = x_in.detach(), torch.cat([torch.zeros_like(hs[:, :1]), hs[:, :-1]], 1).detach()
    gx = x_det @ module.weight_ih_l0.detach().T + module.bias_ih_l0.detach()
    gh = h_prev @ module.weight_hh_l0.detach().T + module.bias_hh_l0.detach()
    if cell == "gru":
        r, z = torch.sigmoid(gx[..., :H] + gh[..., :H]), torch.sigmoid(gx[..., H:2 * H] + gh[..., H:2 * H])
        ref.update(z=z, r=r, n=torch.tanh(gx[..., 2 * H:] + r * gh[..., 2 * H:]))
    elif cell == "lstm":
        i, f, g, o = (gx + gh).chunk(4, -1)
        ref.update(i=torch.sigmoid(i), f=torch.sigmoid(f), g=torch.tanh(g), o=torch.sigmoid(o))
    hs_u, cs_u = _unrolled(cell, step, x_det, m_out, head.detach(), y, last_only=False)
    ref["grad/h"] = torch.stack([h.grad for h in hs_u], 1)
    if cell == "lstm":
        ref["c"] = torch.stack([c.detach() for c in cs_u], 1)
        ref["grad/c"] = torch.stack([c.grad for c in cs_u], 1)
    hs_l, _ = _unrolled(cell, step, x_det, m_out, head.detach(), y, last_only=True)
    ref["grad/h_last"] = torch.stack([h.grad if h.grad is not None else torch.zeros_like(h) for h in hs_l], 1)
    return ref


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
    from gru_debugger.core.config import ConfigError

    with pytest.raises(ConfigError, match="cell must be one of gru, lstm, rnn"):
        Config().with_changes(cell="transformer")
    path = tmp_path / "c.json"
    path.write_text('{"cell": "transformer"}')
    assert main(["export", "--config", str(path), "--out", str(tmp_path / "t.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "transformer" in err[0] and str(path) in err[0]


def test_switching_cells_live_is_one_undo_step_and_keeps_the_other_weights():
    from gru_debugger.core.controller import Controller

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
