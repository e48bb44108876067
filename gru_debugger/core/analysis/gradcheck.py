"""Check the engine's gradients against finite differences, in float64.

The function differentiated is the training loss of :func:`compute_trace`'s
first pass: the same batch, the same dropout masks, the weights of ``state``
cast to float64. The engine's gradients are those of ``compute_trace`` on the
same float64 state (see :func:`shadow.shadow_state`).

One step ε is not enough: on a chaotic forward pass (the rnn-exploding
example) the loss bends on a scale far below ε = 1e-3, and a central
difference there is wrong by a factor, not a digit. So each element's
derivative is estimated on a ladder of steps ``ε_k = STEP · max(1, |θ|) / 2^k``:

    D(ε) = (L(θ+ε) − L(θ−ε)) / 2ε                   (central difference, error ~ ε²)
    R(ε) = (64·D(ε) − 20·D(2ε) + D(4ε)) / 45         (Richardson extrapolation, error ~ ε⁶)

R is Richardson's (4·D(ε) − D(2ε)) / 3, which cancels the ε² term, applied
once more to cancel the ε⁴ term. The ladder stops when three successive
estimates R agree: both differences at most ``CONVERGE_TOL · max(|R|…,
DENOM_FLOOR)``. The last estimate is then the converged finite difference
and the element

- **agrees** when its relative error ``|fd − autograd| / max(|fd|, |autograd|,
  DENOM_FLOOR)`` is at most REL_TOL,
- **disagrees** when it is above,
- **did not converge** when no three successive estimates agreed down to
  ``ε = STEP · max(1, |θ|) / 2^(MAX_LEVELS−1)`` (about 2e-9: there even the
  smallest rounding of a float64 loss, about 1e-16·|L|, divided by ε, is far
  above the tolerance); its estimates per ε are reported instead of a
  verdict on autograd.

With DENOM_FLOOR = 1e-3 the tolerances are relative for gradients above 1e-3
and absolute (times 1e-3) below. CONVERGE_TOL = 2e-6 is five times tighter
than REL_TOL = 1e-5, so an element judged "disagrees" differs from autograd by
more than the finite difference's own uncertainty. They are not tighter
because of the chaotic example: in float64 its loss carries rounding of order
1e-13, and on its default sample autograd and the converged finite
differences differ by up to 8.8e-7 relative. Three estimates must
agree (not two) so that two that agree by chance, far from convergence, are
not taken for a result.

A parameter with more than ``samples`` elements is checked on ``samples`` of
them, drawn without replacement by ``numpy.random.default_rng([seed, crc32(name)])``
(so the same seed checks the same elements); smaller ones are checked whole.
"""
from __future__ import annotations

import math
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch.func import vmap

from ..model.cells import get_cell
from ..base.config import PARAM_NAMES
from ..text.data import batch_at, tokenize
from ..model.engine import ModelState, compute_trace, forward, masks_for
from ..model.shadow import shadow_state

REL_TOL = 1e-5  # autograd agrees when within this of the converged finite difference
CONVERGE_TOL = 2e-6  # successive estimates that differ by at most this have converged
DENOM_FLOOR = 1e-3
DEFAULT_SAMPLES = 200
STEP = 1e-3  # the first ε = STEP * max(1, |θ|)
MAX_LEVELS = 20  # the smallest ε is STEP / 2**19 ≈ 1.9e-9 (times max(1, |θ|))
AGREEING = 3  # successive extrapolated estimates that must agree
AGREES, DISAGREES, NOT_CONVERGED = "agrees", "disagrees", "did not converge"
VERDICTS = (AGREES, DISAGREES, NOT_CONVERGED)
_CHUNK_NUMBERS = 4_000_000  # float64 numbers per batch of perturbed copies (about 32 MB of logits)


@dataclass(frozen=True)
class ElementCheck:
    """One element's finite-difference ladder and what it says about autograd.

    ``steps[k]`` is ε_k, ``differences[k]`` the central difference D(ε_k) and
    ``estimates[k]`` the Richardson estimate R(ε_k) (None for k < 2, which lack
    the two larger steps it combines). ``estimate`` is the converged finite
    difference, None when the ladder did not converge."""

    name: str
    index: tuple[int, ...]
    verdict: str
    autograd: float
    estimate: float | None
    steps: tuple[float, ...]
    differences: tuple[float, ...]
    estimates: tuple[float | None, ...]

    @property
    def rel_error(self) -> float | None:
        return None if self.estimate is None else relative_error(self.estimate, self.autograd)

    @property
    def step(self) -> float:
        """The smallest ε the ladder went down to."""
        return self.steps[-1]

    def as_dict(self) -> dict[str, Any]:
        """For JSON: a number that is not finite (a loss that overflowed) becomes None."""
        def num(x: float | None) -> float | None:
            return x if x is not None and math.isfinite(x) else None
        return {"index": list(self.index), "verdict": self.verdict, "finite_difference": num(self.estimate),
                "autograd": num(self.autograd), "rel_error": num(self.rel_error), "steps": list(self.steps),
                "differences": [num(d) for d in self.differences], "estimates": [num(e) for e in self.estimates]}


def richardson(d: np.ndarray, d2: np.ndarray, d4: np.ndarray) -> np.ndarray:
    """R(ε) from D(ε), D(2ε), D(4ε): the ε² and ε⁴ terms of the central difference cancel."""
    return (64 * d - 20 * d2 + d4) / 45


def converged(estimates: Sequence[float]) -> bool:
    """Whether the last AGREEING estimates agree within CONVERGE_TOL (DENOM_FLOOR as the smallest scale)."""
    if len(estimates) < AGREEING:
        return False
    last = np.asarray(estimates[-AGREEING:], dtype=float)
    if not np.all(np.isfinite(last)):
        return False
    scale = max(float(np.max(np.abs(last))), DENOM_FLOOR)
    return bool(np.all(np.abs(np.diff(last)) <= CONVERGE_TOL * scale))


class _Loss:
    """The first pass's training loss as a function of float64 weights."""

    def __init__(self, state: ModelState):
        self.state = shadow_state(state)
        cfg = self.state.config
        corpus = tokenize(cfg)
        x, y = batch_at(corpus.tokens, self.state.position, cfg.batch_size, cfg.context_length)
        self.x, self.y = torch.from_numpy(x.copy()), torch.from_numpy(y.copy())
        self.masks = masks_for(self.state, "train", cfg.batch_size, cfg.context_length)
        self.cell = get_cell(cfg.cell)
        self.params = {k: v.detach().double().clone() for k, v in self.state.params.items()}
        self._grads: dict[str, np.ndarray] | None = None

    def __call__(self, params: dict[str, torch.Tensor]) -> float:
        with torch.no_grad():
            return float(forward(self.cell, params, self.x, self.y, *self.masks, per_position=False)["loss"])

    def autograd(self) -> dict[str, np.ndarray]:
        """The engine's gradients of the float64 state."""
        if self._grads is None:
            trace = compute_trace(self.state)
            self._grads = {name: np.asarray(trace[f"grad/{name}"]) for name in PARAM_NAMES}
        return self._grads

    def finite_difference(self, name: str, flat: int, eps: float | None = None) -> tuple[float, float]:
        """One Richardson estimate at a fixed step: (4·D(h/2) − D(h)) / 3 and h."""
        tensor = self.params[name].view(-1)
        theta = float(tensor[flat])
        h = eps if eps is not None else STEP * max(1.0, abs(theta))

        def central(step: float) -> float:
            tensor[flat] = theta + step
            up = self(self.params)
            tensor[flat] = theta - step
            down = self(self.params)
            tensor[flat] = theta
            return (up - down) / (2 * step)

        try:
            fd = (4 * central(h / 2) - central(h)) / 3
        finally:
            tensor[flat] = theta
        return fd, h

    def central_differences(self, name: str, flats: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """D(ε) for many elements at once, each with its own ε: each perturbed copy
        of the parameter is one lane of ``torch.func.vmap``. The difference is
        divided by the steps actually taken, (θ+ε) − (θ−ε) in float64, not by 2ε."""
        base = self.params[name]
        theta = base.reshape(-1)[torch.as_tensor(flats)]
        h = torch.as_tensor(steps, dtype=base.dtype)
        up, down = theta + h, theta - h
        per_copy = max(1, self.x.numel() * (self.params["lm_head.weight"].shape[0] + base.numel()))
        chunk = max(1, min(len(flats), _CHUNK_NUMBERS // (2 * per_copy)))
        out = np.empty(len(flats))
        for start in range(0, len(flats), chunk):
            part = torch.as_tensor(flats[start:start + chunk])
            m = len(part)
            copies = base.reshape(1, -1).repeat(2 * m, 1)  # θ+ε then θ−ε: one vmap call for both
            copies[torch.arange(2 * m), part.repeat(2)] = torch.cat([up[start:start + m], down[start:start + m]])
            losses = vmap(self._with(name))(copies.view(2 * m, *base.shape))
            taken = up[start:start + m] - down[start:start + m]
            out[start:start + m] = ((losses[:m] - losses[m:]) / taken).numpy()
        return out

    def ladder(self, name: str, flats: np.ndarray) -> list[ElementCheck]:
        """Halve ε until AGREEING successive Richardson estimates agree, element by
        element (an element that has converged is not evaluated again)."""
        flats = np.asarray(flats, dtype=np.int64)
        n = len(flats)
        theta = self.params[name].reshape(-1)[torch.as_tensor(flats)].numpy()
        first = STEP * np.maximum(1.0, np.abs(theta))
        diffs = np.full((n, MAX_LEVELS), np.nan)
        ests = np.full((n, MAX_LEVELS), np.nan)
        levels = np.full(n, MAX_LEVELS)  # how many steps each element used
        done = np.zeros(n, bool)
        for k in range(MAX_LEVELS):
            todo = np.flatnonzero(~done)
            if len(todo) == 0:
                break
            diffs[todo, k] = self.central_differences(name, flats[todo], first[todo] / 2.0 ** k)
            if k < 2:
                continue
            ests[todo, k] = richardson(diffs[todo, k], diffs[todo, k - 1], diffs[todo, k - 2])
            for i in todo:
                if converged(ests[i, 2:k + 1]):
                    done[i], levels[i] = True, k + 1
        grads = self.autograd()[name].reshape(-1)
        shape = tuple(self.params[name].shape)
        out = []
        for i, flat in enumerate(flats):
            used = int(levels[i])
            ag = float(grads[flat])
            estimate = float(ests[i, used - 1]) if done[i] else None
            if estimate is None:
                verdict = NOT_CONVERGED
            else:
                verdict = AGREES if relative_error(estimate, ag) <= REL_TOL else DISAGREES
            out.append(ElementCheck(
                name, tuple(int(j) for j in np.unravel_index(int(flat), shape)), verdict, ag, estimate,
                tuple(float(first[i] / 2.0 ** k) for k in range(used)),
                tuple(float(d) for d in diffs[i, :used]),
                tuple(None if k < 2 else float(ests[i, k]) for k in range(used))))
        return out

    def _with(self, name: str):
        def loss(weight: torch.Tensor) -> torch.Tensor:
            params = dict(self.params)
            params[name] = weight
            return forward(self.cell, params, self.x, self.y, *self.masks, per_position=False)["loss"]
        return loss


@contextmanager
def _one_thread():
    """Run on one torch thread: the perturbed copies are tiny tensors, and on a
    busy 2-core machine two threads made the exploding example's check take
    88 s instead of 8 s (they spent their time waiting for each other)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _flat_index(shape: Sequence[int], index: Any, name: str) -> int:
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        index = (int(index),)
    try:
        index = tuple(int(i) for i in index)
    except (TypeError, ValueError):
        raise ValueError(f"index {index!r} of {name} must be a tuple of whole numbers") from None
    if len(index) != len(shape) or not all(0 <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"index {list(index)} is outside {name}, whose shape is {tuple(shape)}")
    return int(np.ravel_multi_index(index, tuple(shape)))


def _check_name(name: str) -> None:
    if name not in PARAM_NAMES:
        raise ValueError(f"unknown parameter {name!r}; parameters are: {', '.join(PARAM_NAMES)}")


def check_one(state: ModelState, name: str, index: Sequence[int], eps: float | None = None
              ) -> tuple[float, float, float]:
    """One element at one step, no convergence test: (Richardson estimate from ε
    and ε/2, autograd, ε), all in float64. :func:`check_element` is the check
    that judges."""
    _check_name(name)
    if eps is not None and not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    loss = _Loss(state)
    flat = _flat_index(loss.params[name].shape, index, name)
    fd, h = loss.finite_difference(name, flat, eps)
    return fd, float(loss.autograd()[name].reshape(-1)[flat]), h


def check_element(state: ModelState, name: str, index: Sequence[int]) -> ElementCheck:
    """One element, ε shrunk until the finite difference converges, then judged
    (the right-click check of the window)."""
    _check_name(name)
    loss = _Loss(state)
    flat = _flat_index(loss.params[name].shape, index, name)
    with _one_thread():
        return loss.ladder(name, np.array([flat]))[0]


def relative_error(fd: float, ag: float) -> float:
    return abs(fd - ag) / max(abs(fd), abs(ag), DENOM_FLOOR)


def sample_indices(name: str, size: int, samples: int, seed: int) -> np.ndarray:
    """The flat indices checked: all of them, or ``samples`` drawn without replacement."""
    if size <= samples:
        return np.arange(size)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return np.sort(rng.choice(size, size=samples, replace=False))


def gradient_check(state: ModelState, samples: int = DEFAULT_SAMPLES, seed: int = 0) -> dict[str, Any]:
    """Converged finite differences against the engine's gradients for every parameter.

    Returns ``{"ok", "verdict", "counts", "rel_tol", "denominator_floor", "samples",
    "seed", "loss", "parameters": {name: {"shape", "size", "checked", "agrees",
    "disagrees", "did_not_converge", "max_abs_error", "max_rel_error", "ok",
    "worst", "elements"}}}``. ``ok`` is True when every checked element agrees;
    the errors and ``worst`` are over the converged elements (None if none
    converged); ``elements`` lists every checked element (:meth:`ElementCheck.as_dict`).
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a whole number >= 1, got {samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    with _one_thread():
        return _gradient_check(state, samples, seed)


def _gradient_check(state: ModelState, samples: int, seed: int) -> dict[str, Any]:
    loss = _Loss(state)
    report: dict[str, Any] = {"rel_tol": REL_TOL, "denominator_floor": DENOM_FLOOR, "samples": samples,
                              "seed": seed, "converge_tol": CONVERGE_TOL, "first_step": STEP, "max_levels": MAX_LEVELS,
                              "agreeing": AGREEING, "parameters": {}}
    value = loss(loss.params)
    report["loss"] = value if math.isfinite(value) else None  # JSON has no NaN
    for name in PARAM_NAMES:
        shape = tuple(loss.params[name].shape)
        size = int(np.prod(shape))
        checks = loss.ladder(name, sample_indices(name, size, samples, seed))
        report["parameters"][name] = _summary(shape, size, checks)
    counts = {v: sum(p[_key(v)] for p in report["parameters"].values()) for v in VERDICTS}
    report["counts"] = counts
    report["ok"] = counts[DISAGREES] == 0 and counts[NOT_CONVERGED] == 0
    report["verdict"] = DISAGREES if counts[DISAGREES] else NOT_CONVERGED if counts[NOT_CONVERGED] else AGREES
    return report


def _key(verdict: str) -> str:
    return verdict.replace(" ", "_")


def _summary(shape: tuple[int, ...], size: int, checks: list[ElementCheck]) -> dict[str, Any]:
    judged = [c for c in checks if c.estimate is not None]
    worst = max(judged, key=lambda c: c.rel_error, default=None)
    summary: dict[str, Any] = {"shape": list(shape), "size": size, "checked": len(checks)}
    summary.update({_key(v): sum(c.verdict == v for c in checks) for v in VERDICTS})
    summary.update({
        "max_abs_error": max((abs(c.estimate - c.autograd) for c in judged), default=None),
        "max_rel_error": None if worst is None else worst.rel_error,
        "ok": all(c.verdict == AGREES for c in checks),
        "worst": None if worst is None else {"index": list(worst.index), "finite_difference": worst.estimate,
                                             "autograd": worst.autograd},
        "elements": [c.as_dict() for c in checks]})
    return summary


def _number(value: float | None, spec: str) -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, spec)


def ladder_table(steps: Sequence[float], differences: Sequence[float], estimates: Sequence[float | None],
                 indent: str = "") -> list[str]:
    """The estimates per ε as text rows (the command line and the window's box)."""
    rows = [f"{indent}{'ε':>9}  {'central difference':>18}  {'extrapolated':>18}"]
    for h, d, e in zip(steps, differences, estimates):
        rows.append(f"{indent}{h:>9.3g}  {_number(d, '.10g'):>18}  {_number(e, '.10g'):>18}")
    return rows


def format_table(report: dict[str, Any], listed: int = 5) -> str:
    """The per-parameter table the command line prints, then the elements that
    disagree or did not converge (at most ``listed`` of each per parameter)."""
    lines = [f"{'parameter':<16} {'checked':>9} {'agrees':>7} {'disagrees':>10} {'not conv.':>10} "
             f"{'max rel error':>14}  result"]
    for name, p in report["parameters"].items():
        result = "ok" if p["ok"] else DISAGREES if p["disagrees"] else NOT_CONVERGED
        lines.append(f"{name:<16} {p['checked']:>4}/{p['size']:<4} {p['agrees']:>7} {p['disagrees']:>10} "
                     f"{p['did_not_converge']:>10} {_number(p['max_rel_error'], '>14.3e'):>14}  {result}")
    for name, p in report["parameters"].items():
        for verdict in (DISAGREES, NOT_CONVERGED):
            elements = [e for e in p["elements"] if e["verdict"] == verdict]
            for e in elements[:listed]:
                at = f"{name}[{', '.join(map(str, e['index']))}]"
                if verdict == DISAGREES:
                    lines.append(f"{at} disagrees: finite difference {e['finite_difference']:.10g} (converged at "
                                 f"ε = {e['steps'][-1]:.3g}), autograd {e['autograd']:.10g}, relative error "
                                 f"{e['rel_error']:.3g}")
                else:
                    lines.append(f"{at} did not converge; autograd {_number(e['autograd'], '.10g')}; estimates per ε:")
                    lines.extend(ladder_table(e["steps"], e["differences"], e["estimates"], indent="    "))
            if len(elements) > listed:
                what = "disagree" if verdict == DISAGREES else verdict
                lines.append(f"... and {len(elements) - listed} more elements of {name} that {what} (all in --json)")
    c = report["counts"]
    verdict = ("all gradients agree" if report["ok"] else
               f"{c[DISAGREES]} element(s) disagree" if c[DISAGREES] else
               f"no element disagrees, but {c[NOT_CONVERGED]} did not converge")
    lines.append(f"{verdict} ({c[AGREES]} agree, {c[DISAGREES]} disagree, {c[NOT_CONVERGED]} did not converge).")
    lines.append(f"Float64 central differences D(ε), ε = {report['first_step']:g}·max(1, |θ|) halved until "
                 f"{report['agreeing']} successive Richardson estimates (64·D(ε) − 20·D(2ε) + D(4ε))/45 agree within "
                 f"{report['converge_tol']:g}; autograd agrees when within {report['rel_tol']:g} of the converged "
                 f"estimate (relative, denominator at least {report['denominator_floor']:g}).")
    return "\n".join(lines)
