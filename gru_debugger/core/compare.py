"""The same batch through every cell: how their losses and gradients compare.

Each cell gets the current embedding, head, dropout masks and batch; its own
x2g and h2g are the current ones for the chosen cell and freshly drawn with
their schemes for the others (their shapes differ). The measure of vanishing
is grad/h_last, the gradient of the last position's loss alone: the total
dL/dh_t gets a fresh term from every position's own prediction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cells import CELLS
from .engine import ModelState, Trace, compute_trace, init_param

RECURRENT = ("x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias")


@dataclass(frozen=True)
class CellResult:
    cell: str
    loss: float
    loss_after: float
    last_norms: np.ndarray    # (T,) ‖dL_last/dh_t‖ over batch rows and units
    total_norms: np.ndarray   # (T,) ‖dL/dh_t‖


def _norms(arr: np.ndarray) -> np.ndarray:
    return np.sqrt((arr.astype(np.float64) ** 2).sum(axis=(0, 2)))


def result_of(cell: str, trace: Trace) -> CellResult:
    return CellResult(cell, float(trace["loss"]), float(trace["loss_after"]), _norms(trace["grad/h_last"]),
                      _norms(trace["grad/h"]))


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
