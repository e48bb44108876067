"""The engine against the notebook's numbers and against torch.nn.GRU."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings, strategies as st

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.text.data import tokenize
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.model.engine import accumulated_grads, compute_trace


def test_first_loss_is_ln_vocab_with_notebook_init():
    trace = compute_trace(fresh_state(Config(seed=0)))
    assert float(trace["loss"]) == pytest.approx(math.log(36), abs=1e-5)
    assert round(float(trace["loss"]), 4) == 3.5835
    assert float(trace["loss_after"]) < float(trace["loss"])


def test_notebook_forward_shapes_and_first_hidden_state():
    trace = compute_trace(fresh_state(Config(seed=3, dropout=0.0)))
    assert trace["embedded"].shape == (2, 8, 4)
    assert trace["z"].shape == trace["h"].shape == (2, 8, 2)
    assert trace["logits"].shape == (2, 8, 36)
    # without dropout, t=0: zx = 0.5*4 = 2, z = sigmoid(2), n = tanh(2), h = (1-z) n
    z, n = 1 / (1 + math.exp(-2)), math.tanh(2)
    assert trace["h"][0, 0, 0] == pytest.approx((1 - z) * n, rel=1e-6)


def test_same_seed_same_numbers_and_no_seed_differs():
    a = compute_trace(fresh_state(Config(seed=7)))
    b = compute_trace(fresh_state(Config(seed=7)))
    for key in a.arrays:
        np.testing.assert_array_equal(a[key], b[key])
    masks = {compute_trace(fresh_state(Config(seed=None)))["dropout_in_mask"].tobytes() for _ in range(4)}
    assert len(masks) > 1


def test_dropout_mask_values():
    trace = compute_trace(fresh_state(Config(seed=1, dropout=0.25)))
    mask = trace["dropout_in_mask"]
    assert set(np.unique(mask).tolist()) <= {0.0, np.float32(1 / 0.75)}
    assert np.array_equal(compute_trace(fresh_state(Config(seed=1, train_mode=False)))["dropout_in_mask"],
                          np.ones((2, 8, 4), np.float32))


def _reference(trace, params):
    """The same iteration with torch.nn.GRU (r, z, n gate order) and nn.GRUCell."""
    H = params["h2g.weight"].shape[1]
    E = params["x2g.weight"].shape[1]
    order = lambda w: torch.cat([w[H:2 * H], w[:H], w[2 * H:]])  # z,r,n -> r,z,n
    unorder = lambda w: torch.cat([w[H:2 * H], w[:H], w[2 * H:]])  # r,z,n -> z,r,n (same swap)
    gru = torch.nn.GRU(E, H, batch_first=True)
    with torch.no_grad():
        gru.weight_ih_l0.copy_(order(params["x2g.weight"]))
        gru.bias_ih_l0.copy_(order(params["x2g.bias"]))
        gru.weight_hh_l0.copy_(order(params["h2g.weight"]))
        gru.bias_hh_l0.copy_(order(params["h2g.bias"]))
    wte = params["wte.weight"].clone().requires_grad_(True)
    head = params["lm_head.weight"].clone().requires_grad_(True)
    x, y = torch.from_numpy(trace["x"].copy()), torch.from_numpy(trace["y"].copy())
    x_in = F.embedding(x, wte) * torch.from_numpy(trace["dropout_in_mask"].copy())
    hs, _ = gru(x_in)
    logits = (hs * torch.from_numpy(trace["dropout_out_mask"].copy())) @ head.T
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    grads = {
        "wte.weight": wte.grad, "lm_head.weight": head.grad,
        "x2g.weight": unorder(gru.weight_ih_l0.grad), "x2g.bias": unorder(gru.bias_ih_l0.grad),
        "h2g.weight": unorder(gru.weight_hh_l0.grad), "h2g.bias": unorder(gru.bias_hh_l0.grad),
    }
    # dL/dh_t including the path through later timesteps: unroll a GRUCell.
    cell = torch.nn.GRUCell(E, H)
    cell.load_state_dict({k.replace("_l0", ""): v for k, v in gru.state_dict().items()})
    x_det = x_in.detach()
    h = torch.zeros(x.shape[0], H)
    h_list = []
    for t in range(x.shape[1]):
        h = cell(x_det[:, t], h)
        h.retain_grad()
        h_list.append(h)
    hs2 = torch.stack(h_list, 1)
    logits2 = (hs2 * torch.from_numpy(trace["dropout_out_mask"].copy())) @ head.detach().T
    F.cross_entropy(logits2.reshape(-1, logits2.shape[-1]), y.reshape(-1)).backward()
    grad_h = torch.stack([h.grad for h in h_list], 1)
    return hs.detach(), loss.detach(), grads, grad_h


configs = st.fixed_dictionaries({
    "batch_size": st.integers(1, 4), "context_length": st.integers(1, 12), "n_embd": st.integers(1, 6),
    "hidden_size": st.integers(1, 5), "dropout": st.sampled_from([0.0, 0.1, 0.5]),
    "seed": st.integers(0, 2**31), "position": st.integers(0, 300), "num_merges": st.integers(0, 8),
    "learning_rate": st.floats(0.01, 10),
})
RANDOM_INIT = {"wte.weight": {"scheme": "normal", "std": 1.0}, "x2g.weight": {"scheme": "default"},
               "x2g.bias": {"scheme": "uniform", "low": -0.5, "high": 0.5}, "h2g.weight": {"scheme": "orthogonal"},
               "h2g.bias": {"scheme": "default"}, "lm_head.weight": {"scheme": "xavier_uniform"}}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs)
def test_matches_torch_nn_gru(cfg):
    config = Config(init=RANDOM_INIT, **cfg)
    state = fresh_state(config)
    trace = compute_trace(state)
    hs, loss, grads, grad_h = _reference(trace, state.params)
    np.testing.assert_allclose(trace["h"], hs.numpy(), rtol=1e-5, atol=1e-6)
    assert float(trace["loss"]) == pytest.approx(float(loss), rel=1e-5)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(trace[f"grad/{name}"], grads[name].numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)
        np.testing.assert_allclose(trace[f"updated/{name}"],
                                   state.params[name].numpy() - config.learning_rate * grads[name].numpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(trace["grad/h"], grad_h.numpy(), rtol=1e-4, atol=1e-6)


def test_accumulated_grads_fill_in_to_the_full_gradient():
    trace = compute_trace(fresh_state(Config(seed=5, init=RANDOM_INIT)))
    T = trace["x"].shape[1]
    full = accumulated_grads(trace, 0)
    for name in PARAM_NAMES:
        np.testing.assert_allclose(full[name], trace[f"grad/{name}"], rtol=1e-4, atol=1e-7)
    late = accumulated_grads(trace, T - 1)
    assert not np.allclose(late["x2g.weight"], full["x2g.weight"])


def test_loss_after_uses_updated_weights():
    state = fresh_state(Config(seed=2, dropout=0.0, init=RANDOM_INIT))
    trace = compute_trace(state)
    updated = {n: torch.from_numpy(trace[f"updated/{n}"].copy()) for n in PARAM_NAMES}
    again = compute_trace(type(state)(state.config, updated, 0, state.position, state.base_seed))
    assert float(trace["loss_after"]) == pytest.approx(float(again["loss"]), rel=1e-6)
    assert tokenize(state.config).vocab_size == trace["logits"].shape[-1]


def test_accumulated_grads_are_the_same_whichever_timestep_they_start_from():
    trace = compute_trace(fresh_state(Config(seed=7, init=RANDOM_INIT, context_length=9)))
    T = trace["x"].shape[1]
    direct = {t: accumulated_grads(trace, t) for t in range(T)}
    walked = {}
    previous = None
    for t in range(T - 1, -1, -1):  # stepping down one timestep at a time
        walked[t] = accumulated_grads(trace, t, previous)
        previous = (t, walked[t])
    jumped = accumulated_grads(trace, 2, (6, direct[6]))
    for t in range(T):
        for name in PARAM_NAMES:
            assert np.array_equal(direct[t][name], walked[t][name]), (t, name)
    for name in PARAM_NAMES:
        assert np.array_equal(jumped[name], direct[2][name])
    assert np.array_equal(accumulated_grads(trace, 5, (3, direct[3]))["x2g.weight"], direct[5]["x2g.weight"])
