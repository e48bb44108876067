"""Why the gradient into the recurrent cell vanishes: structural reasons, each
with one sentence that is true of the model, and the fix where there is one.

:func:`gradient_diagnosis` looks at the weights an iteration starts from (and,
for saturated gates, at the gate values it recorded). The reasons it knows:

- ``lm_head_rows_equal``: every row of ``lm_head.weight`` is the same (the
  notebook's constant initialisation). Then dL/dh = Σ_v (p_v − y_v)·w = 0.
- ``lm_head_zero``: ``lm_head.weight`` is all zero; every logit is 0.
- ``x2g_zero``: ``x2g.weight`` is all zero; the embeddings never reach the cell.
- ``wte_zero``: ``wte.weight`` is all zero; every input is zero.
- ``h2g_zero`` (plain RNN and LSTM only): ``h2g.weight`` is all zero; h_{t−1}
  does not enter step t. Not reported for the GRU, whose h_t = (1 − z) ⊙ n +
  z ⊙ h_{t−1} keeps a direct path back in time.
- ``saturated_gate``: more than 95 % of a gate's values lie within 0.001 of
  the flat ends of its sigmoid (0 or 1) or tanh (±1).

The fix for the first two is one undoable call:
``controller.set_init(*diagnosis.fix)``, i.e. ``lm_head.weight`` drawn from
:data:`BREAK_SYMMETRY_SPEC`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..base.config import PARAM_NAMES
from ..model.engine import ModelState, Trace, compute_trace

# lm_head.weight drawn at random: rows differ, so dL/dh_t is no longer zero.
BREAK_SYMMETRY_SPEC: Mapping[str, Any] = {"scheme": "normal", "mean": 0.0, "std": 1.0}
BREAK_SYMMETRY_PARAM = "lm_head.weight"

SATURATION_DISTANCE = 1e-3     # "at the flat end": within this of 0 or 1 (sigmoid) or of ±1 (tanh)
SATURATION_FRACTION = 0.95     # a gate is saturated when more than this share of its values are

# Values that come straight out of a sigmoid or a tanh, per cell, with what a person calls them.
_SIGMOID_GATES = {"gru": {"z": "update gate z", "r": "reset gate r"},
                  "lstm": {"i": "input gate i", "f": "forget gate f", "o": "output gate o"},
                  "rnn": {}}
_TANH_GATES = {"gru": {"n": "candidate n"}, "lstm": {"g": "candidate g"}, "rnn": {"h": "hidden state h"}}


@dataclass(frozen=True)
class Reason:
    code: str                                  # e.g. "lm_head_rows_equal"
    sentence: str                              # one true sentence for a learner
    params: tuple[str, ...]                    # the parameters it is about
    fix: tuple[str, Mapping[str, Any]] | None = None   # (parameter, init spec) for controller.set_init
    gate: str | None = None                    # saturated_gate: the recorded array, e.g. "z"


@dataclass(frozen=True)
class Diagnosis:
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    @property
    def text(self) -> str:
        """Every sentence, one per line."""
        return "\n".join(r.sentence for r in self.reasons)

    @property
    def fix(self) -> tuple[str, Mapping[str, Any]] | None:
        """The first reason's fix, ready for ``controller.set_init(*fix)`` (one undo step)."""
        return next((r.fix for r in self.reasons if r.fix is not None), None)


def gradient_diagnosis(source: ModelState | Trace) -> Diagnosis | None:
    """Structural reasons why gradient does not reach (parts of) the recurrent
    cell, or None when there is none. ``source`` is a ModelState (its trace is
    computed for the gate check) or a Trace (its starting weights are used)."""
    if isinstance(source, Trace):
        trace = source
        if source.state is not None:
            cell_name = source.state.config.cell
        else:  # a trace that does not know its state: tell the cell from the recorded gates
            cell_name = "lstm" if "c" in trace else ("gru" if "z" in trace else "rnn")
        params = {name: np.asarray(trace[f"param/{name}"]) for name in PARAM_NAMES}
    elif isinstance(source, ModelState):
        trace = None
        cell_name = source.config.cell
        params = {name: source.params[name].detach().cpu().numpy() for name in PARAM_NAMES}
    else:
        raise TypeError(f"gradient_diagnosis needs a ModelState or a Trace, got {type(source).__name__}")
    reasons = _weight_reasons(cell_name, params)
    if trace is None:
        trace = compute_trace(source)  # type: ignore[arg-type]
    reasons += _saturation_reasons(cell_name, trace)
    return Diagnosis(tuple(reasons)) if reasons else None


def _weight_reasons(cell_name: str, p: Mapping[str, np.ndarray]) -> list[Reason]:
    reasons = []
    head = p["lm_head.weight"]
    fix = (BREAK_SYMMETRY_PARAM, dict(BREAK_SYMMETRY_SPEC))
    if not head.any():
        reasons.append(Reason(
            "lm_head_zero",
            "lm_head.weight is all zero, so every logit is 0 whatever h is: dL/dh_t is exactly zero, and "
            "x2g, h2g and wte.weight get no gradient (any non-zero value shown there is rounding noise).",
            ("lm_head.weight",), fix))
    elif head.shape[0] > 1 and bool((head == head[:1]).all()):
        reasons.append(Reason(
            "lm_head_rows_equal",
            "every row of lm_head.weight is the same, so a change of h shifts every logit by the same amount "
            "and softmax ignores such a shift: dL/dh_t is exactly zero, and x2g, h2g and wte.weight get no "
            "gradient (any non-zero value shown there is rounding noise).",
            ("lm_head.weight",), fix))
    if not p["x2g.weight"].any():
        reasons.append(Reason(
            "x2g_zero",
            "x2g.weight is all zero, so the embeddings do not reach the cell: wte.weight gets no gradient "
            "(x2g.weight's own gradient is not zero).",
            ("x2g.weight", "wte.weight")))
    if not p["wte.weight"].any():
        reasons.append(Reason(
            "wte_zero",
            "wte.weight is all zero, so every input x_t is zero: x2g.weight gets no gradient "
            "(x2g.bias still does).",
            ("wte.weight", "x2g.weight")))
    if not p["h2g.weight"].any():
        if cell_name == "rnn":
            reasons.append(Reason(
                "h2g_zero",
                "h2g.weight is all zero, so h_{t-1} does not enter h_t: no gradient flows back in time, and "
                "dL/dh_t holds only the term of position t's own prediction.",
                ("h2g.weight",)))
        elif cell_name == "lstm":
            reasons.append(Reason(
                "h2g_zero",
                "h2g.weight is all zero, so h_{t-1} does not enter the gates of step t: dL/dh_t holds only the "
                "term of position t's own prediction; only the cell state c carries gradient back in time.",
                ("h2g.weight",)))
        # GRU: h_t = (1 - z) n + z h_{t-1} passes gradient back in time without h2g.
    return reasons


def _saturation_reasons(cell_name: str, trace: Trace) -> list[Reason]:
    reasons = []
    for kind, gates in (("sigmoid", _SIGMOID_GATES.get(cell_name, {})), ("tanh", _TANH_GATES.get(cell_name, {}))):
        for key, title in gates.items():
            if key not in trace or trace[key].size == 0:
                continue
            v = np.asarray(trace[key], dtype=np.float64)
            if kind == "sigmoid":
                flat = (v <= SATURATION_DISTANCE) | (v >= 1.0 - SATURATION_DISTANCE)
                where, slope = "0 or 1", "σ′ < 0.001"
            else:
                flat = np.abs(v) >= 1.0 - SATURATION_DISTANCE
                where, slope = "±1", "tanh′ < 0.002"
            share = float(flat.mean())
            if share > SATURATION_FRACTION:
                reasons.append(Reason(
                    "saturated_gate",
                    f"the {title} is saturated: {share:.0%} of its values are within {SATURATION_DISTANCE:g} of "
                    f"{where}, where {slope}, so almost no gradient passes through its pre-activation.",
                    ("x2g.weight", "h2g.weight"), gate=key))
    return reasons
