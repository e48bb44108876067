"""The same batch through every cell: how their losses and gradients compare.

Each cell gets the current embedding, head, dropout masks and batch; its own
x2g and h2g are the current ones for the chosen cell and freshly drawn with
their schemes for the others (their shapes differ). The long-range measure is
the gradient of the last position's loss alone with respect to what carries
the memory: h for every cell (grad/h_last) and, for the LSTM, also its cell
state c (grad/c_last), along which its memory runs. The total dL/dh_t gets a
fresh term from every position's own prediction.

A timestep whose norm is only round-off (zero in exact arithmetic: the float64
recomputation of core/analysis/roundoff says so) is marked, so that a view never draws
rounding noise as a vanishing gradient.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from ..model.cells import CELLS, get_cell
from ..model.engine import ModelState, Trace, compute_trace, init_param
from .roundoff import roundoff_mask

RECURRENT = ("x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias")


@dataclass(frozen=True)
class Curve:
    """The norm of one recorded gradient per timestep, and where that norm is only round-off."""

    key: str                  # the trace key, e.g. "grad/c_last"
    norms: np.ndarray         # (T,) over batch rows and units, float64
    roundoff: np.ndarray      # (T,) bool: every non-zero element at t is rounding noise (0 exactly)

    @property
    def signal(self) -> np.ndarray:
        """(T,) bool: a non-zero norm that is not round-off."""
        return (self.norms > 0) & ~self.roundoff


@dataclass(frozen=True)
class CellResult:
    cell: str
    loss: float
    loss_after: float
    long_range: Mapping[str, Curve] = field(default_factory=dict)  # carried state ("h", "c") -> grad/{s}_last
    total: Curve | None = None                                     # grad/h, the gradient of the mean loss

    @property
    def last_norms(self) -> np.ndarray:
        """(T,) ‖dL_last/dh_t‖ over batch rows and units."""
        return self.long_range["h"].norms

    @property
    def total_norms(self) -> np.ndarray:
        """(T,) ‖dL/dh_t‖."""
        assert self.total is not None
        return self.total.norms


def _norms(arr: np.ndarray) -> np.ndarray:
    return np.sqrt((arr.astype(np.float64) ** 2).sum(axis=(0, 2)))


def curve_of(trace: Trace, key: str) -> Curve:
    """``trace[key]``'s norm per timestep with its round-off timesteps (see core/analysis/roundoff)."""
    arr = trace[key]
    nonzero = arr != 0
    mask = roundoff_mask(trace, key)
    if mask is None:
        roundoff = np.zeros(arr.shape[1], dtype=bool)
    else:
        roundoff = nonzero.any(axis=(0, 2)) & ~(nonzero & ~mask).any(axis=(0, 2))
    return Curve(key, _norms(arr), roundoff)


def result_of(cell: str, trace: Trace) -> CellResult:
    carried = get_cell(cell).state                      # ("h",) or ("h", "c")
    long_range = {name: curve_of(trace, f"grad/{name}_last") for name in carried}
    return CellResult(cell, float(trace["loss"]), float(trace["loss_after"]), long_range,
                      curve_of(trace, "grad/h"))


def state_for(state: ModelState, cell: str) -> ModelState:
    """``state`` with another cell: same everything, x2g/h2g drawn for that cell."""
    if cell == state.config.cell:
        return state
    cfg = state.config.with_changes(cell=cell)
    vocab = state.params["wte.weight"].shape[0]
    params = dict(state.params)
    for name in RECURRENT:
        params[name] = init_param(cfg, name, vocab, state.base_seed).to(state.params[name].dtype)
    return ModelState(cfg, params, state.iteration, state.position, state.base_seed)


_CACHE: dict[int, tuple[ModelState, dict[str, CellResult]]] = {}


def compare_cells(state: ModelState, current: Trace | None = None) -> dict[str, CellResult]:
    """Every registered cell on this state's batch (cached per state)."""
    hit = _CACHE.get(id(state))
    if hit is not None and hit[0] is state:
        return hit[1]
    out = {}
    for name in CELLS:
        if name == state.config.cell and current is not None:
            out[name] = result_of(name, current)
        else:
            out[name] = result_of(name, compute_trace(state_for(state, name)))
    _CACHE.clear()  # one entry: the comparison follows the current state
    _CACHE[id(state)] = (state, out)
    return out
