"""The LSTM as the window shows it: gate words, diagram rows, equations, captions."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..widgets.equation_format import Line, bold, factor, fmt, sub
from ..widgets.kinds import SIGNED, TANH, UNIT
from . import step_facts
from .base import CellUI


class LSTMView(CellUI):
    name = "lstm"
    gate_names = {"i": "input gate", "f": "forget gate", "g": "candidate", "o": "output gate",
                  "c": "cell state", "h": "hidden state"}
    gate_titles = {"i": "i = σ(ix + ih)", "f": "f = σ(fx + fh)", "g": "g = tanh(g_x + g_h)", "o": "o = σ(ox + oh)",
                   "c": "c = f⊙c(t−1) + i⊙g", "h": "h = o⊙tanh(c)"}
    gate_kinds = {"i": UNIT, "f": UNIT, "g": TANH, "o": UNIT, "c": SIGNED, "h": TANH}
    over_time = ("h", "c", "f", "i", "g", "o")
    diagram_rows = (("x2g", "h2g"), ("i", "f", "g", "o"), ("c",), ("h",))
    block_help = ("LSTM cell, one timestep at a time: x2g and h2g feed the input gate i, the forget gate f, the "
                  "candidate g and the output gate o; c_t = f ⊙ c_{t−1} + i ⊙ g carries the memory and "
                  "h_t = o ⊙ tanh(c_t) is what the head sees. The next timestep gets both: h_t through h2g, "
                  "c_t through its forget gate.")
    # The candidate's blocks of x2g(x) and h2g(h): "gx" and "gh" already name those whole outputs.
    part_renames = {"gx": ("g", "x"), "gh": ("g", "h")}
    panel_intro = ("One timestep for every batch row: pre-activations from the input (left) and from h(t−1) "
                   "(middle) give the gates i, f, o and the candidate g (right); below them the cell state c and "
                   "the new h.")
    variant_note = ("This is PyTorch's LSTM (rows i | f | g | o, no peephole connections, separate biases "
                    "b<sub>ih</sub> and b<sub>hh</sub> that simply add up).")
    substep_text = {
        "x2g": "The input x<sub>t</sub> (the embedding after its dropout mask) goes through x2g once, giving four "
               "pre-activations: for the input gate i, the forget gate f, the candidate g and the output gate o. "
               "The candidate's block is written g<sub>x</sub> (and h2g's g<sub>h</sub>): gx and gh name the "
               "whole outputs of x2g and h2g.",
        "h2g": "The previous hidden state goes through h2g, giving the same four pre-activations from memory. At "
               "t = 0 the previous state is zero, so only the bias is left.",
        "i": "The input gate i (between 0 and 1) decides how much of the candidate g enters the cell state.",
        "f": "The forget gate f (between 0 and 1) decides how much of the old cell state c<sub>t−1</sub> is kept.",
        "g": "The candidate g (between −1 and 1) is the new content the cell proposes.",
        "o": "The output gate o (between 0 and 1) decides how much of the cell state shows in h<sub>t</sub>.",
        "c": "The cell state adds the gated candidate to the gated old state. It is not squashed, so it can grow "
             "past 1; with f ≈ 1 it carries information (and gradient) over many timesteps.",
        "h": "The hidden state is the squashed cell state, scaled by the output gate. The head sees "
             "h<sub>t</sub> only; the next timestep gets h<sub>t</sub> (through h2g, into every gate) and "
             "c<sub>t</sub> (through its forget gate: c<sub>t+1</sub> = f ⊙ c<sub>t</sub> + i ⊙ g).",
    }
    backward_text = (
        "Back-propagation walks from the last timestep to the first. The gradient reaching h<sub>t</sub> comes "
        "from this position's prediction and, through h2g, from timestep t + 1. It flows into the cell state "
        "through o ⊙ (1 − tanh²c); the cell state also gets ∂L/∂c<sub>t+1</sub> ⊙ f<sub>t+1</sub> from the "
        "future: with f ≈ 1 that path passes the gradient back almost unchanged, which is why LSTMs keep "
        "gradients alive over long sequences. Parameter gradients add up over the timesteps.")

    def gate_line(self, s: Any, b: int, j: int, t: int, gate: str, current: bool) -> Line:
        if gate in ("i", "f", "o"):
            return self.sigmoid_line(s, b, j, t, gate, current)
        if gate == "g":
            return self.tanh_line(s, b, j, t, gate, current)
        if gate == "c":
            f, i, g, c = (self.value(s, k, b, t, j) for k in ("f", "i", "g", "c"))
            c_prev = self.prev(s, "c", b, t, j)
            return Line("c", f"{sub('c', 't')} = f ⊙ {sub('c', 't−1')} + i ⊙ g = {fmt(f)}·{factor(c_prev)} + "
                             f"{fmt(i)}·{factor(g)} = <b>{fmt(c)}</b>", current)
        o, c, h = (self.value(s, k, b, t, j) for k in ("o", "c", "h"))
        return Line("h", f"{sub('h', 't')} = o ⊙ tanh({sub('c', 't')}) = {fmt(o)}·tanh({fmt(c)}) = <b>{fmt(h)}</b>",
                    current)

    def backward_lines(self, s: Any, b: int, j: int, t: int) -> list[Line]:
        T, H = s.config.context_length, s.config.hidden_size
        dh = self.value(s, "grad/h", b, t, j)
        i, f, g, o, c = (self.value(s, k, b, t, j) for k in ("i", "f", "g", "o", "c"))
        c_prev = self.prev(s, "c", b, t, j)
        dc = self.value(s, "grad/c", b, t, j)
        th = math.tanh(c)
        local = dh * o * (1 - th * th)
        ro_h, ro_c = self.roundoff(s, "grad/h", b, t, j), self.roundoff(s, "grad/c", b, t, j)   # grey ≈0
        if t == T - 1:
            dc_line = (f"∂L/∂{sub('c', 't')} = ∂L/∂{sub('h', 't')} ⊙ o ⊙ (1 − tanh²c) = {factor(dh, ro_h)}·{fmt(o)}·"
                       f"{fmt(1 - th * th)} = {bold(dc, ro_c)}")
        else:
            dc_next, f_next = self.value(s, "grad/c", b, t + 1, j), self.value(s, "f", b, t + 1, j)
            dc_line = (f"∂L/∂{sub('c', 't')} = ∂L/∂{sub('h', 't')} ⊙ o ⊙ (1 − tanh²c) + ∂L/∂{sub('c', 't+1')} ⊙ "
                       f"{sub('f', 't+1')} = {fmt(local, ro_h)} + "
                       f"{factor(dc_next, self.roundoff(s, 'grad/c', b, t + 1, j))}·{fmt(f_next)} = {bold(dc, ro_c)}")
        gx = s.get("grad/gx")[b, t]
        lines = [Line("dc", dc_line, True)]
        for gate, rule, value in (("o", f"∂L/∂{sub('h', 't')} ⊙ tanh(c) = {factor(dh, ro_h)}·{factor(th)}",
                                   self.value(s, "grad/o", b, t, j)),
                                  ("i", f"∂L/∂c ⊙ g = {factor(dc, ro_c)}·{factor(g)}", self.value(s, "grad/i", b, t, j)),
                                  ("f", f"∂L/∂c ⊙ {sub('c', 't−1')} = {factor(dc, ro_c)}·{factor(c_prev)}",
                                   self.value(s, "grad/f", b, t, j)),
                                  ("g", f"∂L/∂c ⊙ i = {factor(dc, ro_c)}·{fmt(i)}", self.value(s, "grad/g", b, t, j))):
            lines.append(Line(f"d{gate}", f"∂L/∂{gate} = {rule} = "
                                          f"{bold(value, self.roundoff(s, 'grad/' + gate, b, t, j))}"))
        for k, gate in enumerate(("i", "f", "g", "o")):
            v = {"i": i, "f": f, "g": g, "o": o}[gate]
            deriv, rule = (1 - v * v, "(1 − g²)") if gate == "g" else (v * (1 - v), f"{gate}(1 − {gate})")
            grad = self.value(s, 'grad/' + gate, b, t, j)
            lines.append(Line(f"d{gate}·", f"∂L/∂{self.part(gate, 'x')} = ∂L/∂{self.part(gate, 'h')} = "
                                           f"∂L/∂{gate} ⊙ {rule} = "
                                           f"{factor(grad, self.roundoff(s, 'grad/' + gate, b, t, j))}·{fmt(deriv)} = "
                                           f"{bold(gx[k * H + j], self.roundoff(s, 'grad/gx', b, t, k * H + j))}"
                                           f"&nbsp;&nbsp;(block {k + 1} of x2g, h2g)"))
        return lines

    def caption_intro(self, t: int, T: int) -> str:
        if t == 0:
            return (f"LSTM, timestep t = 0 of 0…{T - 1}. The cell reads x_0, the input at this position after its "
                    "dropout mask, and the initial states h_(−1) = c_(−1) = 0, so the h2g terms are just h2g's "
                    "bias. x2g and h2g each give four pre-activations (rows i, f, g and o); i, f and o are sigmoid "
                    "gates, g = tanh(g_x + g_h) the candidate, c_0 = f ⊙ c_(−1) + i ⊙ g the cell state and "
                    "h_0 = o ⊙ tanh(c_0) the hidden state.")
        return (f"LSTM, timestep t = {t} of 0…{T - 1}: from x_{t}, h_{t - 1} and c_{t - 1}, the gates i, f, o and "
                f"the candidate g give c_{t} = f ⊙ c_{t - 1} + i ⊙ g and h_{t} = o ⊙ tanh(c_{t}).")

    def timestep_facts(self, s: Any, b: int, j: int, t: int) -> str:
        i, f, g, o, c, h = (self.value(s, k, b, t, j) for k in ("i", "f", "g", "o", "c", "h"))
        c_prev, h_prev = self.prev(s, "c", b, t, j), self.prev(s, "h", b, t, j)
        cp, ct = step_facts.index("c", t - 1), step_facts.index("c", t)
        hp, ht = step_facts.index("h", t - 1), step_facts.index("h", t)
        return (f"For row {b}, unit {j} (the Equation panel's): the forget gate f = {fmt(f)} keeps that share of "
                f"{cp} = {fmt(c_prev)} and the input gate i = {fmt(i)} lets in that share of the candidate "
                f"g = {fmt(g)}, so {ct} = {fmt(c)}: c moved by |{ct} − {cp}| = {step_facts.change(s, c, c_prev)}. "
                f"The output gate o = {fmt(o)} gives {ht} = {fmt(h)}, and h moved by |{ht} − {hp}| = "
                f"{step_facts.change(s, h, h_prev)}.{step_facts.most_moved(s, 'c', b, t)}")

    def backward_intro(self, t: int, T: int) -> str:
        if t == T - 1:
            return (f"Backward through the LSTM, timestep t = {t} (from t = {T - 1} down to 0). At the last timestep "
                    f"the gradient reaches h_{t} from this position's prediction alone, and c_{t} from h_{t}.")
        return (f"Backward through the LSTM, timestep t = {t} (from t = {T - 1} down to 0). The gradient reaches "
                f"h_{t} from this position's prediction and through h2g at t = {t + 1}, and c_{t} from h_{t} and "
                f"through the forget gate f_{t + 1}.")

    def backward_facts(self, s: Any, b: int, j: int, t: int) -> str:
        text = step_facts.gradient_split(s, b, j, t)
        T = s.config.context_length
        mask = s.roundoff_mask("grad/c")
        ct = step_facts.index("c", t)
        dc = np.asarray(s.get("grad/c")[:, t], dtype=np.float64)
        ro = None if mask is None else np.asarray(mask[:, t], dtype=bool)
        if ro is not None and ro.any() and bool(np.array_equal(ro, dc != 0)):
            return f"{text} Every ∂L/∂{ct} is round-off as well."
        later = np.zeros_like(dc)
        if t < T - 1:
            later = np.asarray(s.get("grad/c")[:, t + 1], dtype=np.float64) * \
                np.asarray(s.get("f")[:, t + 1], dtype=np.float64)
        here = dc - later
        noise = step_facts.rounding_mask(s, here, dc, later)
        if ro is not None:
            noise |= ro
        where = (f"all of it from {step_facts.index('h', t)} (nothing comes later)" if t == T - 1 else
                 f"of which the part from {step_facts.index('h', t)} has norm {step_facts.norm_text(here, noise)} and "
                 f"the part from {step_facts.index('c', t + 1)} (through {step_facts.index('f', t + 1)}) "
                 f"{step_facts.norm_text(later, ro)}")
        row = "" if ro is not None and ro[b, j] else f" (row {b}, unit {j}: {fmt(dc[b, j])})"
        return f"{text} Over the batch ‖∂L/∂{ct}‖ = {step_facts.norm_text(dc, ro)}{row}, {where}."


VIEW = LSTMView()
