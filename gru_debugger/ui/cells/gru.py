"""The GRU as the window shows it: gate words, diagram rows, equations, captions."""
from __future__ import annotations

from typing import Any

from ..widgets.equation_format import Line, bold, factor, fmt, signed, sub, within_rounding
from ..widgets.kinds import TANH, UNIT
from . import step_facts
from .base import CellUI


class GRUView(CellUI):
    name = "gru"
    gate_names = {"z": "update gate", "r": "reset gate", "n": "candidate", "h": "hidden state"}
    gate_titles = {"z": "z = σ(zx + zh)", "r": "r = σ(rx + rh)", "n": "n = tanh(nx + r⊙nh)",
                   "h": "h = (1−z)⊙n + z⊙h(t−1)"}
    gate_kinds = {"z": UNIT, "r": UNIT, "n": TANH, "h": TANH}
    over_time = ("h", "z", "r", "n")
    diagram_rows = (("x2g", "h2g"), ("z", "r", "n"), ("h",))
    block_help = ("GRU cell, one timestep at a time: x2g and h2g feed the gates z, r and the candidate n, "
                  "which give the new hidden state h_t; h_t is fed back as h_{t−1}.")
    panel_intro = ("One timestep for every batch row: the gate pre-activations from the input (left) and from "
                   "h(t−1) (middle) combine into z, r, n and the new h (right).")
    variant_note = ("This is PyTorch's GRU: the reset gate multiplies h2g's candidate block after the product, "
                    "n = tanh(W<sub>in</sub>x + b<sub>in</sub> + r ⊙ (W<sub>hn</sub>h + b<sub>hn</sub>)); "
                    "textbooks that put r inside, W<sub>hn</sub>(r ⊙ h), get other numbers.")
    substep_text = {
        "x2g": "The input x<sub>t</sub> (the embedding after its dropout mask) goes through x2g once, giving "
               "three pre-activations: one each for the update gate z, the reset gate r and the candidate n. "
               "They depend on this timestep's input only, not on the past.",
        "h2g": "The previous hidden state goes through h2g, giving the same three pre-activations from memory. "
               "At t = 0 the previous state is zero, so only the bias is left.",
        "z": "The update gate z (between 0 and 1) decides how much of the old state to keep: near 1 the unit "
             "keeps its memory, near 0 it takes the new candidate.",
        "r": "The reset gate r (between 0 and 1) decides how much of h2g's candidate block may shape the "
             "candidate: near 0 the candidate ignores memory.",
        "n": "The candidate n (between −1 and 1) is the new value the unit proposes, from the input and the "
             "reset-scaled memory term.",
        "h": "The new hidden state blends the candidate and the old state with weights (1 − z) and z. "
             "Compare h<sub>t</sub> with h<sub>t−1</sub>: a large z keeps it close to the old value.",
    }
    backward_text = (
        "Back-propagation walks from the last timestep to the first. The gradient reaching h<sub>t</sub> has two "
        "parts: from this position's prediction (the head) and from the future, through h<sub>t+1</sub>. Because "
        "h<sub>t+1</sub> = (1 − z) ⊙ n + z ⊙ h<sub>t</sub>, ∂h<sub>t+1</sub>/∂h<sub>t</sub> contains diag(z): "
        "where z ≈ 1 the gradient passes back almost unchanged, which is why gated cells keep gradients alive "
        "over long sequences. It then splits into the gates through the derivatives σ' = z(1 − z) and "
        "tanh' = 1 − n²; parameter gradients add up over the timesteps.")

    def gate_line(self, s: Any, b: int, j: int, t: int, gate: str, current: bool) -> Line:
        if gate in ("z", "r"):
            return self.sigmoid_line(s, b, j, t, gate, current)
        if gate == "n":
            nx, nh = self.pre(s, "n", "x", b, t, j), self.pre(s, "n", "h", b, t, j)
            r, n = self.value(s, "r", b, t, j), self.value(s, "n", b, t, j)
            return Line("n", f"n = tanh(nx + r ⊙ nh) = tanh({fmt(nx)} + {factor(r)}·{factor(nh)}) = <b>{fmt(n)}</b>",
                        current)
        z, n, h = (self.value(s, k, b, t, j) for k in ("z", "n", "h"))
        h_prev = self.prev(s, "h", b, t, j)
        hp = sub("h", "t−1")
        return Line("h", f"{sub('h', 't')} = (1 − z) ⊙ n + z ⊙ {hp} = (1 − {fmt(z)})·{factor(n)} + "
                         f"{fmt(z)}·{factor(h_prev)} = <b>{fmt(h)}</b>", current)

    def backward_lines(self, s: Any, b: int, j: int, t: int) -> list[Line]:
        H = s.config.hidden_size
        gh_t = self.value(s, "grad/h", b, t, j)
        z, n, nh, r = self.value(s, "z", b, t, j), self.value(s, "n", b, t, j), \
            self.pre(s, "n", "h", b, t, j), self.value(s, "r", b, t, j)
        h_prev = self.prev(s, "h", b, t, j)
        gn, gz, gr = (self.value(s, k, b, t, j) for k in ("grad/n", "grad/z", "grad/r"))
        gx, gh = s.get("grad/gx")[b, t], s.get("grad/gh")[b, t]
        ro = {k: self.roundoff(s, f"grad/{k}", b, t, j) for k in ("h", "n", "z", "r")}   # round-off: grey ≈0
        rx = {row: self.roundoff(s, "grad/gx", b, t, row) for row in (j, H + j, 2 * H + j)}
        rh_n = self.roundoff(s, "grad/gh", b, t, 2 * H + j)
        dh = "∂L/∂" + sub("h", "t")
        lines = []
        lines.append(Line("dn", f"∂L/∂n = {dh} ⊙ (1 − z) = {factor(gh_t, ro['h'])}·(1 − {fmt(z)}) = "
                                f"{bold(gn, ro['n'])}"))
        lines.append(Line("dz", f"∂L/∂z = {dh} ⊙ ({sub('h', 't−1')} − n) = {factor(gh_t, ro['h'])}·({fmt(h_prev)}"
                                f"{signed(-n)}) = {bold(gz, ro['z'])}"))
        lines.append(Line("dn·", f"∂L/∂(nx + r⊙nh) = ∂L/∂n ⊙ (1 − n²) = {factor(gn, ro['n'])}·(1 − {factor(n)}²) = "
                                 f"{bold(gx[2 * H + j], rx[2 * H + j])} = ∂L/∂nx"))
        lines.append(Line("dnh", f"∂L/∂nh = ∂L/∂nx ⊙ r = {factor(gx[2 * H + j], rx[2 * H + j])}·{fmt(r)} = "
                                 f"{bold(gh[2 * H + j], rh_n)}&nbsp;&nbsp;(h2g's n rows, block 3, get this)"))
        lines.append(Line("dr", f"∂L/∂r = ∂L/∂nx ⊙ nh = {factor(gx[2 * H + j], rx[2 * H + j])}·{factor(nh)} = "
                                f"{bold(gr, ro['r'])}"))
        lines.append(Line("dz·", f"∂L/∂zx = ∂L/∂zh = ∂L/∂z ⊙ z(1 − z) = {factor(gz, ro['z'])}·{fmt(z * (1 - z))} = "
                                 f"{bold(gx[j], rx[j])}&nbsp;&nbsp;(h2g's z rows, block 1)"))
        lines.append(Line("dr·", f"∂L/∂rx = ∂L/∂rh = ∂L/∂r ⊙ r(1 − r) = {factor(gr, ro['r'])}·{fmt(r * (1 - r))} = "
                                 f"{bold(gx[H + j], rx[H + j])}&nbsp;&nbsp;(h2g's r rows, block 2)"))
        return lines

    def from_future(self, s: Any, b: int, j: int, t: int) -> tuple[str, float]:
        g_next = self.value(s, "grad/h", b, t + 1, j)
        z_next = self.value(s, "z", b, t + 1, j)
        via = self.via_h2g(s, b, j, t)
        total = g_next * z_next + via
        text = (f"∂L/∂{sub('h', 't+1')}·{sub('z', 't+1')} + Σ<sub>g</sub> ∂L/∂gh<sub>t+1</sub>[g]·h2g.weight[g, {j}] "
                f"= {factor(g_next, self.roundoff(s, 'grad/h', b, t + 1, j))}·{fmt(z_next)}"
                f"{signed(via, self.via_roundoff(s, b, j, t))}")
        return text, total

    def future_roundoff(self, s: Any, b: int, j: int, t: int) -> bool:
        g_next, z_next = self.value(s, "grad/h", b, t + 1, j), self.value(s, "z", b, t + 1, j)
        via = self.via_h2g(s, b, j, t)
        total = g_next * z_next + via
        parts_noise = ((g_next == 0 or self.roundoff(s, "grad/h", b, t + 1, j))
                       and (via == 0 or self.via_roundoff(s, b, j, t)))
        return total != 0 and (parts_noise or within_rounding(total, [g_next * z_next, via], self.eps(s)))

    def caption_intro(self, t: int, T: int) -> str:
        if t == 0:
            return (f"GRU, timestep t = 0 of 0…{T - 1}. The cell reads x_0, the input at this position after its "
                    "dropout mask, and the initial hidden state h_(−1) = 0, so the h2g terms are just h2g's bias. "
                    "x2g and h2g each give three pre-activations (rows z, r and n of their weights): "
                    "z = σ(zx + zh) is the update gate, r = σ(rx + rh) the reset gate, n = tanh(nx + r ⊙ nh) the "
                    "candidate, and h_0 = (1 − z) ⊙ n + z ⊙ h_(−1). This is PyTorch's GRU variant: r scales "
                    "h2g's candidate block after the matrix product.")
        return (f"GRU, timestep t = {t} of 0…{T - 1}: from x_{t} and h_{t - 1}, the gates z, r and the candidate "
                f"n give h_{t} = (1 − z) ⊙ n + z ⊙ h_{t - 1}.")

    def timestep_facts(self, s: Any, b: int, j: int, t: int) -> str:
        z, r, n, h = (self.value(s, k, b, t, j) for k in ("z", "r", "n", "h"))
        h_prev = self.prev(s, "h", b, t, j)
        hp, ht = step_facts.index("h", t - 1), step_facts.index("h", t)
        nh = self.pre(s, "n", "h", b, t, j)
        return (f"For row {b}, unit {j} (the Equation panel's): z = {fmt(z)} keeps that share of {hp} = "
                f"{fmt(h_prev)} and takes 1 − z = {fmt(1 - z)} of the candidate n = {fmt(n)}, into which the "
                f"reset gate r = {fmt(r)} let that share of nh = {fmt(nh)}; so {ht} = {fmt(h)}, and h moved by "
                f"|{ht} − {hp}| = {step_facts.change(s, h, h_prev)}.{step_facts.most_moved(s, 'h', b, t)}")

    def backward_facts(self, s: Any, b: int, j: int, t: int) -> str:
        def detail(t: int) -> str:
            mask = s.roundoff_mask("grad/h")
            if mask is not None and mask[b, t + 1, j]:
                return ""
            direct = self.value(s, "grad/h", b, t + 1, j) * self.value(s, "z", b, t + 1, j)
            via = self.via_h2g(s, b, j, t)
            total = direct + via
            z1, h1 = step_facts.index("z", t + 1), step_facts.index("h", t + 1)
            return (f"Of row {b}, unit {j}'s part from the future, {step_facts.part_of(s, direct, total)} came "
                    f"straight through {z1} (∂L/∂{h1}·{z1}) and {step_facts.part_of(s, via, total)} through h2g.")
        return step_facts.gradient_split(s, b, j, t, detail)


VIEW = GRUView()
