"""The UI side of a recurrent cell: what the window shows of it.

One subclass per cell (``gru.py``, ``lstm.py``, ``rnn.py``) declares the
words, colour kinds and diagram rows of its gates and writes the lines of its
Equation pages; everything generic (panels, pages, diagram drawing) asks the
registry in ``__init__`` for the chosen cell's object. No Qt here.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ...core.model.cells import Cell, get_cell
from . import step_facts
from ..widgets.equation_format import Line, factor, fmt, signed, sub, within_rounding
from ..widgets.kinds import SIGNED, TANH, UNIT


class CellUI:
    name = ""
    gate_names: dict[str, str] = {}        # "z" -> "update gate"
    gate_titles: dict[str, str] = {}       # heatmap titles: "z = σ(zx + zh)"
    gate_kinds: dict[str, str] = {}        # colour kind of each gate
    over_time: tuple[str, ...] = ("h",)    # gates in the Over time panel
    diagram_rows: tuple[tuple[str, ...], ...] = ()  # boxes inside the diagram's cell block, top to bottom
    block_help = ""                        # the diagram block's tooltip
    panel_intro = ""                       # one line above the cell panel
    substep_text: dict[str, str] = {}      # explanation under the equations of each sub-step
    backward_text = ""                     # explanation under the backward equations
    variant_note = ""                      # which variant of the cell this is (start page, README)
    # Block parts whose plain name ("gx") is taken by something else (the LSTM's candidate block
    # vs the whole x2g output gx): block + source -> (letter, subscript)
    part_renames: dict[str, tuple[str, str]] = {}

    @property
    def cell(self) -> Cell:
        return get_cell(self.name)

    @property
    def title(self) -> str:
        return self.cell.title

    def part(self, block: str, src: str, rich: bool = True) -> str:
        """How the texts name block ``block`` of x2g's (src "x") or h2g's (src "h") output: "zx",
        or for a renamed part "g<sub>x</sub>" (rich) / "g_x" (plain)."""
        found = self.part_renames.get(f"{block}{src}")
        if found is None:
            return f"{block}{src}"
        letter, index = found
        return f"{letter}<sub>{index}</sub>" if rich else f"{letter}_{index}"

    def kind(self, gate: str) -> str:
        return self.gate_kinds.get(gate, SIGNED)

    # ------------------------------------------------------------ equations
    def gate_line(self, s: Any, b: int, j: int, t: int, gate: str, current: bool) -> Line:
        """The equation of one gate of timestep t for row b, unit j, with numbers."""
        raise NotImplementedError

    def backward_lines(self, s: Any, b: int, j: int, t: int) -> list[Line]:
        """The backward equations of timestep t for row b, unit j, after ∂L/∂h_t."""
        raise NotImplementedError

    def from_future(self, s: Any, b: int, j: int, t: int) -> tuple[str, float]:
        """What reaches h_t from timestep t + 1 (text with numbers, value). Cells
        without a direct path only have h2g: h_t feeds gh_{t+1} alone."""
        via = self.via_h2g(s, b, j, t)
        return (f"Σ<sub>g</sub> ∂L/∂gh<sub>t+1</sub>[g]·h2g.weight[g, {j}] = "
                f"{fmt(via, self.via_roundoff(s, b, j, t))}", via)

    def future_roundoff(self, s: Any, b: int, j: int, t: int) -> bool:
        """Is what :meth:`from_future` gives round-off (0 in exact arithmetic)?"""
        return self.via_roundoff(s, b, j, t)

    # ------------------------------------------------------------ what this step did, in numbers
    def timestep_facts(self, s: Any, b: int, j: int, t: int) -> str:
        """What timestep t did with its numbers, for row b, unit j (and which unit moved most): rich text,
        the part of the caption and the step help that no other timestep shares."""
        raise NotImplementedError

    def backward_facts(self, s: Any, b: int, j: int, t: int) -> str:
        """How large ∂L/∂h_t is and how much of it came from the future (rich text)."""
        return step_facts.gradient_split(s, b, j, t)

    def substep_facts(self, s: Any, b: int, j: int, t: int, name: str) -> str:
        """The numbers one Step Into stop computed: the range over the batch and row b, unit j's value."""
        if name in ("x2g", "h2g"):
            src = "x" if name == "x2g" else "h"
            H = s.config.hidden_size
            parts = [f"{self.part(block, src)} {step_facts.span(s, 'g' + src, t, b, j, slice(k * H, (k + 1) * H))}"
                     for k, block in enumerate(self.cell.blocks)]
            same = self._same_input(s, src, t)
            what = "x<sub>t</sub>" if src == "x" else "h<sub>t−1</sub>"
            again = "" if same is None else (f" These are the numbers of t = {same} again: {name} sees {what} "
                                             f"alone, and the whole batch's {what} was the same then.")
            return f"At t = {t}, {name} gave " + "; ".join(parts) + "." + again
        return f"At t = {t}, {name} ranges {step_facts.span(s, name, t, b, j)}."

    @staticmethod
    def _same_input(s: Any, src: str, t: int) -> int | None:
        """The first earlier timestep whose input to x2g (src "x": x_in) or h2g ("h": h_{t−1}) was the
        same for the whole batch, bit for bit, or None."""
        if src == "x":
            arr = s.get("x_in")
            return next((k for k in range(t) if np.array_equal(arr[:, k], arr[:, t])), None)
        if t == 0:
            return None
        arr = s.get("h")
        return next((k for k in range(1, t) if np.array_equal(arr[:, k - 1], arr[:, t - 1])), None)

    # ------------------------------------------------------------ captions (plain-ish text, see ui/docs)
    def timestep_caption(self, s: Any, b: int, j: int) -> str:
        """The walk-through caption of the timestep ``s`` stands at: what runs, then what it did."""
        t, T = s.step.t, s.config.context_length
        last = " After this timestep every hidden state of the sequence exists." if t == T - 1 else ""
        return f"{self.caption_intro(t, T)} {self.timestep_facts(s, b, j, t)}{last}"

    def backward_caption(self, s: Any, b: int, j: int) -> str:
        """The walk-through caption of the backward timestep ``s`` stands at."""
        t, T = s.step.t, s.config.context_length
        done = " With t = 0 done, every gradient is complete." if t == 0 else ""
        return f"{self.backward_intro(t, T)} {self.backward_facts(s, b, j, t)}{done}"

    def caption_intro(self, t: int, T: int) -> str:
        """What timestep t of T reads and computes (the first timestep says more)."""
        raise NotImplementedError

    def backward_intro(self, t: int, T: int) -> str:
        return (f"Backward through the {self.title}, timestep t = {t} (time runs backwards, from t = {T - 1} down "
                f"to 0).")

    # ------------------------------------------------------------ helpers for subclasses
    @staticmethod
    def value(s: Any, key: str, b: int, t: int, j: int) -> float:
        return float(s.get(key)[b, t, j])

    def pre(self, s: Any, block: str, src: str, b: int, t: int, j: int) -> float:
        """Block ``block`` of gx (src "x") or gh (src "h") at unit j."""
        H = s.config.hidden_size
        arr = s.get("gx" if src == "x" else "gh")
        return float(arr[b, t, self.cell.blocks.index(block) * H + j])

    @staticmethod
    def prev(s: Any, key: str, b: int, t: int, j: int) -> float:
        """The state ``key`` at t − 1 (zero before the first timestep)."""
        return float(s.get(key)[b, t - 1, j]) if t > 0 else 0.0

    def sigmoid_line(self, s: Any, b: int, j: int, t: int, gate: str, current: bool) -> Line:
        gx, gh, v = self.pre(s, gate, "x", b, t, j), self.pre(s, gate, "h", b, t, j), self.value(s, gate, b, t, j)
        return Line(gate, f"{gate} = σ({self.part(gate, 'x')} + {self.part(gate, 'h')}) = σ({fmt(gx)}{signed(gh)}) = "
                          f"<b>{fmt(v)}</b>", current)

    def tanh_line(self, s: Any, b: int, j: int, t: int, gate: str, current: bool) -> Line:
        gx, gh, v = self.pre(s, gate, "x", b, t, j), self.pre(s, gate, "h", b, t, j), self.value(s, gate, b, t, j)
        return Line(gate, f"{gate} = tanh({self.part(gate, 'x')} + {self.part(gate, 'h')}) = "
                          f"tanh({fmt(gx)}{signed(gh)}) = <b>{fmt(v)}</b>", current)

    @staticmethod
    def roundoff(s: Any, key: str, *index: int) -> bool:
        """Is element ``index`` of ``key`` at the cursor round-off (core/analysis/roundoff marks it)?"""
        check = getattr(s, "roundoff_mask", None)
        if check is None:
            return False
        try:
            mask = check(key)
        except KeyError:
            return False
        return mask is not None and bool(mask[index])

    @staticmethod
    def eps(s: Any) -> float:
        """The unit round-off of the run's numbers."""
        return float(np.finfo(s.config.dtype).eps)

    def via_roundoff(self, s: Any, b: int, j: int, t: int) -> bool:
        """Is :meth:`via_h2g` round-off: every gradient it sums is, or the sum is within their rounding?"""
        g_gh = s.get("grad/gh")[b, t + 1].astype(np.float64)
        terms = g_gh * np.asarray(s.starting_param("h2g.weight"), np.float64)[:, j]
        via = float(terms.sum())
        check = getattr(s, "roundoff_mask", None)
        mask = check("grad/gh") if check is not None else None
        marked = (mask is not None and bool((mask[b, t + 1] | (g_gh == 0)).all()))   # one lookup, not one per g
        return via != 0.0 and (marked or within_rounding(via, terms, self.eps(s)))

    @staticmethod
    def head_roundoff(s: Any, b: int, j: int, t: int) -> bool:
        """Is the head's part of ∂L/∂h_t (:meth:`head_part`) within the rounding of the sum it is?
        (With every row of lm_head.weight equal it is 0 in exact arithmetic: Σ_v (p_v − y_v) = 0.)"""
        terms = s.get("grad/logits")[b, t].astype(np.float64) * np.asarray(s.starting_param("lm_head.weight")[:, j], np.float64)
        return within_rounding(float(terms.sum()), terms, CellUI.eps(s))

    @staticmethod
    def via_h2g(s: Any, b: int, j: int, t: int) -> float:
        """Σ_g ∂L/∂gh_{t+1}[g] · h2g.weight[g, j]: what reaches h_t through h2g at t + 1."""
        g_gh = s.get("grad/gh")[b, t + 1].astype(np.float64)
        # the weights back-propagation used (before the update, also when read after it)
        return float(np.dot(g_gh, np.asarray(s.starting_param("h2g.weight"), np.float64)[:, j]))

    @staticmethod
    def head_part(s: Any, b: int, j: int, t: int) -> tuple[Line, float]:
        """∂L/∂h_t from this position's prediction through the output dropout and the head."""
        W_head = s.starting_param("lm_head.weight")
        g_logits = s.get("grad/logits")
        m_out = float(s.get("dropout_out_mask")[b, t, j])
        head_sum = float(np.dot(g_logits[b, t].astype(np.float64), np.asarray(W_head[:, j], np.float64)))
        direct = m_out * head_sum
        noise = CellUI.head_roundoff(s, b, j, t)
        dh = "∂L/∂" + sub("h", "t")
        cfg = s.config
        line = Line("head", f"{dh} (from the head) = m<sub>out</sub> · Σ<sub>v</sub> ∂L/∂logit<sub>v</sub>·"
                            f"lm_head.weight[v, {j}] = {fmt(m_out)}·{factor(head_sum, noise)} = {fmt(direct, noise)}"
                            f"&nbsp;&nbsp;(∂L/∂logit<sub>v</sub> = (p<sub>v</sub> − [v = y]) / (B·T), "
                            f"B·T = {cfg.batch_size * cfg.context_length})")
        return line, direct


TANH_KIND, UNIT_KIND = TANH, UNIT
