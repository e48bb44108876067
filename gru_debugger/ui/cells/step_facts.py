"""What one timestep did, in numbers: the sentences that make each timestep's
caption and step help its own (no Qt).

Every number comes from the snapshot. A difference no larger than the
rounding of the values it is taken from is written "≈0 (round-off)", and a
gradient the round-off check (core/analysis/roundoff) marks is never quoted as a
number: both would otherwise pass for signal.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..widgets.equation_format import fmt, sub, tok

ROUNDING_ULPS = 4.0   # a difference within this many units in the last place of its operands is round-off
ROUNDOFF_TEXT = "≈0 (round-off)"


def eps(s: Any) -> float:
    """The machine epsilon of the snapshot's precision."""
    return float(np.finfo(np.float64 if s.config.dtype == "float64" else np.float32).eps)


def index(name: str, t: int) -> str:
    """h<sub>3</sub>, h<sub>−1</sub>: a concrete timestep index, never a symbolic one mixed in."""
    return sub(name, str(t).replace("-", "−"))


def is_rounding(s: Any, delta: float, *operands: float) -> bool:
    """True when ``delta`` (a difference of recorded values) is no larger than their rounding."""
    scale = max([abs(float(v)) for v in operands] + [np.finfo(np.float32).tiny])
    return abs(delta) <= ROUNDING_ULPS * eps(s) * scale


def change(s: Any, new: float, old: float) -> str:
    """|new − old| as the captions write it: exactly 0, ≈0 (round-off), or the number."""
    delta = abs(float(new) - float(old))
    if delta == 0.0:
        return "0 (unchanged)"
    if is_rounding(s, delta, new, old):
        return ROUNDOFF_TEXT
    return fmt(delta)


def state_at(s: Any, key: str, b: int | slice, t: int) -> np.ndarray:
    """The state ``key`` at timestep t (zeros before the first), float64."""
    arr = s.get(key)
    if t < 0:
        return np.zeros_like(np.asarray(arr[b, 0], dtype=np.float64))
    return np.asarray(arr[b, t], dtype=np.float64)


def most_moved(s: Any, key: str, b: int, t: int) -> str:
    """Where in the batch the state ``key`` moved most at timestep t (row and unit), and by how much."""
    new, old = state_at(s, key, slice(None), t), state_at(s, key, slice(None), t - 1)   # (B, H)
    delta = np.abs(new - old)
    B, H = delta.shape
    r, k = np.unravel_index(int(np.argmax(delta)), delta.shape)
    bound = ROUNDING_ULPS * eps(s) * max(float(np.abs(new).max()), float(np.abs(old).max()), 1e-30)
    if float(delta.max()) <= bound:
        return f" Nowhere in the batch did {key} move by more than round-off."
    by = change(s, new[r, k], old[r, k])
    if H > 1 and float((delta.max(axis=1) - delta.min(axis=1)).max()) <= bound:
        where = f"in row {r}" if B > 1 else "in its one row"
        return (f" Over the batch {key} moved most {where}: by {by}; every unit of a row moves alike here (their "
                f"weights and inputs are the same, so they compute the same).")
    where = f"row {r}, unit {k}" if B > 1 else f"unit {k}"
    return f" Over the batch {key} moved most at {where}: by {by}."


def norm_text(values: np.ndarray, roundoff: np.ndarray | None) -> str:
    """‖values‖ without its round-off elements ("≈0 (round-off)" if that leaves nothing non-zero)."""
    v = np.asarray(values, dtype=np.float64)
    if roundoff is not None:
        v = np.where(np.asarray(roundoff, dtype=bool).reshape(v.shape), 0.0, v)
        if not v.any() and np.asarray(values).any():
            return ROUNDOFF_TEXT
    return fmt(float(np.linalg.norm(v)))


def rounding_mask(s: Any, part: np.ndarray, *operands: np.ndarray) -> np.ndarray:
    """Where ``part`` (a difference of recorded arrays) is no larger than the rounding of its operands."""
    scale = np.maximum.reduce([np.abs(np.asarray(o, dtype=np.float64)) for o in operands])
    return np.abs(part) <= ROUNDING_ULPS * eps(s) * scale


def head_parts(s: Any, t: int) -> np.ndarray:
    """∂L/∂h_t from each position's own loss (through the output dropout and the head), (B, H) float64.
    Kept with the iteration's numbers: the page made ahead in idle time and the click share it."""
    once = getattr(s, "once", None)
    if once is not None:
        return once(("step_facts.head_parts", t), lambda: _head_parts(s, t))
    return _head_parts(s, t)


def _head_parts(s: Any, t: int) -> np.ndarray:
    g_logits = np.asarray(s.get("grad/logits")[:, t], dtype=np.float64)           # (B, V)
    W = np.asarray(s.starting_param("lm_head.weight"), dtype=np.float64)          # (V, H), what backward used
    mask = np.asarray(s.get("dropout_out_mask")[:, t], dtype=np.float64)         # (B, H)
    return mask * (g_logits @ W)


def own_loss(s: Any, b: int, t: int) -> str:
    """Row b's loss at position t: the term that enters back-propagation here and nowhere else."""
    y = int(s.get("y")[b, t])
    return f"−log p(y = {tok(s, y)}) = {fmt(s.get('loss_per_position')[b, t])}"


def gradient_split(s: Any, b: int, j: int, t: int, detail: Any = None) -> str:
    """How large ∂L/∂h_t is and how much came from the future (through h_{t+1}) vs this position's own
    loss: for row b, unit j, and as norms over the batch."""
    T = s.config.context_length
    total = np.asarray(s.get("grad/h")[:, t], dtype=np.float64)                    # (B, H)
    mask = s.roundoff_mask("grad/h")
    ro = None if mask is None else np.asarray(mask[:, t], dtype=bool)
    dh = "∂L/∂" + index("h", t)
    loss = f" Row {b}'s own loss at this position is {own_loss(s, b, t)}."
    # ``detail(t)``: the cell's own split of the future part (row b, unit j), "" when there is none
    if ro is not None and bool(np.array_equal(ro, total != 0)) and ro.any():
        why = _why(s)
        return (f"Every {dh} of this timestep is round-off, drawn hatched as ≈0: it is zero in exact "
                f"arithmetic{why}.{loss}")
    own = head_parts(s, t)
    future = total - own if t < T - 1 else np.zeros_like(total)
    if ro is not None and ro[b, j]:
        row = f"For row {b}, unit {j}, {dh} is {ROUNDOFF_TEXT}."
    elif t == T - 1:
        row = (f"For row {b}, unit {j}, {dh} = {fmt(total[b, j])}, all of it from this position's own loss "
               f"(there is no future).")
    else:
        row = (f"For row {b}, unit {j}, {dh} = {fmt(total[b, j])}: {part_of(s, own[b, j], total[b, j])} from this "
               f"position's own loss (through the head) and {part_of(s, future[b, j], total[b, j])} from the future "
               f"(through {index('h', t + 1)}).")
    size = f" Over the batch ‖{dh}‖ = {norm_text(total, ro)}"
    if t == T - 1:
        size += "."
    else:
        noise = rounding_mask(s, future, total, own) | (ro if ro is not None else False)
        size += (f": the own-loss part has norm {norm_text(own, ro)}, the part from the future "
                 f"{norm_text(future, noise)}.")
    more = detail(t) if detail is not None and t < T - 1 and not (ro is not None and ro[b, j]) else ""
    return row + size + (f" {more}" if more else "") + loss


def part_of(s: Any, part: float, total: float) -> str:
    """One part of a sum, ≈0 (round-off) when it is no larger than the sum's rounding."""
    if part != 0.0 and is_rounding(s, part, total):
        return ROUNDOFF_TEXT
    return fmt(part)


def _why(s: Any) -> str:
    found = s.diagnosis() if hasattr(s, "diagnosis") else None
    text = found.text.split(":")[0].rstrip(".") if found is not None and found.text else ""
    return f" ({text})" if text else ""


def span(s: Any, key: str, t: int, b: int, j: int, block: slice | None = None) -> str:
    """The range of ``key`` over the batch at timestep t, and row b, unit j's value: one sub-step's numbers."""
    arr = np.asarray(s.get(key)[:, t], dtype=np.float64)
    if block is not None:
        arr = arr[:, block]
    return (f"from {fmt(arr.min())} to {fmt(arr.max())} over the batch (mean {fmt(arr.mean())}; row {b}, unit {j}: "
            f"{fmt(arr[b, j])})")
