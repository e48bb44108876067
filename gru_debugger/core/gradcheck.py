"""Check the engine's gradients against finite differences, in float64.

The function differentiated is the training loss of :func:`compute_trace`'s
first pass: the same batch, the same dropout masks, the weights of ``state``
cast to float64. The engine's gradients are those of ``compute_trace`` on the
same float64 state (see :func:`roundoff.shadow_state`).

Finite differences: central differences with Richardson extrapolation,
``(4·D(h/2) − D(h)) / 3`` where ``D(h) = (L(θ+h) − L(θ−h)) / 2h`` and
``h = 1e-3 · max(1, |θ|)``; its error is of order h⁴ plus rounding of about
1e-13, far below the tolerance.

An element agrees when its relative error

    |fd − autograd| / max(|fd|, |autograd|, DENOM_FLOOR)

is at most REL_TOL. With REL_TOL = 1e-6 and DENOM_FLOOR = 1e-3 that is a
relative tolerance of 1e-6 for gradients above 1e-3 and an absolute one of
1e-9 below (a gradient that is zero is compared in absolute terms).

A parameter with more than ``samples`` elements is checked on ``samples`` of
them, drawn without replacement by ``numpy.random.default_rng([seed, crc32(name)])``
(so the same seed checks the same elements); smaller ones are checked whole.
"""
from __future__ import annotations

import math
import zlib
from typing import Any, Sequence

import numpy as np
import torch
from torch.func import vmap

from .cells import get_cell
from .config import PARAM_NAMES
from .data import batch_at, tokenize
from .engine import ModelState, compute_trace, forward, masks_for
from .roundoff import shadow_state

REL_TOL = 1e-6
DENOM_FLOOR = 1e-3
DEFAULT_SAMPLES = 200
STEP = 1e-3  # h = STEP * max(1, |θ|)
_CHUNK_NUMBERS = 4_000_000  # float64 numbers per batch of perturbed copies (about 32 MB of logits)


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
            return float(forward(self.cell, params, self.x, self.y, *self.masks)["loss"])

    def autograd(self) -> dict[str, np.ndarray]:
        """The engine's gradients of the float64 state."""
        if self._grads is None:
            trace = compute_trace(self.state)
            self._grads = {name: np.asarray(trace[f"grad/{name}"]) for name in PARAM_NAMES}
        return self._grads

    def finite_difference(self, name: str, flat: int, eps: float | None = None) -> tuple[float, float]:
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

    def finite_differences(self, name: str, flats: np.ndarray) -> np.ndarray:
        """The same as :meth:`finite_difference` for many elements at once: each
        perturbed copy of the parameter is one lane of ``torch.func.vmap``."""
        base = self.params[name]
        theta = base.reshape(-1)[torch.as_tensor(flats)]
        h = STEP * torch.clamp(theta.abs(), min=1.0)
        per_copy = max(1, self.x.numel() * (self.params["lm_head.weight"].shape[0] + base.numel()))
        chunk = max(1, min(len(flats), _CHUNK_NUMBERS // per_copy))
        out = np.empty(len(flats))
        for start in range(0, len(flats), chunk):
            part = torch.as_tensor(flats[start:start + chunk])
            hp = h[start:start + chunk]

            def central(step: torch.Tensor) -> torch.Tensor:
                losses = []
                for sign in (1.0, -1.0):
                    copies = base.reshape(1, -1).repeat(len(part), 1)
                    copies[torch.arange(len(part)), part] += sign * step
                    losses.append(vmap(self._with(name))(copies.view(len(part), *base.shape)))
                return (losses[0] - losses[1]) / (2 * step)

            out[start:start + chunk] = ((4 * central(hp / 2) - central(hp)) / 3).numpy()
        return out

    def _with(self, name: str):
        def loss(weight: torch.Tensor) -> torch.Tensor:
            params = dict(self.params)
            params[name] = weight
            return forward(self.cell, params, self.x, self.y, *self.masks)["loss"]
        return loss


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


def check_one(state: ModelState, name: str, index: Sequence[int], eps: float | None = None
              ) -> tuple[float, float, float]:
    """One element: (finite difference, autograd, step h used), all in float64."""
    if name not in PARAM_NAMES:
        raise ValueError(f"unknown parameter {name!r}; parameters are: {', '.join(PARAM_NAMES)}")
    if eps is not None and not (isinstance(eps, (int, float)) and math.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    loss = _Loss(state)
    flat = _flat_index(loss.params[name].shape, index, name)
    fd, h = loss.finite_difference(name, flat, eps)
    return fd, float(loss.autograd()[name].reshape(-1)[flat]), h


def relative_error(fd: float, ag: float) -> float:
    return abs(fd - ag) / max(abs(fd), abs(ag), DENOM_FLOOR)


def sample_indices(name: str, size: int, samples: int, seed: int) -> np.ndarray:
    """The flat indices checked: all of them, or ``samples`` drawn without replacement."""
    if size <= samples:
        return np.arange(size)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    return np.sort(rng.choice(size, size=samples, replace=False))


def gradient_check(state: ModelState, samples: int = DEFAULT_SAMPLES, seed: int = 0) -> dict[str, Any]:
    """Finite differences against the engine's gradients for every parameter.

    Returns ``{"ok", "rel_tol", "denominator_floor", "samples", "seed", "loss",
    "parameters": {name: {"shape", "size", "checked", "max_abs_error",
    "max_rel_error", "ok", "worst": {"index", "finite_difference", "autograd"}}}}``.
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a whole number >= 1, got {samples!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    loss = _Loss(state)
    grads = loss.autograd()
    report: dict[str, Any] = {"rel_tol": REL_TOL, "denominator_floor": DENOM_FLOOR, "samples": samples,
                              "seed": seed, "loss": loss(loss.params), "parameters": {}}
    for name in PARAM_NAMES:
        shape = tuple(loss.params[name].shape)
        size = int(np.prod(shape))
        flat_grad = grads[name].reshape(-1)
        worst_abs, worst_rel, worst = 0.0, 0.0, None
        chosen = sample_indices(name, size, samples, seed)
        fds = loss.finite_differences(name, chosen)
        for flat, fd in zip(chosen, fds):
            fd, ag = float(fd), float(flat_grad[flat])
            err, rel = abs(fd - ag), relative_error(fd, ag)
            worst_abs = max(worst_abs, err)
            if worst is None or rel > worst_rel:
                worst_rel = rel
                worst = {"index": [int(i) for i in np.unravel_index(int(flat), shape)],
                         "finite_difference": fd, "autograd": ag}
        report["parameters"][name] = {"shape": list(shape), "size": size, "checked": int(len(chosen)),
                                      "max_abs_error": worst_abs, "max_rel_error": worst_rel,
                                      "ok": worst_rel <= REL_TOL, "worst": worst}
    report["ok"] = all(p["ok"] for p in report["parameters"].values())
    return report


def format_table(report: dict[str, Any]) -> str:
    """The per-parameter table the command line prints."""
    lines = [f"{'parameter':<16} {'checked':>13} {'max abs error':>14} {'max rel error':>14}  result"]
    for name, p in report["parameters"].items():
        checked = f"{p['checked']}/{p['size']}"
        lines.append(f"{name:<16} {checked:>13} {p['max_abs_error']:>14.3e} {p['max_rel_error']:>14.3e}  "
                     f"{'ok' if p['ok'] else 'MISMATCH'}")
    verdict = "all gradients agree" if report["ok"] else "some gradients disagree"
    lines.append(f"{verdict} (relative error <= {report['rel_tol']:g}, denominator at least "
                 f"{report['denominator_floor']:g}; float64 central differences)")
    return "\n".join(lines)
