"""The plain (Elman) RNN as the window shows it."""
from __future__ import annotations

from typing import Any

from ..views.equation_format import Line, bold, factor, fmt, signed, sub
from ..widgets.kinds import TANH
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

    def timestep_caption(self, t: int, T: int) -> str:
        prev = f"h_{t - 1}, the hidden state the previous timestep produced" if t > 0 else \
            "the initial hidden state h_(−1) = 0, so the h2g term is just h2g's bias"
        last = " After this timestep every hidden state of the sequence exists." if t == T - 1 else ""
        return (f"Plain RNN, timestep t = {t} of 0…{T - 1}. The cell reads x_{t}, the input at this position after "
                f"its dropout mask, and {prev}, and computes h_{t} = tanh(x2g(x_{t}) + h2g(h_(t−1))): no gates, the "
                f"state is rewritten at every step.{last}")

    def backward_caption(self, t: int, T: int) -> str:
        future = "; at the last timestep nothing comes from the future" if t == T - 1 else \
            f" plus what flows back from h_{t + 1} through h2g and tanh's slope"
        done = " With t = 0 done, every gradient is complete." if t == 0 else ""
        return (f"Backward through the plain RNN, timestep t = {t} (from t = {T - 1} down to 0). The gradient "
                f"reaching h_{t} is what comes from this position's prediction{future}. Each step back multiplies "
                f"by h2g.weightᵀ and (1 − h²): watch grad/h_last shrink or grow.{done}")


VIEW = RNNView()
