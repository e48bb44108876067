"""Which recorded gradients are rounding noise rather than signal.

With the notebook's constant initialisation every row of ``lm_head.weight``
is the same, so in exact arithmetic dL/dh_t is zero and nothing upstream of
the head gets any gradient. In float32 the sums that should cancel leave
values around 1e-8: rounding noise that looks like a (small) gradient.

Method (see README, "How round-off is detected"): the same iteration is
recomputed in float64 (a "shadow": the same weights cast to float64, the same
batch, the same dropout masks). An element of a ``grad/*`` or ``update/*``
array is round-off when

    its recorded value is not exactly zero,
    |float64 value| <= ROUNDOFF_RTOL * scale, and
    |float32 value| > DISAGREEMENT * |float64 value|  (float32 shows its
    rounding floor, not the value; or float32 gives exactly 0 for a value
    float32 could hold)

where ``scale`` is the family's natural size: the largest magnitude of any
gradient the float64 shadow recorded (``grad/*``), times the learning rate
for ``update/*``. Float64 leaves cancellation noise around 1e-16 of that
scale and float32 around 1e-8, while a true gradient of 1e-12 of the largest
one cannot be shown meaningfully in float32 anyway; ROUNDOFF_RTOL = 1e-12
DISAGREEMENT = 1e3                                  # float32 at least this many times the float64 value
FLOAT32_TINY = float(np.finfo(np.float32).tiny)     # below this, float32 cannot hold the value at all
sits between the two with four orders of magnitude to spare on either side.
The last condition keeps a true but tiny gradient (a vanishing one, which
float32 reproduces to its usual relative accuracy) from being marked. For a
float64 trace the roles swap: the trace is the float64 side and a float32
recomputation is the other (the same rule then marks float64's own
cancellation noise).

The shadow costs one more iteration in the other precision; it is computed only when a
round-off question is first asked about a trace, and kept as long as the
trace lives, so stepping never pays for it.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..model.engine import ModelState, Trace, gradients_and_updates, shadow_pass
from . import precision
from ..model.shadow import shadow_state

ROUNDOFF_RTOL = 1e-12
DISAGREEMENT = 1e3                                  # float32 at least this many times the float64 value
FLOAT32_TINY = float(np.finfo(np.float32).tiny)     # below this, float32 cannot hold the value at all
FAMILIES = ("grad/", "update/")


@dataclass(frozen=True)
class _Result:
    masks: Mapping[str, np.ndarray | None]   # key -> bool mask of round-off elements, or None
    scale: float                             # largest |gradient| in the float64 shadow


_cache: "weakref.WeakKeyDictionary[Trace, _Result]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def shadow_arrays(trace: Trace) -> Mapping[str, np.ndarray] | None:
    """The float64 gradients and updates of ``trace``'s iteration (its own arrays if it is float64),
    or None if the trace does not know its state. The same float64 pass answers the precision
    check of the forward values (core/analysis/precision), which is kept with the trace."""
    if trace.state is None:
        return None
    if trace.state.config.dtype == "float64":
        return trace.arrays
    forward, shadow = shadow_pass(shadow_state(trace.state), trace.inputs)  # handed: no tokenizer cache
    precision.remember(trace, forward)
    return shadow


def _float32_arrays(trace: Trace) -> Mapping[str, np.ndarray]:
    """The float32 gradients and updates of a float64 ``trace``'s iteration (weights cast)."""
    state = trace.state
    assert state is not None
    cfg = state.config.with_changes(dtype="float32")
    params = {name: tensor.detach().float() for name, tensor in state.params.items()}
    return gradients_and_updates(ModelState(cfg, params, state.iteration, state.position, state.base_seed),
                                 trace.inputs)


def _compute(trace: Trace) -> _Result:
    shadow = shadow_arrays(trace)
    if shadow is None:
        return _Result({}, 0.0)
    single = trace.arrays if shadow is not trace.arrays else _float32_arrays(trace)
    scale = max((float(np.abs(v).max()) for k, v in shadow.items() if k.startswith("grad/") and v.size),
                default=0.0)
    lr = abs(float(trace.state.config.learning_rate)) if trace.state is not None else 1.0
    masks: dict[str, np.ndarray | None] = {}
    for key in trace.arrays:
        if not key.startswith(FAMILIES) or key not in shadow or key not in single:
            continue
        value = trace[key]
        family_scale = scale * (lr if key.startswith("update/") else 1.0)
        exact = np.abs(np.asarray(shadow[key], dtype=np.float64))
        rough = np.abs(np.asarray(single[key], dtype=np.float64))
        tiny = exact <= ROUNDOFF_RTOL * family_scale
        # float32 far above float64: its rounding floor, not the value, is what it shows
        noisy = (rough > DISAGREEMENT * exact) | ((rough == 0) & (exact >= FLOAT32_TINY))
        mask = (value != 0) & tiny & noisy
        if mask.any():
            mask.flags.writeable = False
            masks[key] = mask
        else:
            masks[key] = None
    return _Result(masks, scale)


_running: "weakref.WeakKeyDictionary[Trace, threading.Event]" = weakref.WeakKeyDictionary()


def _result(trace: Trace) -> _Result:
    """The masks of ``trace``: computed once; a caller that finds them being computed on another
    thread (:func:`prepare`) waits for that instead of computing them again."""
    with _lock:
        found = _cache.get(trace)
        busy = _running.get(trace) if found is None else None
        if found is None and busy is None:
            busy = _running[trace] = threading.Event()
            mine = True
        else:
            mine = False
    if found is not None:
        return found
    if not mine:
        busy.wait()
        with _lock:
            found = _cache.get(trace)
        return found if found is not None else _result(trace)  # the other thread failed: compute here
    try:
        found = _compute(trace)
        with _lock:
            _cache[trace] = found
        return found
    finally:
        with _lock:
            _running.pop(trace, None)
        busy.set()


def prepare(trace_ref: "weakref.ref[Trace]") -> None:
    """Compute the round-off masks (and the precision check) of the trace ``trace_ref`` points to,
    if it still exists (for a worker thread, ahead of the first backward step that shows them; at
    the large sizes the float64 recomputation takes more than a second)."""
    trace = trace_ref()
    if trace is not None:
        _result(trace)
        precision.unresolved(trace)   # answered by the same float64 pass (a float64 trace: nothing to do)


def known(trace: Trace) -> bool:
    """Whether the masks of ``trace`` are computed (asking then costs nothing): for views that
    only look ahead, and must not make the window's thread pay for the float64 recomputation."""
    with _lock:
        return trace in _cache


def roundoff_mask(trace: Trace, key: str) -> np.ndarray | None:
    """Bool array shaped like ``trace[key]``: True where the recorded value is
    non-zero only through rounding (zero in exact arithmetic). None when no
    element is, or when ``key`` is not a ``grad/*`` or ``update/*`` array."""
    if key not in trace:
        raise KeyError(f"no array named {key!r}")
    return _result(trace).masks.get(key)


def is_roundoff(trace: Trace, key: str) -> bool:
    """True when every non-zero element of ``trace[key]`` is round-off (and
    there is at least one): the whole array is rounding noise."""
    mask = roundoff_mask(trace, key)
    return mask is not None and bool(np.array_equal(mask, trace[key] != 0))


def roundoff_keys(trace: Trace) -> tuple[str, ...]:
    """Every recorded array that :func:`is_roundoff`, in name order."""
    return tuple(sorted(k for k, m in _result(trace).masks.items() if m is not None and is_roundoff(trace, k)))


def change_roundoff_mask(trace: Trace, name: str) -> np.ndarray | None:
    """Bool array shaped like ``trace["updated/<name>"]``: True where the update moved the weight
    only by round-off (its step ``update/<name>`` is round-off and the float32 sum did change the
    weight; a step too small to change it leaves nothing to mark). In exact arithmetic that weight
    keeps its value from before the update. None when no weight is."""
    key, step_key, before_key = f"updated/{name}", f"update/{name}", f"param/{name}"
    if key not in trace or step_key not in trace or before_key not in trace:
        raise KeyError(f"no parameter named {name!r}")
    step = roundoff_mask(trace, step_key)
    if step is None:
        return None
    mask = step & (trace[key] != trace[before_key])
    if not mask.any():
        return None
    mask.flags.writeable = False
    return mask


def gradient_scale(trace: Trace) -> float:
    """The family scale the rule compares with: the largest |gradient| in the
    float64 shadow (0.0 if it cannot be computed)."""
    return _result(trace).scale
