"""The Compare cells panel: GRU, LSTM and plain RNN on the same batch.

Each cell has its colour; the same embedding, head, masks and batch, each with
its own x2g/h2g (the current ones for the chosen cell). The left plot is the
long-range measure along what carries each cell's memory: h for every cell
(solid) and, for the LSTM, also its cell state c (dashed). Computed only while
the panel is on screen (three iterations' worth of work).

What the plots and the caption show follows the cursor, as everywhere else:
gradients fill in as back-propagation runs, losses appear at the Loss step,
the losses after the update once the second forward pass has run. A timestep
whose norm is only round-off (zero in exact arithmetic, core/analysis/compare) is not
drawn; the notice above the plots names the curves that are.
"""
from __future__ import annotations

import numpy as np

from ...core.model.cells import CELLS
from ...core.analysis.compare import CellResult, Curve
from ...core.analysis.snapshot import Snapshot
from ..widgets.curve import CurveData
from ..widgets.view_state import ViewState
from .gradients import empty_corner, y_range_of
from .tensor_panel import Spec

COLOURS = {"gru": "#4a90d9", "lstm": "#d0342c", "rnn": "#2e9e5b"}   # one per cell, in both plots
NOT_YET = "not computed yet (backward)"


def _log(norms: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.where(norms > 0, np.log10(np.where(norms > 0, norms, 1.0)), np.nan)


def _cell_name(snap: Snapshot, name: str) -> str:
    return CELLS[name].title + (" (chosen)" if name == snap.config.cell else "")


def _curves(snap: Snapshot, which: str) -> list[tuple[str, str, Curve]]:
    """(cell, legend name, curve) of one plot: "long" (grad/h_last, grad/c_last) or "total" (grad/h)."""
    out = []
    for name, result in snap.compare_cells().items():
        if which == "total":
            assert result.total is not None
            out.append((name, f"{_cell_name(snap, name)}", result.total))
        else:
            for state, curve in result.long_range.items():
                out.append((name, f"{_cell_name(snap, name)}: {state}", curve))
    return out


def _scale(snap: Snapshot, which: str) -> float:
    """The total's gradient per position: L is the mean over T positions, T·L their sum."""
    return float(snap.config.context_length) if which == "total" else 1.0


def _left_out(curve: Curve, T: int) -> str:
    """What the legend says of a curve's timesteps that cannot be drawn: round-off, or exactly 0
    (no point on a log scale)."""
    parts = [f"{what} at {n} of {T} steps" for what, n in
             (("round-off", int(curve.roundoff.sum())), ("exactly 0", int((curve.norms == 0).sum()))) if n]
    return f" ({', '.join(parts)}: not drawn)" if parts else ""


def _curve(which: str, title: str, fixed_corner: str | None = None):
    def build(snap: Snapshot, vs: ViewState) -> CurveData:
        T = snap.config.context_length
        axes = dict(x_title="t", y_title="log10 of the norm")
        if not snap.phase_done("backward"):
            return CurveData(title, note=NOT_YET, **axes)
        reached = snap.time_mask("grad/h")          # the timesteps back-propagation has reached
        ys, pens, full = {}, {}, []
        for cell, label, curve in _curves(snap, which):
            if not curve.signal.any():
                continue                             # only round-off or exactly 0: named in the notice
            logs = np.where(curve.signal, _log(curve.norms * _scale(snap, which)), np.nan)
            full.append(logs)
            label += _left_out(curve, T)
            ys[label] = np.where(reached, logs, np.nan) if reached is not None else logs
            pens[label] = (COLOURS.get(cell, "#888888"), curve.key == "grad/c_last")
        note = "" if ys else "only round-off: nothing to draw"
        corner = empty_corner(full, T) if fixed_corner is None else fixed_corner
        return CurveData(title, x=np.arange(T, dtype=float), ys=ys, **axes, x_range=(0.0, max(T - 1, 1.0)),
                         y_range=y_range_of(*full), note=note, pens=pens, legend_corner=corner)
    build.__name__ = f"compare_{which}"
    return build


SPECS = (
    Spec("compare_last", "curve", 0, 0, _curve(
        "long", "The last position's loss, back in time: ‖dL_last/dh_t‖, LSTM also ‖dL_last/dc_t‖ (dashed)")),
    Spec("compare_total", "curve", 0, 1, _curve("total", "Every position's loss: ‖T · dL/dh_t‖", "top right")),
)


def _losses(results: dict[str, CellResult], after: bool) -> str:
    if after:
        return "   ·   ".join(f"{CELLS[n].title} {r.loss:.4f} → {r.loss_after:.4f}" for n, r in results.items())
    return "   ·   ".join(f"{CELLS[n].title} {r.loss:.4f}" for n, r in results.items())


def caption(snap: Snapshot, vs: ViewState) -> str:
    if not snap.phase_done("loss"):
        return "Loss: not computed yet (the Loss step computes it for every cell)."
    results = snap.compare_cells()
    if snap.phase_done("forward_after"):
        return "Loss before → after the update:  " + _losses(results, after=True)
    return "Loss before the update:  " + _losses(results, after=False) + "   (after it: once the update has run)"


def notice(snap: Snapshot):
    """Which curves are not drawn, being only round-off (or exactly 0), from Zero grad on (as the
    Gradients panel's notice: the layout does not jump at the first backward step)."""
    if not snap.phase_done("zero_grad"):
        return None
    curves = {which: _curves(snap, which) for which in ("long", "total")}
    hidden = {which: [(label, curve) for _, label, curve in found if not curve.signal.any()]
              for which, found in curves.items()}
    if not any(hidden.values()):
        return None
    why = f"0 in exact arithmetic, non-zero in {snap.config.dtype} only through rounding"
    if all(len(hidden[which]) == len(found) for which, found in curves.items()):
        rounding = [curve.roundoff.any() for found in hidden.values() for _, curve in found]
        if all(rounding):
            return f"Every curve is only round-off ({why}): nothing to draw, and no vanishing gradient.", None
        if not any(rounding):
            return "Every curve is exactly 0 (no gradient reaches the cells' memory): nothing to draw.", None
    parts = []
    for what, test in ((f"only round-off ({why})", lambda c: c.roundoff.any()),
                       ("exactly 0", lambda c: not c.roundoff.any())):
        names = [f"{label} ({'left' if which == 'long' else 'right'})"
                 for which, found in hidden.items() for label, curve in found if test(curve)]
        if names:
            parts.append(f"{', '.join(names)}: {what}")
    return "Not drawn: " + "; ".join(parts) + ".", None


INTRO = ("One batch, embedding, head and dropout masks through each cell (x2g and h2g: the chosen cell's current "
         "ones, the others' drawn by their schemes). Left: how much of the last position's loss reaches the memory "
         "at t: h_t, and the LSTM's cell state c_t (dashed); a steep fall towards t = 0 is a vanishing gradient, a "
         "rise an exploding one. Right: the sum of the T positions' losses (T · L), each adding its own term. "
         "Values that are only round-off (0 in exact arithmetic) are not drawn.")
