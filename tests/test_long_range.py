"""The long-range measures (grad/h_last, the LSTM's grad/c_last, grad/gx_last) against an independent
float64 implementation, in the export, the memory estimate and the fault search; the compare-cells
example's stated figures in float64; the Compare cells and Gradients panels' curves and labels."""
from types import MappingProxyType

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6 import QtCore
from hypothesis import HealthCheck, given, settings, strategies as st

from gru_debugger.core.model.cells import CELLS, get_cell
from gru_debugger.core.analysis.compare import compare_cells, state_for
from gru_debugger.core.base.config import Config
from gru_debugger.core.text.data import tokenize
from gru_debugger.core.model.edits import fresh_state, trace_array_bytes
from gru_debugger.core.model.engine import Trace, compute_trace
from gru_debugger.core.storage.examples import list_examples, load_example
from gru_debugger.core.storage.export import trace_arrays
from gru_debugger.core.analysis.faults import find_fault

RANDOM_INIT = {"wte.weight": {"scheme": "normal", "std": 1.0}, "x2g.weight": {"scheme": "default"},
               "x2g.bias": {"scheme": "uniform", "low": -0.5, "high": 0.5}, "h2g.weight": {"scheme": "orthogonal"},
               "h2g.bias": {"scheme": "default"}, "lm_head.weight": {"scheme": "xavier_uniform"}}
TORCH_CELLS = {"gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell, "rnn": torch.nn.RNNCell}


def last_loss_reference(cell: str, trace, params) -> dict[str, np.ndarray]:
    """dL_last/dh_t, dL_last/dc_t (LSTM) and dL_last/dgx_t from PyTorch's nn.*Cell, unrolled per step.

    The cell's input is gx_t itself (weight_ih = identity, bias_ih = 0), a leaf per timestep, so its
    gradient is dL_last/dgx_t; nothing of the engine is used but the recorded batch and masks."""
    p = {k: v.detach().double() for k, v in params.items()}
    nH, H = p["h2g.weight"].shape
    rows = lambda w: torch.cat([w[H:2 * H], w[:H], w[2 * H:]]) if cell == "gru" else w  # noqa: E731
    cols = lambda g: torch.cat([g[..., H:2 * H], g[..., :H], g[..., 2 * H:]], -1) if cell == "gru" else g  # noqa
    step = TORCH_CELLS[cell](nH, H).double()
    with torch.no_grad():
        step.weight_ih.copy_(torch.eye(nH, dtype=torch.float64))
        step.bias_ih.zero_()
        step.weight_hh.copy_(rows(p["h2g.weight"]))
        step.bias_hh.copy_(rows(p["h2g.bias"]))
    x, y = torch.from_numpy(trace["x"].copy()), torch.from_numpy(trace["y"].copy())
    m_in = torch.from_numpy(trace["dropout_in_mask"].copy()).double()
    m_out = torch.from_numpy(trace["dropout_out_mask"].copy()).double()
    x_in = F.embedding(x, p["wte.weight"]) * m_in
    B, T = x.shape
    gxs = [(x_in[:, t] @ rows(p["x2g.weight"]).T + rows(p["x2g.bias"])).requires_grad_(True) for t in range(T)]
    h = torch.zeros(B, H, dtype=torch.float64)
    c = torch.zeros(B, H, dtype=torch.float64)
    hs, cs = [], []
    for t in range(T):
        if cell == "lstm":
            h, c = step(gxs[t], (h, c))
            cs.append(c)
        else:
            h = step(gxs[t], h)
        hs.append(h)
    loss = F.cross_entropy((hs[-1] * m_out[:, -1]) @ p["lm_head.weight"].T, y[:, -1])
    targets = hs + cs + gxs
    grads = torch.autograd.grad(loss, targets, allow_unused=True)
    grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, targets)]
    out = {"grad/h_last": torch.stack(grads[:T], 1)}
    if cell == "lstm":
        out["grad/c_last"] = torch.stack(grads[T:2 * T], 1)
    out["grad/gx_last"] = cols(torch.stack(grads[-T:], 1))
    return {k: v.numpy() for k, v in out.items()}


configs = st.fixed_dictionaries({
    "cell": st.sampled_from(list(CELLS)),
    "batch_size": st.integers(1, 3), "context_length": st.integers(1, 10), "n_embd": st.integers(1, 5),
    "hidden_size": st.integers(1, 4), "dropout": st.sampled_from([0.0, 0.1, 0.5]),
    "seed": st.integers(0, 2**31), "position": st.integers(0, 200), "num_merges": st.integers(0, 6),
})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs)
def test_last_position_gradients_match_autograd_of_torch_cells_in_float64(cfg):
    state = fresh_state(Config(init=RANDOM_INIT, dtype="float64", **cfg))
    trace = compute_trace(state)
    ref = last_loss_reference(cfg["cell"], trace, state.params)
    assert set(ref) == set(get_cell(cfg["cell"]).last_keys)
    for key, expected in ref.items():
        assert trace[key].dtype == np.float64 and trace[key].shape == expected.shape, key
        np.testing.assert_allclose(trace[key], expected, rtol=1e-9, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("cell", list(CELLS))
def test_every_cell_gets_a_long_range_gradient_at_every_timestep(cell):
    """A fixed case per cell (hypothesis may not draw every cell with T > 1): the reference agrees at
    every t, the gradients are non-zero back to t = 0, and gx_last at T-1 is the last loss's own."""
    state = fresh_state(Config(seed=5, cell=cell, init=RANDOM_INIT, dtype="float64", context_length=7,
                               batch_size=3, hidden_size=3))
    trace = compute_trace(state)
    ref = last_loss_reference(cell, trace, state.params)
    for key in get_cell(cell).last_keys:
        np.testing.assert_allclose(trace[key], ref[key], rtol=1e-9, atol=1e-13, err_msg=key)
        assert (np.abs(trace[key]).sum(axis=(0, 2)) > 0).all(), key
    # at t = T-1 only the last position's loss reaches gx: T times its share of the mean loss's gradient
    np.testing.assert_allclose(trace["grad/gx_last"][:, -1] / 7, trace["grad/gx"][:, -1], rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("cell", list(CELLS))
def test_long_range_keys_are_exported_counted_and_searched_for_faults(cell, tmp_path):
    cfg = Config(seed=0, cell=cell, init=RANDOM_INIT)
    trace = compute_trace(fresh_state(cfg))
    keys = get_cell(cell).last_keys
    assert keys[0] == "grad/h_last" and keys[-1] == "grad/gx_last"
    assert ("grad/c_last" in keys) == (cell == "lstm")
    arrays = trace_arrays(trace)
    for key in keys:
        assert key in arrays
    n, H = get_cell(cell).n_blocks, cfg.hidden_size
    assert arrays["grad/gx_last"].shape == (cfg.batch_size, cfg.context_length, n * H)
    corpus = tokenize(cfg)
    assert trace_array_bytes(cfg, corpus.vocab_size, len(corpus.tokens)) == \
        sum(a.nbytes for a in trace.arrays.values())
    # a NaN in one of them alone is found and named
    for key in keys:
        bad = dict(trace.arrays)
        bad[key] = np.array(trace[key])
        bad[key][0, 0, 0] = np.nan
        fault = find_fault(Trace(MappingProxyType(bad), trace.corpus, trace.state), cell)
        assert fault is not None and fault.key == key and fault.phase == "backward", key


# --- the compare-cells example: every figure its description states, in float64

def _compare_example():
    example = next(e for e in list_examples() if e.path.name == "compare-cells.json")
    return example, load_example(example)


def _fall(trace, key):
    norms = np.sqrt((trace[key].astype(np.float64) ** 2).sum(axis=(0, 2)))
    return float(np.log10(norms[-1] / norms[0]))


def test_compare_cells_example_states_only_what_float64_shows():
    example, config = _compare_example()
    text = example.description
    state = fresh_state(config.with_changes(dtype="float64"))
    traces = {cell: compute_trace(state_for(state, cell)) for cell in CELLS}
    assert config.cell == "lstm" and "as an LSTM" in text
    T = config.context_length
    assert f"over {T - 1} timesteps" in text
    stated = {  # the description's words -> the float64 figure, rounded as stated
        "about 1.3 orders of magnitude along the GRU's h": round(_fall(traces["gru"], "grad/h_last"), 1) == 1.3,
        "1.5 along the LSTM's cell state c": round(_fall(traces["lstm"], "grad/c_last"), 1) == 1.5,
        "3.1 along its h": round(_fall(traces["lstm"], "grad/h_last"), 1) == 3.1,
        "6.5 through the plain RNN": round(_fall(traces["rnn"], "grad/h_last"), 1) == 6.5,
        "update gate z, averaging 0.87": round(float(traces["gru"]["z"].mean()), 2) == 0.87,
        "forget gate f, averaging 0.86": round(float(traces["lstm"]["f"].mean()), 2) == 0.86,
    }
    for words, holds in stated.items():
        assert words in text, words
        assert holds, words
    # the lesson: the gated cells keep their memory's gradient, the LSTM along c; the plain RNN has no gate
    falls = {"gru": _fall(traces["gru"], "grad/h_last"), "lstm c": _fall(traces["lstm"], "grad/c_last"),
             "rnn": _fall(traces["rnn"], "grad/h_last")}
    assert falls["gru"] < 2 and falls["lstm c"] < 2 and falls["rnn"] > 6
    assert _fall(traces["lstm"], "grad/c_last") < _fall(traces["lstm"], "grad/h_last")
    # c is not saturated (the old example's +2 on every block drove |c| to 8.7, 1 - tanh² to 5e-4)
    assert np.abs(traces["lstm"]["c"]).max() < 2.0
    # +2 on the keep gate's rows only, none for the plain RNN
    H = config.hidden_size
    bias = {cell: traces[cell]["param/x2g.bias"] for cell in CELLS}
    np.testing.assert_array_equal(bias["lstm"], np.r_[np.zeros(H), np.full(H, 2.0), np.zeros(2 * H)])
    np.testing.assert_array_equal(bias["gru"], np.r_[np.full(H, 2.0), np.zeros(2 * H)])
    np.testing.assert_array_equal(bias["rnn"], np.zeros(H))


def test_compare_cells_example_as_shipped_shows_the_same_in_float32():
    """The shipped float32 run: the same falls to well within the stated rounding (this forward pass is
    not chaotic; float32 and float64 differ by far less than 0.05 orders of magnitude)."""
    _, config = _compare_example()
    results = compare_cells(fresh_state(config))
    shadow = compare_cells(fresh_state(config.with_changes(dtype="float64")))
    for cell, result in results.items():
        for state, curve in result.long_range.items():
            exact = shadow[cell].long_range[state]
            assert not curve.roundoff.any() and curve.signal.all()
            np.testing.assert_allclose(np.log10(curve.norms), np.log10(exact.norms), atol=0.05)


def test_forget_bias_sets_the_keep_gates_rows_and_only_biases_take_it():
    from gru_debugger.core.base.errors import ConfigError
    spec = {"scheme": "forget_bias", "value": 1.5}
    for cell, rows in (("lstm", slice(3, 6)), ("gru", slice(0, 3)), ("rnn", None)):
        state = fresh_state(Config(seed=1, cell=cell, hidden_size=3, init={"h2g.bias": spec}))
        bias = state.params["h2g.bias"].numpy()
        expected = np.zeros_like(bias)
        if rows is not None:
            expected[rows] = 1.5
        np.testing.assert_array_equal(bias, expected)
    for name in ("wte.weight", "x2g.weight", "h2g.weight", "lm_head.weight"):
        with pytest.raises(ConfigError, match="only x2g.bias and h2g.bias"):
            fresh_state(Config(seed=1, init={name: spec}))


# --- round-off per timestep (core/analysis/compare)

def test_a_timestep_whose_nonzero_values_are_all_round_off_is_marked(monkeypatch):
    import gru_debugger.core.analysis.compare as compare
    trace = compute_trace(fresh_state(Config(seed=2, init=RANDOM_INIT, context_length=5)))
    arr = trace["grad/h_last"]
    fake = np.zeros(arr.shape, dtype=bool)
    fake[:, :2] = arr[:, :2] != 0          # t = 0, 1: every non-zero element is "round-off"
    fake[0, 2, 0] = arr[0, 2, 0] != 0       # t = 2: one element of several: still signal
    monkeypatch.setattr(compare, "roundoff_mask", lambda tr, key: fake if key == "grad/h_last" else None)
    curve = compare.curve_of(trace, "grad/h_last")
    assert curve.roundoff.tolist() == [True, True, False, False, False]
    assert curve.signal.tolist() == [False, False, True, True, True]
    np.testing.assert_allclose(curve.norms, np.sqrt((arr.astype(np.float64) ** 2).sum(axis=(0, 2))))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_default_example_every_long_range_curve_is_round_off(dtype):
    """The notebook's equal head rows: every gradient behind the head is 0 exactly, in every cell."""
    results = compare_cells(fresh_state(Config(seed=0, dtype=dtype)))
    for result in results.values():
        for curve in (*result.long_range.values(), result.total):
            assert curve.roundoff.all() and not curve.signal.any(), (result.cell, curve.key)
    assert set(results["lstm"].long_range) == {"h", "c"} and set(results["gru"].long_range) == {"h"}


# --- the panels, offscreen

def _window(qtbot, config):
    from gru_debugger.core.control.controller import Controller
    from gru_debugger.ui.main_window import MainWindow
    win = MainWindow(Controller(config), settings=None)
    qtbot.addWidget(win)
    win.show()
    return win


def _panel(win, key):
    from PySide6 import QtWidgets
    win.show_panel(key)
    QtWidgets.QApplication.processEvents()
    win.controller.snapshot().trace.wait()
    panel = win.panels[key]
    panel.refresh()
    return panel


def _legend(plot) -> list[str]:
    return [label.text for _, label in plot.legend.items]


def test_compare_panel_draws_no_round_off_and_says_so(qtbot):
    win = _window(qtbot, Config(seed=0))
    win.controller.run_to_end()
    panel = _panel(win, "compare")
    for name in ("compare_last", "compare_total"):
        plot = panel.heatmaps[name]
        assert plot.shown.ys == {} and "round-off" in plot.shown.note
        assert _legend(plot) == [] and not plot.legend.isVisible()
    assert panel.notice.isVisible()
    text = panel.notice_text.text()
    assert "round-off" in text and "0 in exact arithmetic" in text and "no vanishing gradient" in text
    assert "vanishing gradient" not in panel.caption.text()


def test_compare_panel_shows_nothing_from_after_the_update_before_it_ran(qtbot):
    _, config = _compare_example()
    win = _window(qtbot, config)
    ctl = win.controller
    ctl.run_to("cell", 3)
    panel = _panel(win, "compare")
    assert "not computed yet" in panel.caption.text() and "→" not in panel.caption.text()
    assert all(panel.heatmaps[n].shown.ys == {} for n in ("compare_last", "compare_total"))
    ctl.run_to("backward", 10)
    panel = _panel(win, "compare")
    caption = panel.caption.text()
    assert "before the update" in caption and "→" not in caption and "once the update has run" in caption
    results = ctl.snapshot().compare_cells()
    for result in results.values():
        assert f"{result.loss:.4f}" in caption and f"{result.loss_after:.4f}" not in caption
    curve = panel.heatmaps["compare_last"].shown
    for values in curve.ys.values():       # back-propagation has reached t = 10 … T-1 only
        assert np.isnan(values[:10]).all() and np.isfinite(values[10:]).all()
    ctl.run_to("update")
    assert "→" not in _panel(win, "compare").caption.text()   # the loss after needs the second pass
    ctl.run_to_end()
    caption = _panel(win, "compare").caption.text()
    assert "before → after the update" in caption
    for result in results.values():
        assert f"{result.loss:.4f} → {result.loss_after:.4f}" in caption


def test_compare_panel_legend_names_each_cells_memory(qtbot):
    _, config = _compare_example()
    win = _window(qtbot, config)
    win.controller.run_to_end()
    panel = _panel(win, "compare")
    last, total = panel.heatmaps["compare_last"], panel.heatmaps["compare_total"]
    names = ["GRU: h", "LSTM (chosen): h", "LSTM (chosen): c", "RNN: h"]
    assert list(last.shown.ys) == names and _legend(last) == names
    assert not panel.notice.isVisible()
    dashed = {name for name, (_, is_dashed) in last.shown.pens.items() if is_dashed}
    assert dashed == {"LSTM (chosen): c"}
    colours = {name.split(":")[0]: colour for name, (colour, _) in last.shown.pens.items()}
    assert len(set(colours.values())) == 3
    assert {n: c for n, (c, _) in total.shown.pens.items()} == colours   # one colour per cell in both plots
    assert "dc_t" in last.shown.title and "T · dL/dh_t" in total.shown.title
    # the plotted values are the float64-checked measure (log10 of the norms)
    results = win.controller.snapshot().compare_cells()
    np.testing.assert_allclose(last.shown.ys["LSTM (chosen): c"], np.log10(results["lstm"].long_range["c"].norms))
    T = config.context_length
    np.testing.assert_allclose(total.shown.ys["GRU"], np.log10(T * results["gru"].total.norms))
    # another chosen cell: the legend follows, with no name left over from before
    win.controller.set_cell("gru")
    if win.controller.can_step():
        win.controller.run_to_end()
    panel = _panel(win, "compare")
    assert _legend(panel.heatmaps["compare_last"]) == ["GRU (chosen): h", "LSTM: h", "LSTM: c", "RNN: h"]


def test_gradients_panel_puts_both_curves_on_one_scale(qtbot):
    _, config = _compare_example()
    win = _window(qtbot, config)
    win.controller.run_to_end()
    panel = _panel(win, "gradients")
    plot = panel.heatmaps["grad_norm"]
    shown = plot.shown
    total, last = shown.ys["T · dL/dh_t (all)"], shown.ys["dL_last/dh_t (last)"]
    assert _legend(plot) == list(shown.ys)
    trace = win.controller.snapshot().trace
    T = config.context_length
    norms = lambda a: np.sqrt((a.astype(np.float64) ** 2).sum(axis=(0, 2)))  # noqa: E731
    np.testing.assert_allclose(total, np.log10(T * norms(trace["grad/h"])), rtol=1e-12)
    np.testing.assert_allclose(last, np.log10(norms(trace["grad/h_last"])), rtol=1e-12)
    # at t = T-1 only the last position's own term reaches h: the two curves meet (float32 rounding apart)
    assert abs(total[-1] - last[-1]) < 1e-5
    assert "T · dL/dh_t" in shown.title and "dL_last/dh_t" in shown.title
    assert "T · dL/dh_t" in panel.intro.text() and "meet at t = T−1" in panel.intro.text()


def test_a_curve_that_goes_leaves_the_legend_and_pens_follow_the_data(plot_canvas):
    from gru_debugger.ui.panels.tensor_panel import Spec
    from gru_debugger.ui.widgets.curve import CurveData, CurvePlot
    canvas = plot_canvas(500, 300)
    plot = CurvePlot(canvas.ci, Spec("c", "curve", 0, 0, lambda s, v: None))
    x = np.arange(4, dtype=float)
    plot.set_data(CurveData("t", x=x, ys={"A": x, "B": x + 1}, pens={"B": ("#d0342c", True)}))
    assert _legend(plot) == ["A", "B"]
    assert plot.curves["B"].opts["pen"].style() == QtCore.Qt.PenStyle.DashLine
    plot.set_data(CurveData("t", x=x, ys={"A": x, "C": x + 2}))
    assert _legend(plot) == ["A", "C"] and set(plot.curves) == {"A", "C"}
    assert plot.curves["C"].opts["pen"].style() == QtCore.Qt.PenStyle.SolidLine
    plot.set_data(CurveData("t", note="nothing"))
    assert _legend(plot) == [] and not plot.legend.isVisible()


def test_compare_panel_says_which_timesteps_are_exactly_zero(qtbot):
    """With h2g.weight zero nothing of the last loss reaches h before T-1 in the RNN and the LSTM, but the
    LSTM's c still carries it: the legend says what is left out, the c curve is drawn whole."""
    zero = {"scheme": "zeros"}
    config = Config(seed=0, dtype="float64", init={**RANDOM_INIT, "h2g.weight": zero})
    win = _window(qtbot, config)
    win.controller.run_to_end()
    shown = _panel(win, "compare").heatmaps["compare_last"].shown
    T = config.context_length
    left_out = f" (exactly 0 at {T - 1} of {T} steps: not drawn)"
    assert set(shown.ys) == {"GRU (chosen): h", "LSTM: h" + left_out, "LSTM: c", "RNN: h" + left_out}
    assert np.isfinite(shown.ys["LSTM: c"]).all() and np.isfinite(shown.ys["GRU (chosen): h"]).all()
    assert np.isfinite(shown.ys["RNN: h" + left_out]).sum() == 1


def test_compare_panel_names_curves_that_are_exactly_zero(qtbot):
    config = Config(seed=0, dtype="float64", init={**RANDOM_INIT, "lm_head.weight": {"scheme": "zeros"}})
    win = _window(qtbot, config)
    win.controller.run_to_end()
    panel = _panel(win, "compare")
    assert panel.heatmaps["compare_last"].shown.ys == {}
    text = panel.notice_text.text()
    assert panel.notice.isVisible() and text.startswith("Every curve is exactly 0") and "round-off" not in text


def test_compare_notice_lists_each_hidden_curve_with_its_reason():
    from types import SimpleNamespace

    from gru_debugger.core.analysis.compare import CellResult, Curve
    from gru_debugger.ui.panels import compare as panel

    T = 3
    real = Curve("grad/h_last", np.ones(T), np.zeros(T, bool))
    noise = Curve("grad/c_last", np.full(T, 1e-9), np.ones(T, bool))
    zero = Curve("grad/h_last", np.zeros(T), np.zeros(T, bool))
    results = {"gru": CellResult("gru", 1.0, 0.9, {"h": real}, real),
               "lstm": CellResult("lstm", 1.0, 0.9, {"h": real, "c": noise}, real),
               "rnn": CellResult("rnn", 1.0, 0.9, {"h": zero}, real)}
    snap = SimpleNamespace(phase_done=lambda phase: True, compare_cells=lambda: results,
                           config=SimpleNamespace(cell="gru", dtype="float32", context_length=T))
    text, fix = panel.notice(snap)
    assert fix is None
    assert text == ("Not drawn: LSTM: c (left): only round-off (0 in exact arithmetic, non-zero in float32 only "
                    "through rounding); RNN: h (left): exactly 0.")
    snap.phase_done = lambda phase: phase != "zero_grad"
    assert panel.notice(snap) is None        # before Zero grad: nothing about gradients yet


def test_a_panel_of_curves_only_offers_no_hover_hint(qtbot):
    win = _window(qtbot, Config(seed=0))
    win.controller.run_to_end()
    assert not _panel(win, "compare").info.isVisible()
    assert _panel(win, "gradients").info.isVisible()      # heatmaps there: hovering a cell tells its value


def test_the_legend_follows_the_canvas_background(plot_canvas):
    import pyqtgraph as pg

    from gru_debugger.ui.panels.tensor_panel import Spec
    from gru_debugger.ui.widgets.curve import CurveData, CurvePlot
    canvas = plot_canvas(300, 200)
    plot = CurvePlot(canvas.ci, Spec("c", "curve", 0, 0, lambda s, v: None))
    before = pg.getConfigOption("background")
    x = np.arange(3, dtype=float)
    try:
        pg.setConfigOptions(background="#fafafa")
        plot.set_data(CurveData("t", x=x, ys={"A": x}))
        colour = plot.legend.brush().color()
        assert (colour.red(), colour.green(), colour.blue()) == (250, 250, 250) and 0 < colour.alpha() < 255
    finally:
        pg.setConfigOptions(background=before)
