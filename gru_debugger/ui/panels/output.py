"""The Output panel: head input, logits, probabilities, loss per position, lm_head."""
from __future__ import annotations


from ...core.analysis.snapshot import Snapshot
from ..widgets import kinds
from ..widgets.heatmap import HeatmapData
from ..widgets.view_state import ViewState
from .spec_helpers import (batch_time_view, input_tokens, missing, param_view, row_of, target_tokens, time_missing,
                           time_view, tok, writes)
from .tensor_panel import Spec

S, U, TH, P = kinds.SIGNED, kinds.UNIT, kinds.TANH, kinds.POSITIVE


def second_pass(snap: Snapshot) -> bool:
    """At forward_after the output panel shows the pass through the updated weights."""
    return snap.phase_done("forward_after")


def _h_out(snap: Snapshot, vs: ViewState) -> HeatmapData:
    if second_pass(snap):
        return time_view(snap, vs, "after/h", "h (2nd pass, updated weights)", "", "")
    if not snap.phase_done("stack"):
        return time_missing(snap, vs, "h_out", "stacked h ⊙ dropout mask", "after stack and dropout")
    key = "h_out" if snap.phase_done("dropout_out") else "h"
    title = "h ⊙ dropout mask (head input)" if key == "h_out" else "stacked h  (dropout next)"
    return time_view(snap, vs, key, title, "", "")


def _vocab_view(key: str, title: str, kind_note: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        shown_key, shown_title = (f"after/{key}", f"{title} (2nd pass)") if second_pass(snap) else (key, title)
        arr = snap.get(shown_key)
        b = row_of(snap, vs)
        vocab = [tok(v) for v in snap.vocab]
        if arr is None:  # a V-by-T box with the labels the numbers will have
            return missing(title, kind_note, (len(vocab), snap.config.context_length), vocab, input_tokens(snap, b))
        data = arr[b].T                                             # (V, T)
        ys = snap.final("y")[b]
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
        data.title += f": mean {float(snap.get('loss_after')):.4f} (was {float(snap.get('loss')):.4f})"
        return data
    data = batch_time_view(snap, "loss_per_position", "loss per position  −log p(target)", "after loss")
    if data.data is not None:
        data.title += f"  mean = {float(snap.get('loss')):.4f}"
    return data


def _lm_head(snap: Snapshot, vs: ViewState) -> HeatmapData:
    return param_view(snap, "lm_head.weight")


OUTPUT_SPECS = [
    Spec("h_out", TH, 0, 0, writes(_h_out, ("stack", "dropout_out", "forward_after"), main=True, reads=("head",))),
    Spec("loss_per_position", P, 0, 1, writes(_loss_pos, ("loss", "forward_after"), main=True)),
    Spec("logits", S, 1, 0, writes(_vocab_view("logits", "logits", "after head"), ("head", "forward_after"),
                                   main=True, reads=("loss",))),
    Spec("probs", P, 1, 1, writes(_vocab_view("probs", "probabilities p = softmax", "after loss"),
                                  ("loss", "forward_after"))),
    Spec("lm_head.weight", S, 1, 2, writes(_lm_head, ("update",), reads=("head",)), editable_param="lm_head.weight"),
]

INTRO = ("The head turns each hidden state into one logit per vocabulary token; softmax gives probabilities, "
         "and the loss is −log p of the target (outlined).")
