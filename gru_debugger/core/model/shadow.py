"""The float64 twin of a state, which round-off (roundoff.py), the precision check (precision.py)
and the gradient check (gradcheck.py) each recompute an iteration from."""
from __future__ import annotations

from .engine import ModelState


def shadow_state(state: ModelState) -> ModelState:
    """``state`` in float64: the same weights cast, the same seed (so the same
    dropout masks), iteration and position."""
    if state.config.dtype == "float64":
        return state
    cfg = state.config.with_changes(dtype="float64")
    params = {name: tensor.detach().double() for name, tensor in state.params.items()}
    return ModelState(cfg, params, state.iteration, state.position, state.base_seed)
