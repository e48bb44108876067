"""Small functions that turn snapshot arrays into heatmap specs.

Conventions shared by every panel: time runs left to right (columns are
timesteps), hidden units / embedding features / vocabulary are rows, and
three-dimensional (B, T, X) arrays are shown for the selected batch row.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from ...core.analysis import roundoff as _roundoff
from ...core.analysis.snapshot import Snapshot
from ..widgets.heatmap import HeatmapData, symmetric_levels
from ..widgets.view_state import ViewState



def tok(text: str) -> str:
    """A token as it reads on an axis: visible spaces, short end-of-text."""
    return text.replace("<|endoftext|>", "⟨eot⟩").replace(" ", "␣").replace("\n", "⏎")


@lru_cache(maxsize=8)
def axis_tokens(vocab: tuple[str, ...]) -> tuple[str, ...]:
    """Every token of a vocabulary as :func:`tok` writes it (kept: asked for on every step)."""
    return tuple(tok(v) for v in vocab)


def row_of(snap: Snapshot, vs: ViewState) -> int:
    return min(vs.batch_row, snap.config.batch_size - 1)


def unit_of(snap: Snapshot, vs: ViewState) -> int:
    return min(vs.unit, snap.config.hidden_size - 1)


def input_tokens(snap: Snapshot, b: int) -> list[str]:
    vocab = snap.vocab
    return [tok(vocab[i]) for i in snap.final("x")[b]]


def target_tokens(snap: Snapshot, b: int) -> list[str]:
    vocab = snap.vocab
    return [tok(vocab[i]) for i in snap.final("y")[b]]


def gate_rows(H: int, blocks: Sequence[str] = ("z", "r", "n")) -> list[str]:
    return [f"{g}{j}" for g in blocks for j in range(H)]


def units(n: int, prefix: str = "j") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def current_t(snap: Snapshot, phase: str) -> int | None:
    step = snap.step
    return step.t if step is not None and step.phase == phase else None


def gru_t(snap: Snapshot) -> int | None:
    """The timestep the cell panel shows: the running one, else the last."""
    step = snap.step
    if step is not None and step.phase == "cell":
        return step.t
    if snap.phase_complete("cell"):
        return snap.config.context_length - 1
    return None


def batch_row_caption(snap: Snapshot, vs: ViewState) -> str:
    """Caption of panels that show one batch row (heatmap titles stay short)."""
    b = row_of(snap, vs)
    tokens = "".join(input_tokens(snap, b)) if snap.phase_done("batch") else "not cut yet"
    return f"Batch row b = {b}: {tokens}   ·   columns are timesteps"


def roundoff_of(snap: Snapshot, key: str) -> np.ndarray | None:
    """Where ``snap.get(key)`` is round-off (zero in exact arithmetic), or None."""
    check = getattr(snap, "roundoff_mask", None)
    if check is None or not key.startswith(_roundoff.FAMILIES):
        return None
    try:
        return check(key)
    except KeyError:  # not recorded by this cell
        return None


def change_roundoff(snap: Snapshot, name: str) -> np.ndarray | None:
    """Where the weights at the cursor moved only by round-off in the update (None before it)."""
    check = getattr(snap, "change_roundoff_mask", None)
    if check is None:
        return None
    try:
        return check(name)
    except KeyError:
        return None


def mark_changes(spec: HeatmapData, snap: Snapshot, name: str) -> HeatmapData:
    """Hatch the weights of ``spec`` (the weights after the update) that only round-off moved; their
    hover gives the value they keep in exact arithmetic (the weight before the update)."""
    mask = change_roundoff(snap, name)
    if mask is not None and spec.data is not None:
        mark_roundoff(spec, mask)
        before = snap.starting_param(name)
        spec.roundoff_base = before if before.ndim == 2 else before[None, :]
    return spec


def full_roundoff(snap: Snapshot, key: str) -> np.ndarray | None:
    """Where the whole recorded array ``key`` (not a partial sum) is round-off, or None."""
    return snap.final_roundoff_mask(key)


def honest(values: np.ndarray | None, mask: np.ndarray | None) -> np.ndarray | None:
    """The values that are not round-off (for colour scales: round-off must not set them)."""
    if values is None or mask is None or mask.shape != values.shape:
        return values
    return values[~mask]


def mark_roundoff(spec: HeatmapData, mask: np.ndarray | None) -> HeatmapData:
    """Hatch ``mask`` (shaped like the spec's data, or its 1-D source) in ``spec``."""
    if spec.data is not None and mask is not None and mask.any():
        spec.roundoff = np.asarray(mask, dtype=bool).reshape(np.shape(spec.data))
    return spec


# ---------------------------------------------------------------- colour scales by family
# Every heatmap of one family (the cell's pre-activations, one parameter before and after the update,
# one gradient, one update) shares one symmetric range over the whole iteration, read ahead with
# ``snap.final``: colours compare between heatmaps and do not jump while stepping. Gates and states
# have fixed ranges ([0, 1], [−1, 1]: the heatmap's kind). The range is never under MIN_RELATIVE of
# the family's scale, so values that small (round-off, hatched) read as ≈0 instead of full colour.
MIN_RELATIVE = 1e-6


def family_levels(*arrays: np.ndarray | None, scale: float = 1.0) -> tuple[float, float]:
    return symmetric_levels(*arrays, floor=MIN_RELATIVE * scale)


def gradient_scale(snap: Snapshot) -> float:
    """The scale of the gradients of this iteration: the largest final parameter gradient (1 if none)."""
    from ...core.base.config import PARAM_NAMES

    def compute() -> float:
        peaks = [float(np.abs(g[np.isfinite(g)]).max()) for g in (snap.final(f"grad/{n}") for n in PARAM_NAMES)
                 if g.size and np.isfinite(g).any()]
        peak = max(peaks, default=0.0)
        return peak if peak > 0 else 1.0
    return snap.once(("gradient_scale",), compute)


def preactivation_levels(snap: Snapshot) -> tuple[float, float]:
    """One range for every x2g and h2g block at every timestep."""
    return snap.once(("preactivations",), lambda: family_levels(snap.final("gx"), snap.final("gh")))


def parameter_levels(snap: Snapshot, name: str) -> tuple[float, float]:
    """One range for a parameter over the whole iteration, before and after the update (the
    starting weights alone until the update and its round-off check are computed: just after an
    edit they are computed on a worker thread, and the range may then widen). A weight the update
    moved only by round-off counts with the value it keeps (a bias of zeros stays ±1, not ±its
    noise)."""
    updated = snap.final_if_ready(f"updated/{name}")
    if updated is None or not (snap.phase_done("update") or snap.roundoff_known()):
        return family_levels(snap.starting_param(name))   # the check is never made to run here ahead

    def levels() -> tuple[float, float]:
        before = snap.starting_param(name)
        moved = snap.final_change_roundoff_mask(name)
        return family_levels(before, updated if moved is None else np.where(moved, before, updated))
    return snap.once(("parameter", name), levels)


# ---------------------------------------------------------------- what the current step writes
def cell_writes(snap: Snapshot) -> tuple[int | None, frozenset[str], str | None]:
    """(timestep, the cell sub-steps whose results the current step writes, its main result).
    A whole-timestep stop (sub-step "h", where Step stops) writes every sub-step of its timestep."""
    step = snap.step
    if step is None or step.phase != "cell":
        return None, frozenset(), None
    if step.sub == "h":
        return step.t, frozenset(snap.cell.substeps), "h"
    return step.t, frozenset({step.sub}), step.sub


def outline(spec: HeatmapData, written: bool, main: bool = False, read: bool = False) -> HeatmapData:
    """Outline what the step writes (all of it unless a narrower highlight is set); mute what it only reads."""
    if spec.data is None:
        return spec
    if written:
        spec.highlight = spec.highlight or ("all", 0, 0)
        spec.emphasis = "main" if main else "written"
    else:
        spec.highlight = None
        spec.emphasis = "read" if read else ""
    return spec


def writes(build: Callable, phases: Sequence[str], main: bool = False, reads: Sequence[str] = ()) -> Callable:
    """``build``, with its heatmap outlined when the cursor's step is one of ``phases``
    (and muted when it is one of ``reads``)."""
    def wrapped(snap: Snapshot, vs: ViewState):
        spec = build(snap, vs)
        step = snap.step
        if isinstance(spec, HeatmapData) and step is not None:
            if step.phase in phases:
                outline(spec, True, main)
            elif step.phase in reads:
                outline(spec, False, read=True)
        return spec
    wrapped.__name__ = getattr(build, "__name__", "build")
    return wrapped


def missing(title: str, phase_note: str, shape: tuple[int, int] | None = None,
            row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
            levels: tuple[float, float] | None = None) -> HeatmapData:
    """A "not computed yet" placeholder; with ``shape`` (and the labels the numbers will have)
    it is drawn as a dashed box of that size where the numbers will be. ``levels``: the colour
    scale the numbers will have, when a family sets it (so the heatmap keeps the colour bar it
    will share with its neighbours)."""
    return HeatmapData(None, title, note=f"not computed yet ({phase_note})", shape=shape,
                       row_labels=row_labels, col_labels=col_labels, levels=levels)


def time_missing(snap: Snapshot, vs: ViewState, key: str, title: str, note: str,
                 row_labels: Sequence[str] | None = None, row_prefix: str = "j",
                 levels: tuple[float, float] | None = None) -> HeatmapData:
    """The placeholder of :func:`time_view`: an X-by-T box with the labels the numbers will have."""
    try:
        X = snap.final(key).shape[-1]
    except KeyError:   # not recorded in this run: a text-only placeholder
        return missing(title, note, levels=levels)
    b = row_of(snap, vs)
    rows = list(row_labels) if row_labels is not None else units(X, row_prefix)
    return missing(title, note, (X, snap.config.context_length), rows, input_tokens(snap, b), levels)


def time_view(snap: Snapshot, vs: ViewState, key: str, title: str, phase: str, note: str,
              row_labels: Sequence[str] | None = None, row_prefix: str = "j",
              kind_signed: bool = False) -> HeatmapData:
    """A (B, T, X) array for the selected batch row as an X-by-T matrix."""
    arr = snap.get(key)
    if arr is None:
        levels = None
        if kind_signed:
            levels = family_levels(honest(snap.final(key), full_roundoff(snap, key)),
                                   scale=gradient_scale(snap) if key.startswith("grad/") else 1.0)
        return time_missing(snap, vs, key, title, note, row_labels, row_prefix, levels)
    b = row_of(snap, vs)
    data = arr[b].T                                           # (X, T)
    mask = snap.time_mask(key)
    valid = None if mask is None else np.broadcast_to(mask, data.shape)
    t = current_t(snap, phase)
    main = False
    if phase == "cell":  # only the gates the step writes
        _, subs, main_sub = cell_writes(snap)
        t = t if key in subs else None
        main = key == main_sub
    elif phase == "backward":
        main = True
    labels = list(row_labels) if row_labels is not None else units(data.shape[0], row_prefix)
    cols = input_tokens(snap, b)
    roundoff = roundoff_of(snap, key)
    try:  # the family's range over the whole iteration (read ahead)
        final = snap.final(key) if kind_signed else arr
    except KeyError:
        final = arr
    levels = family_levels(honest(final, full_roundoff(snap, key)), honest(arr, roundoff),
                           scale=gradient_scale(snap) if key.startswith("grad/") else 1.0) if kind_signed else None
    if roundoff is not None and levels is None:  # the colour scale comes from the values that are not round-off
        levels = symmetric_levels(honest(data, roundoff[b].T))
    spec = HeatmapData(
        data, title, valid=valid, levels=levels, highlight=None if t is None else ("col", 0, t),
        emphasis="" if t is None else ("main" if main else "written"),
        row_labels=labels, col_labels=[f"{c}" for c in cols],
        row_title="feature" if row_prefix == "e" else "unit", col_title="t (input token)",
        describe=lambda r, c, key=key, b=b, cols=cols:
            f"{key}[b={b}, t={c}, {row_prefix}={r}]  (input token '{cols[c]}')",
    )
    return mark_roundoff(spec, None if roundoff is None else roundoff[b].T)


def batch_time_view(snap: Snapshot, key: str, title: str, note: str) -> HeatmapData:
    """A (B, T) array, rows are batch rows."""
    arr = snap.get(key)
    if arr is None:
        try:
            B, T = snap.final(key).shape
        except KeyError:
            return missing(title, note)
        return missing(title, note, (B, T), [f"b{b}" for b in range(B)], units(T, "t"))
    B = arr.shape[0]
    return HeatmapData(arr, title, row_labels=[f"b{b}" for b in range(B)], col_labels=units(arr.shape[1], "t"),
                       row_title="batch row", col_title="t",
                       describe=lambda r, c, key=key: f"{key}[b={r}, t={c}]")


def _read_only(arr: np.ndarray) -> np.ndarray:
    arr.flags.writeable = False
    return arr


def param_view(snap: Snapshot, name: str, source: str = "param", title: str | None = None) -> HeatmapData:
    """A parameter (or its gradient/update): labels rows by token or gate."""
    cfg = snap.config
    levels, roundoff = None, None
    if source == "param":
        arr = snap.param(name)
        label = title or (f"{name} (updated)" if snap.phase_done("update") else name)
        levels = parameter_levels(snap, name)
    else:
        arr = snap.get(f"{source}/{name}")
        label = title or f"{source}/{name}"
        if arr is None and source == "grad" and snap.phase_done("zero_grad"):
            # zero_grad has run, backward has not: the gradients are zeros
            arr = snap.once(("cleared", name), lambda: _read_only(np.zeros(snap.param(name).shape, np.float32)))
            label += " (cleared)"
        elif arr is None:
            when = "after backward" if source == "grad" else "after the update"
            if source == "grad":   # the gradient family's colour scale (as below, from the final gradient)
                levels = family_levels(honest(snap.final(f"grad/{name}"), full_roundoff(snap, f"grad/{name}")),
                                       scale=gradient_scale(snap))
            return missing(label, when, *param_placeholder(snap, name), levels=levels)
        if (source == "grad" and name != "lm_head.weight" and not snap.phase_complete("backward")
                and not label.endswith("(cleared)")):
            label += " (so far)"  # summed over the timesteps back-propagation has reached
        roundoff = roundoff_of(snap, f"{source}/{name}")
        if source == "grad":  # one colour scale for the whole backward pass: the final gradient's
            final = snap.final(f"grad/{name}")
            levels = family_levels(honest(final, full_roundoff(snap, f"grad/{name}")), honest(arr, roundoff),
                                   scale=gradient_scale(snap))
        elif roundoff is not None:
            levels = family_levels(honest(arr, roundoff), scale=gradient_scale(snap))
    rows, cols, separators = _param_axes(snap, name, cfg.hidden_size, cfg.n_embd)
    data = arr if arr.ndim == 2 else arr[None, :]
    if arr.ndim == 1:
        rows, cols = ["bias"], rows
    spec = HeatmapData(
        data, label, row_labels=rows, col_labels=cols, separators=separators if arr.ndim == 2 else (), levels=levels,
        describe=lambda r, c, name=name, rows=rows, cols=cols, vec=arr.ndim == 1:
            f"{name}[{c}]  ({cols[c]})" if vec else f"{name}[{r}, {c}]  ({rows[r]}, {cols[c]})",
    )
    if source == "param":
        return mark_changes(spec, snap, name) if snap.phase_done("update") else spec
    return mark_roundoff(spec, roundoff)


def param_placeholder(snap: Snapshot, name: str) -> tuple[tuple[int, int], list[str], list[str]]:
    """(shape, row labels, column labels) a parameter's heatmap will have (biases: one row)."""
    cfg = snap.config
    shape = tuple(snap.param(name).shape)
    rows, cols, _ = _param_axes(snap, name, cfg.hidden_size, cfg.n_embd)
    if len(shape) == 1:
        return (1, shape[0]), ["bias"], rows
    return (shape[0], shape[1]), rows, cols


def _param_axes(snap: Snapshot, name: str, H: int, E: int) -> tuple[list[str], list[str], list[int]]:
    vocab = axis_tokens(snap.vocab)
    if name == "wte.weight":
        return vocab, units(E, "e"), []
    if name == "lm_head.weight":
        return vocab, units(H, "j"), []
    blocks = snap.cell.blocks
    separators = [k * H for k in range(1, len(blocks))]
    if name == "x2g.weight":
        return gate_rows(H, blocks), units(E, "e"), separators
    if name == "h2g.weight":
        return gate_rows(H, blocks), units(H, "j"), separators
    return gate_rows(H, blocks), [], []  # biases: one row, gate columns (swapped by param_view)


def at_t_view(snap: Snapshot, key: str, title: str, sub: str, t: int | None,
              block: str | None = None) -> HeatmapData:
    """A (B, T, H) array at timestep t, all batch rows: a B-by-H matrix. With
    ``block``, ``key`` is gx or gh and the block's H columns are shown."""
    B, H = snap.config.batch_size, snap.config.hidden_size
    at_shape = dict(shape=(B, H), row_labels=[f"b{b}" for b in range(B)], col_labels=units(H),
                    levels=_levels_over_time(snap, sub))
    if t is None:
        return missing(title, "the cell has not started", **at_shape)
    arr = snap.get(key)
    mask = snap.time_mask(key)
    if arr is None or mask is None or not mask[t]:
        return missing(title, f"step into t={t}", **at_shape)
    step_t, subs, main_sub = cell_writes(snap)
    writing = step_t == t and sub in subs
    H = snap.config.hidden_size
    if block is not None:
        k = snap.cell.blocks.index(block)
        arr = arr[:, :, k * H:(k + 1) * H]
    B = arr.shape[0]
    name = f"{block}{key[-1]}" if block is not None else key
    return HeatmapData(
        arr[:, t, :], title, highlight=("all", 0, 0) if writing else None, levels=_levels_over_time(snap, sub),
        emphasis=("main" if sub == main_sub else "written") if writing else "",
        row_labels=[f"b{b}" for b in range(B)], col_labels=units(H),
        describe=lambda r, c, name=name, t=t: f"{name}[b={r}, t={t}, j={c}]",
    )


def _levels_over_time(snap: Snapshot, sub: str) -> tuple[float, float] | None:
    """Pre-activations share one colour scale (every block, both sources, all timesteps) and
    the LSTM's cell state keeps one over all timesteps, c(t−1) included (colours compare across
    t, the colour bar does not jump); gates and h have fixed ones."""
    if sub in ("x2g", "h2g"):
        return preactivation_levels(snap)
    return family_levels(snap.final("c")) if sub == "c" else None


def prev_view(snap: Snapshot, t: int | None, state: str = "h") -> HeatmapData:
    """The state a timestep starts from: h(t-1) (or c(t-1)), zero at t = 0."""
    title = f"{state}(t-1)"
    B, H = snap.config.batch_size, snap.config.hidden_size
    levels = _levels_over_time(snap, state)   # the state's own scale (c), or its kind's (h)
    if t is None:
        return missing(title, "the cell has not started", (B, H), [f"b{b}" for b in range(B)], units(H), levels)
    if t == 0:
        return HeatmapData(np.zeros((B, H), np.float32), title, levels=levels or (-1.0, 1.0),
                           row_labels=[f"b{b}" for b in range(B)], col_labels=units(H),
                           describe=lambda r, c: f"{state}_prev[b={r}, j={c}] (initial state)")
    data = at_t_view(snap, state, title, state, t - 1)   # t − 1 is never the step's own timestep
    data.highlight = None
    data.emphasis = ""
    return data


def h_prev_view(snap: Snapshot, t: int | None) -> HeatmapData:
    return prev_view(snap, t, "h")
