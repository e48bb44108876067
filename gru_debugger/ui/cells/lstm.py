"""The LSTM as the window shows it: gate words, diagram rows, equations, captions."""
from __future__ import annotations

import math
from typing import Any

from ..views.equation_format import Line, factor, fmt, sub
from ..widgets.kinds import SIGNED, TANH, UNIT
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
        if t == T - 1:
            dc_line = (f"∂L/∂{sub('c', 't')} = ∂L/∂{sub('h', 't')} ⊙ o ⊙ (1 − tanh²c) = {factor(dh)}·{fmt(o)}·"
                       f"{fmt(1 - th * th)} = <b>{fmt(dc)}</b>")
        else:
            dc_next, f_next = self.value(s, "grad/c", b, t + 1, j), self.value(s, "f", b, t + 1, j)
            dc_line = (f"∂L/∂{sub('c', 't')} = ∂L/∂{sub('h', 't')} ⊙ o ⊙ (1 − tanh²c) + ∂L/∂{sub('c', 't+1')} ⊙ "
                       f"{sub('f', 't+1')} = {fmt(local)} + {factor(dc_next)}·{fmt(f_next)} = <b>{fmt(dc)}</b>")
        gx = s.get("grad/gx")[b, t]
        lines = [Line("dc", dc_line, True)]
        for gate, rule, value in (("o", f"∂L/∂{sub('h', 't')} ⊙ tanh(c) = {factor(dh)}·{fmt(th)}",
                                   self.value(s, "grad/o", b, t, j)),
                                  ("i", f"∂L/∂c ⊙ g = {factor(dc)}·{factor(g)}", self.value(s, "grad/i", b, t, j)),
                                  ("f", f"∂L/∂c ⊙ {sub('c', 't−1')} = {factor(dc)}·{factor(c_prev)}",
                                   self.value(s, "grad/f", b, t, j)),
                                  ("g", f"∂L/∂c ⊙ i = {factor(dc)}·{fmt(i)}", self.value(s, "grad/g", b, t, j))):
            lines.append(Line(f"d{gate}", f"∂L/∂{gate} = {rule} = <b>{fmt(value)}</b>"))
        for k, gate in enumerate(("i", "f", "g", "o")):
            v = {"i": i, "f": f, "g": g, "o": o}[gate]
            deriv, rule = (1 - v * v, "1 − g²") if gate == "g" else (v * (1 - v), f"{gate}(1 − {gate})")
            lines.append(Line(f"d{gate}·", f"∂L/∂{self.part(gate, 'x')} = ∂L/∂{self.part(gate, 'h')} = "
                                           f"∂L/∂{gate} ⊙ {rule} = "
                                           f"{factor(self.value(s, 'grad/' + gate, b, t, j))}·{fmt(deriv)} = "
                                           f"<b>{fmt(gx[k * H + j])}</b>&nbsp;&nbsp;(block {k + 1} of x2g, h2g)"))
        return lines

    def timestep_caption(self, t: int, T: int) -> str:
        prev = f"h_{t - 1} and c_{t - 1} from the previous timestep" if t > 0 else \
            "the initial states h_(−1) = c_(−1) = 0, so the h2g terms are just h2g's bias"
        last = " After this timestep every hidden state of the sequence exists." if t == T - 1 else ""
        return (f"LSTM, timestep t = {t} of 0…{T - 1}. The cell reads x_{t}, the input at this position after its "
                f"dropout mask, and {prev}. x2g and h2g each give four pre-activations (rows i, f, g and o); "
                f"i, f and o are sigmoid gates, g = tanh(…) the candidate, c_{t} = f ⊙ c_(t−1) + i ⊙ g the cell "
                f"state and h_{t} = o ⊙ tanh(c_{t}) the hidden state.{last}")

    def backward_caption(self, t: int, T: int) -> str:
        future = "; at the last timestep nothing comes from the future" if t == T - 1 else \
            f"; from the future, h_{t} gets what flows back through h2g at t = {t + 1} and c_{t} what flows back " \
            f"through f_{t + 1}"
        done = " With t = 0 done, every gradient is complete." if t == 0 else ""
        return (f"Backward through the LSTM, timestep t = {t} (from t = {T - 1} down to 0). The gradient reaching "
                f"h_{t} comes from this position's prediction{future}. It splits into the gates i, f, g, o and "
                f"their pre-activations, and from those into the weights.{done}")


VIEW = LSTMView()
