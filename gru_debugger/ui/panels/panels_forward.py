"""Specs of the forward-pass panels: input, GRU cell, over time, output."""
from __future__ import annotations

import numpy as np

from ...core.snapshot import Snapshot
from ..widgets import theme
from ..widgets.heatmap import HeatmapData
from .spec_helpers import (at_t_view, batch_time_view, gate_rows, gru_t, h_prev_view, input_tokens, missing,
                           param_view, row_of, target_tokens, time_view, tok, units)
from .tensor_panel import Spec
from ..widgets.view_state import ViewState

S, U, TH, P = theme.SIGNED, theme.UNIT, theme.TANH, theme.POSITIVE


def _embedded(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return time_view(snap, vs, "embedded", "embedded = wte[x]", "", "after embed", row_prefix="e")


def _mask_in(snap: Snapshot, vs: ViewState) -> HeatmapData:
    p = snap.config.dropout
    data = time_view(snap, vs, "dropout_in_mask", f"dropout mask (0 or 1/(1-p), p={p:g})", "", "after dropout",
                     row_prefix="e")
    data.levels = (0.0, 1.0 / (1.0 - p)) if data.data is not None else None
    return data


def _x_in(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return time_view(snap, vs, "x_in", "x = embedded ⊙ mask (GRU input)", "", "after dropout", row_prefix="e")


def _wte(snap: Snapshot, vs: ViewState) -> HeatmapData:
    data = param_view(snap, "wte.weight")
    if snap.phase_done("batch"):
        data.marks = [(int(i), 0) for i in np.unique(snap.trace["x"][row_of(snap, vs)])]
        data.title += "  (outlined: tokens of row b)"
    return data


INPUT_SPECS = [
    Spec("embedded", S, 0, 0, _embedded),
    Spec("dropout_in_mask", P, 0, 1, _mask_in),
    Spec("x_in", S, 0, 2, _x_in),
    Spec("wte.weight", S, 1, 0, _wte, editable_param="wte.weight", colspan=3),
]


def _gate(key: str, title: str, sub: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return at_t_view(snap, key, title, sub, gru_t(snap))
    build.__name__ = f"gate_{key}"
    return build


def _h_prev(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return h_prev_view(snap, gru_t(snap))


def _x2g(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return param_view(snap, "x2g.weight", title="x2g.weight  (rows z | r | n)")


def _h2g(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return param_view(snap, "h2g.weight", title="h2g.weight  (rows z | r | n)")


def gru_caption(snap: Snapshot, vs: ViewState) -> str:
    """The timestep the GRU-cell panel shows (heatmap titles stay fixed)."""
    t = gru_t(snap)
    if t is None:
        return "Timestep: the GRU has not run yet"
    step = snap.step
    sub = f", sub-step {step.sub}" if step is not None and step.phase == "cell" and step.sub != "h" else ""
    return f"Timestep t = {t} (of 0…{snap.config.context_length - 1}){sub}  ·  outlined: what this step writes"


GRU_SPECS = [
    Spec("zx", S, 0, 0, _gate("zx", "zx = x2g(x)[z]", "x2g")),
    Spec("zh", S, 0, 1, _gate("zh", "zh = h2g(h)[z]", "h2g")),
    Spec("z", U, 0, 2, _gate("z", "z = σ(zx + zh)", "z")),
    Spec("rx", S, 1, 0, _gate("rx", "rx = x2g(x)[r]", "x2g")),
    Spec("rh", S, 1, 1, _gate("rh", "rh = h2g(h)[r]", "h2g")),
    Spec("r", U, 1, 2, _gate("r", "r = σ(rx + rh)", "r")),
    Spec("nx", S, 2, 0, _gate("nx", "nx = x2g(x)[n]", "x2g")),
    Spec("nh", S, 2, 1, _gate("nh", "nh = h2g(h)[n]", "h2g")),
    Spec("n", TH, 2, 2, _gate("n", "n = tanh(nx + r⊙nh)", "n")),
    Spec("h_prev", TH, 3, 0, _h_prev),
    Spec("h", TH, 3, 2, _gate("h", "h = (1−z)⊙n + z⊙h(t-1)", "h")),
    Spec("x2g.weight", S, 0, 3, _x2g, editable_param="x2g.weight", rowspan=2),
    Spec("h2g.weight", S, 2, 3, _h2g, editable_param="h2g.weight", rowspan=2),
]


def _over_time(key: str, title: str, note: str = "runs in the GRU phase"):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return time_view(snap, vs, key, title, "cell", note)
    build.__name__ = f"time_{key}"
    return build


TIME_SPECS = [
    Spec("time_h", TH, 0, 0, _over_time("h", "hidden state h over time")),
    Spec("time_z", U, 0, 1, _over_time("z", "update gate z over time")),
    Spec("time_r", U, 1, 0, _over_time("r", "reset gate r over time")),
    Spec("time_n", TH, 1, 1, _over_time("n", "candidate n over time")),
]


def second_pass(snap: Snapshot) -> bool:
    """At forward_after the output panel shows the pass through the updated weights."""
    return snap.phase_done("forward_after")


def _h_out(snap: Snapshot, vs: ViewState) -> HeatmapData:
    if second_pass(snap):
        return time_view(snap, vs, "after/h", "h (2nd pass, updated weights)", "", "")
    if not snap.phase_done("stack"):
        return missing("stacked h ⊙ dropout mask", "after stack and dropout")
    key = "h_out" if snap.phase_done("dropout_out") else "h"
    title = "h ⊙ dropout mask (head input)" if key == "h_out" else "stacked h  (dropout next)"
    return time_view(snap, vs, key, title, "", "")


def _vocab_view(key: str, title: str, kind_note: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        shown_key, shown_title = (f"after/{key}", f"{title} (2nd pass)") if second_pass(snap) else (key, title)
        arr = snap.get(shown_key)
        if arr is None:
            return missing(title, kind_note)
        b = row_of(snap, vs)
        data = arr[b].T                                             # (V, T)
        vocab = [tok(v) for v in snap.vocab]
        ys = snap.trace["y"][b]
        cols = input_tokens(snap, b)
        targets = target_tokens(snap, b)
        return HeatmapData(
            data, shown_title, row_labels=vocab, col_labels=cols,
            row_title="next token", col_title="t (input token)", marks=[(int(y), t) for t, y in enumerate(ys)],
            describe=lambda r, c: f"{shown_key}[b={b}, t={c}, v={r}]  next '{vocab[r]}' after '{cols[c]}'"
                                  f"{' (target)' if r == ys[c] else f'; target is {targets[c]!r}'}",
        )
    build.__name__ = f"vocab_{key.replace('/', '_')}"
    return build


def _loss_pos(snap: Snapshot, vs: ViewState) -> HeatmapData:
    if second_pass(snap):
        data = batch_time_view(snap, "after/loss_per_position", "loss (2nd pass)", "")
        data.title += f": mean {float(snap.trace['loss_after']):.4f} (was {float(snap.trace['loss']):.4f})"
        return data
    data = batch_time_view(snap, "loss_per_position", "loss per position  −log p(target)", "after loss")
    if data.data is not None:
        data.title += f"  mean = {float(snap.trace['loss']):.4f}"
    return data


def _lm_head(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return param_view(snap, "lm_head.weight")


OUTPUT_SPECS = [
    Spec("h_out", TH, 0, 0, _h_out),
    Spec("loss_per_position", P, 0, 1, _loss_pos),
    Spec("logits", S, 1, 0, _vocab_view("logits", "logits", "after head")),
    Spec("probs", P, 1, 1, _vocab_view("probs", "probabilities p = softmax", "after loss")),
    Spec("lm_head.weight", S, 1, 2, _lm_head, editable_param="lm_head.weight"),
]

__all__ = ["INPUT_SPECS", "GRU_SPECS", "TIME_SPECS", "OUTPUT_SPECS", "gate_rows", "units"]
