"""The plain (Elman) RNN as the window shows it."""
from __future__ import annotations

from typing import Any

from ..widgets.equation_format import Line, bold, factor, fmt, signed, sub
from ..widgets.kinds import TANH
from . import step_facts
from .base import CellUI


class RNNView(CellUI):
    name = "rnn"
    gate_names = {"h": "hidden state"}
    gate_titles = {"h": "h = tanh(hx + hh)"}
    gate_kinds = {"h": TANH}
    over_time = ("h",)
    diagram_rows = (("x2g", "h2g"), ("h",))
    block_help = ("Plain (Elman) RNN cell, one timestep at a time: h_t = tanh(x2g(x_t) + h2g(h_{t−1})); no "
                  "gates, so every step back in time multiplies the gradient by h2g.weightᵀ and tanh's slope.")
    panel_intro = ("One timestep for every batch row: the pre-activation from the input (left) and from h(t−1) "
                   "(middle) add up and go through tanh to give the new h (right).")
    variant_note = "This is PyTorch's nn.RNN with tanh (separate biases b<sub>ih</sub> and b<sub>hh</sub> that add up)."
    substep_text = {
        "x2g": "The input x<sub>t</sub> (the embedding after its dropout mask) goes through x2g: H numbers, one "
               "per hidden unit.",
        "h2g": "The previous hidden state goes through h2g. At t = 0 it is zero, so only the bias is left.",
        "h": "The new hidden state squashes the sum of both into (−1, 1). There is no gate: the old state is "
             "always rewritten, which is why a plain RNN forgets quickly.",
    }
    backward_text = (
        "Back-propagation walks from the last timestep to the first. Without gates, the only way back from "
        "h<sub>t+1</sub> to h<sub>t</sub> is through h2g: ∂h<sub>t+1</sub>/∂h<sub>t</sub> = "
        "diag(1 − h<sub>t+1</sub>²) · h2g.weight, and the gradient of a late loss is multiplied by one such factor "
        "per timestep. With small weights or saturated units it shrinks geometrically (vanishing gradient); with "
        "large weights it grows (exploding gradient). Compare grad/h_last in the Gradients panel.")

    def gate_line(self, s: Any, b: int, j: int, t: int, gate: str, current: bool) -> Line:
        hx, hh, h = self.pre(s, "h", "x", b, t, j), self.pre(s, "h", "h", b, t, j), self.value(s, "h", b, t, j)
        return Line("h", f"{sub('h', 't')} = tanh(hx + hh) = tanh({fmt(hx)}{signed(hh)}) = <b>{fmt(h)}</b>", current)

    def backward_lines(self, s: Any, b: int, j: int, t: int) -> list[Line]:
        dh, h = self.value(s, "grad/h", b, t, j), self.value(s, "h", b, t, j)
        g = float(s.get("grad/gx")[b, t, j])
        return [Line("dpre", f"∂L/∂hx = ∂L/∂hh = ∂L/∂{sub('h', 't')} ⊙ (1 − {sub('h', 't')}²) = "
                             f"{factor(dh, self.roundoff(s, 'grad/h', b, t, j))}·"
                             f"(1 − {factor(h)}²) = {bold(g, self.roundoff(s, 'grad/gx', b, t, j))}")]

    def caption_intro(self, t: int, T: int) -> str:
        if t == 0:
            return (f"Plain RNN, timestep t = 0 of 0…{T - 1}. The cell reads x_0, the input at this position after "
                    "its dropout mask, and the initial hidden state h_(−1) = 0, so the h2g term is just h2g's bias, "
                    "and computes h_0 = tanh(x2g(x_0) + h2g(h_(−1))): no gates, the state is rewritten at every "
                    "step.")
        return (f"Plain RNN, timestep t = {t} of 0…{T - 1}: h_{t} = tanh(x2g(x_{t}) + h2g(h_{t - 1})), no gate "
                f"keeps any of the old state.")

    def timestep_facts(self, s: Any, b: int, j: int, t: int) -> str:
        hx, hh, h = self.pre(s, "h", "x", b, t, j), self.pre(s, "h", "h", b, t, j), self.value(s, "h", b, t, j)
        h_prev = self.prev(s, "h", b, t, j)
        hp, ht = step_facts.index("h", t - 1), step_facts.index("h", t)
        return (f"For row {b}, unit {j} (the Equation panel's): the input gives hx = {fmt(hx)} and memory "
                f"hh = {fmt(hh)}, so {ht} = tanh({fmt(hx + hh)}) = {fmt(h)}, and h moved by |{ht} − {hp}| = "
                f"{step_facts.change(s, h, h_prev)}.{step_facts.most_moved(s, 'h', b, t)}")

    def backward_intro(self, t: int, T: int) -> str:
        return (f"Backward through the plain RNN, timestep t = {t} (from t = {T - 1} down to 0). Each step back "
                f"multiplies the gradient from the future by h2g.weightᵀ and tanh's slope (1 − h²).")


VIEW = RNNView()
