"""The cell panel: one timestep of the chosen cell for every batch row.

Built from the cell's declarations: per block of x2g/h2g rows the
pre-activation from the input, the one from h(t−1) and the gate it makes;
then the state(s) the timestep starts from and ends with; the two weight
matrices on the right.
"""
from __future__ import annotations

from functools import lru_cache

from ...core.snapshot import Snapshot
from ..cells import cell_view
from ..widgets import kinds
from ..widgets.heatmap import HeatmapData
from ..widgets.view_state import ViewState
from .spec_helpers import at_t_view, gru_t, param_view, prev_view
from .tensor_panel import Spec


def _at_t(key: str, title: str, sub: str, block: str | None = None):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return at_t_view(snap, key, title, sub, gru_t(snap), block)
    build.__name__ = f"at_t_{block or ''}{key}"
    return build


def _prev(state: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        return prev_view(snap, gru_t(snap), state)
    build.__name__ = f"prev_{state}"
    return build


def _weights(name: str):
    def build(snap: Snapshot, vs: ViewState) -> HeatmapData:
        blocks = " | ".join(snap.cell.blocks)
        return param_view(snap, name, title=f"{name}  (rows {blocks})")
    build.__name__ = f"weights_{name}"
    return build


@lru_cache(maxsize=8)
def cell_specs(cell_name: str) -> tuple[Spec, ...]:
    view = cell_view(cell_name)
    cell = view.cell
    specs: list[Spec] = []
    for row, block in enumerate(cell.blocks):
        specs.append(Spec(f"{block}x", kinds.SIGNED, row, 0, _at_t("gx", f"{block}x = x2g(x)[{block}]", "x2g", block)))
        specs.append(Spec(f"{block}h", kinds.SIGNED, row, 1, _at_t("gh", f"{block}h = h2g(h)[{block}]", "h2g", block)))
        if block in cell.gates:
            specs.append(Spec(block, view.kind(block), row, 2, _at_t(block, view.gate_titles[block], block)))
    row = len(cell.blocks)
    for state in sorted(cell.state, key=cell.gates.index):   # c before h
        specs.append(Spec(f"{state}_prev", view.kind(state), row, 0, _prev(state)))
        if state not in cell.blocks:
            specs.append(Spec(state, view.kind(state), row, 2, _at_t(state, view.gate_titles[state], state)))
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
    return f"{snap.cell.title} · t = {t} of 0…{snap.config.context_length - 1}{sub}  ·  outlined: what this step writes"


def intro(cell_name: str) -> str:
    return cell_view(cell_name).panel_intro
