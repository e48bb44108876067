"""The cell panel: one timestep of the chosen cell for every batch row.

Built from the cell's declarations: per block of x2g/h2g rows the
pre-activation from the input, the one from h(t−1) and the gate it makes;
then the state(s) the timestep starts from and ends with; the two weight
matrices on the right.
"""
from __future__ import annotations

from functools import lru_cache

from ...core.analysis.snapshot import Snapshot
from ..cells import cell_view
from ..widgets import kinds
from ..widgets.heatmap import HeatmapData
from ..widgets.view_state import ViewState
from .spec_helpers import at_t_view, cell_writes, gru_t, outline, param_view, prev_view
from .tensor_panel import Spec


def reads(snap: Snapshot) -> frozenset[str]:
    """The heatmaps (by spec name) the current step only reads: their titles are muted."""
    t, subs, main = cell_writes(snap)
    if t is None:
        return frozenset()
    cell = snap.cell
    if len(subs) > 1:  # a whole timestep: from h(t−1) (and c(t−1)) and the weights
        return frozenset({f"{s}_prev" for s in cell.state} | {"x2g.weight", "h2g.weight"})
    if main == "x2g":
        return frozenset({"x2g.weight"})
    if main == "h2g":
        return frozenset({"h2g.weight", "h_prev"})
    if main in cell.blocks:
        extra = {"r"} if snap.config.cell == "gru" and main == "n" else set()   # n = tanh(nx + r ⊙ nh)
        return frozenset({f"{main}x", f"{main}h"} | extra)
    if main == "c":  # the LSTM's c = f ⊙ c(t−1) + i ⊙ g
        return frozenset({"i", "f", "g", "c_prev"})
    return frozenset()


def _muted(spec: HeatmapData, snap: Snapshot, name: str) -> HeatmapData:
    if not spec.emphasis and name in reads(snap):
        outline(spec, False, read=True)
    return spec


def _at_t(key: str, title: str, sub: str, block: str | None = None, name: str = ""):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return _muted(at_t_view(snap, key, title, sub, gru_t(snap), block), snap, name)
    build.__name__ = f"at_t_{block or ''}{key}"
    return build


def _prev(state: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return _muted(prev_view(snap, gru_t(snap), state), snap, f"{state}_prev")
    build.__name__ = f"prev_{state}"
    return build


def _weights(name: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        blocks = " | ".join(snap.cell.blocks)
        return _muted(param_view(snap, name, title=f"{name}  (rows {blocks})"), snap, name)
    build.__name__ = f"weights_{name}"
    return build


@lru_cache(maxsize=8)
def cell_specs(cell_name: str) -> tuple[Spec, ...]:
    view = cell_view(cell_name)
    cell = view.cell
    specs: list[Spec] = []
    for row, block in enumerate(cell.blocks):
        px, ph = view.part(block, "x", rich=False), view.part(block, "h", rich=False)
        specs.append(Spec(f"{block}x", kinds.SIGNED, row, 0,
                          _at_t("gx", f"{px} = x2g(x)[{block}]", "x2g", block, f"{block}x")))
        specs.append(Spec(f"{block}h", kinds.SIGNED, row, 1,
                          _at_t("gh", f"{ph} = h2g(h)[{block}]", "h2g", block, f"{block}h")))
        if block in cell.gates:
            specs.append(Spec(block, view.kind(block), row, 2, _at_t(block, view.gate_titles[block], block, name=block)))
    row = len(cell.blocks)
    for state in sorted(cell.state, key=cell.gates.index):   # c before h
        specs.append(Spec(f"{state}_prev", view.kind(state), row, 0, _prev(state)))
        if state not in cell.blocks:
            specs.append(Spec(state, view.kind(state), row, 2, _at_t(state, view.gate_titles[state], state, name=state)))
        row += 1
    half = max(1, row // 2)
    specs.append(Spec("x2g.weight", kinds.SIGNED, 0, 3, _weights("x2g.weight"), editable_param="x2g.weight",
                      rowspan=half))
    specs.append(Spec("h2g.weight", kinds.SIGNED, half, 3, _weights("h2g.weight"), editable_param="h2g.weight",
                      rowspan=max(1, row - half)))
    return tuple(specs)


def caption(snap: Snapshot, vs: ViewState) -> str:
    """The timestep the cell panel shows (heatmap titles stay fixed)."""
    t = gru_t(snap)
    if t is None:
        return f"{snap.cell.title}: the cell has not run yet"
    step = snap.step
    sub = f", sub-step {step.sub}" if step is not None and step.phase == "cell" and step.sub != "h" else ""
    return f"{snap.cell.title} · t = {t} of 0…{snap.config.context_length - 1}{sub}  ·  outlined: what this step writes (thickest: its result); muted titles: what it only reads"


def intro(cell_name: str) -> str:
    return cell_view(cell_name).panel_intro
