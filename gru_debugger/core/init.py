"""Parameter initialisation schemes, chosen per parameter.

A scheme is a small dict: ``{"scheme": "normal", "mean": 0.0, "std": 0.02}``.
Random schemes draw from a generator seeded per parameter, so the same seed
always gives the same weights.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import torch

from .errors import ConfigError
from .validation import FLOAT32_MAX, fits_float32, show

# scheme -> {key: default}
SCHEMES: dict[str, dict[str, float]] = {
    "constant": {"value": 0.0},
    "zeros": {},
    "ones": {},
    "normal": {"mean": 0.0, "std": 1.0},
    "uniform": {"low": -1.0, "high": 1.0},
    "xavier_uniform": {"gain": 1.0},
    "orthogonal": {"gain": 1.0},
    "default": {},
    "forget_bias": {"value": 1.0},
}
MATRIX_ONLY = {"xavier_uniform", "orthogonal"}
# Schemes that set rows of the cell's gates: only for the biases of x2g and h2g.
GATE_BIAS_ONLY = {"forget_bias"}
GATE_BIASES = ("x2g.bias", "h2g.bias")


def validate_init_spec(name: str, spec: Any) -> None:
    if not isinstance(spec, Mapping) or "scheme" not in spec:
        raise ConfigError(f"init[{name}] must be an object with a 'scheme' key")
    scheme = spec["scheme"]
    if not isinstance(scheme, str) or scheme not in SCHEMES:
        raise ConfigError(f"init[{name}]: unknown scheme {show(scheme)}; choose one of {', '.join(SCHEMES)}")
    extra = [show(k) for k in spec if k != "scheme" and k not in SCHEMES[scheme]]
    if extra:
        raise ConfigError(f"init[{name}]: scheme {scheme} takes no key(s) {', '.join(sorted(extra))}")
    for key in SCHEMES[scheme]:
        value = spec.get(key, SCHEMES[scheme][key])
        if not fits_float32(value):
            raise ConfigError(f"init[{name}].{key} must be a finite number within float32 range, got {show(value)}")
    if scheme == "normal" and spec.get("std", 1.0) < 0:
        raise ConfigError(f"init[{name}].std must be >= 0")
    if scheme == "uniform" and spec.get("low", -1.0) > spec.get("high", 1.0):
        raise ConfigError(f"init[{name}]: low must not exceed high")
    # Draws must stay finite in float32 too (a value that fits can still overflow on the way).
    if scheme == "normal" and abs(_arg(spec, "mean")) + 8 * _arg(spec, "std") > FLOAT32_MAX:
        raise ConfigError(f"init[{name}]: mean and std this large overflow float32")
    if scheme == "uniform" and _arg(spec, "high") - _arg(spec, "low") > FLOAT32_MAX:
        raise ConfigError(f"init[{name}]: high - low overflows float32")
    if scheme in MATRIX_ONLY and abs(_arg(spec, "gain")) > FLOAT32_MAX / 2:
        raise ConfigError(f"init[{name}]: a gain this large overflows float32")
    if scheme in MATRIX_ONLY and name.endswith(".bias"):
        raise ConfigError(f"init[{name}]: {scheme} needs a matrix; a bias is a vector")
    if scheme in GATE_BIAS_ONLY and name not in GATE_BIASES:
        raise ConfigError(f"init[{name}]: {scheme} sets the rows of a gate; only x2g.bias and h2g.bias have them")


def _arg(spec: Mapping[str, Any], key: str) -> float:
    return float(spec.get(key, SCHEMES[spec["scheme"]][key]))


def _uniform(shape: tuple[int, ...], low: float, high: float, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=gen) * (high - low) + low


def initialise(
    name: str, shape: tuple[int, ...], spec: Mapping[str, Any], gen: torch.Generator, fan_in: int | None = None,
    dtype: torch.dtype = torch.float32, keep_rows: slice | None = None,
) -> torch.Tensor:
    """A new tensor of ``shape`` filled by ``spec``, in ``dtype``.

    ``keep_rows`` are the rows of the gate that keeps the cell's memory (the LSTM's forget gate f,
    the GRU's update gate z; None for a cell without one): ``forget_bias`` puts its value there and
    0 elsewhere, so the gate starts mostly open without pushing any other block into saturation.

    ``fan_in`` is the input width of the layer a bias belongs to (PyTorch's
    default bias bound is 1/sqrt(fan_in)). The numbers are always made in
    float32 and then cast: a float64 run starts from exactly the weights a
    float32 run with the same seed starts from (random draws included), so
    the two precisions can be compared number for number.
    """
    validate_init_spec(name, spec)
    scheme = spec["scheme"]
    makers: dict[str, Callable[[], torch.Tensor]] = {
        "constant": lambda: torch.full(shape, _arg(spec, "value")),
        "zeros": lambda: torch.zeros(shape),
        "ones": lambda: torch.ones(shape),
        "normal": lambda: torch.randn(shape, generator=gen) * _arg(spec, "std") + _arg(spec, "mean"),
        "uniform": lambda: _uniform(shape, _arg(spec, "low"), _arg(spec, "high"), gen),
        "xavier_uniform": lambda: torch.nn.init.xavier_uniform_(torch.empty(shape), _arg(spec, "gain"), generator=gen),
        "orthogonal": lambda: torch.nn.init.orthogonal_(torch.empty(shape), _arg(spec, "gain"), generator=gen),
        "default": lambda: _default(name, shape, gen, fan_in),
        "forget_bias": lambda: _gate_rows(shape, keep_rows, _arg(spec, "value")),
    }
    values = makers[scheme]().to(torch.float32).contiguous()
    if not bool(torch.isfinite(values).all()):
        raise ConfigError(f"init[{name}]: {scheme} with these values overflows float32 (some weights would be "
                          f"Inf or NaN); use smaller numbers")
    return values if dtype == torch.float32 else values.to(dtype).contiguous()


def _gate_rows(shape: tuple[int, ...], rows: slice | None, value: float) -> torch.Tensor:
    values = torch.zeros(shape)
    if rows is not None:
        values[rows] = value
    return values


def _default(name: str, shape: tuple[int, ...], gen: torch.Generator, fan_in: int | None) -> torch.Tensor:
    if name == "wte.weight":  # nn.Embedding: N(0, 1)
        return torch.randn(shape, generator=gen)
    # nn.Linear: kaiming_uniform(a=sqrt(5)) for the weight and the bias bound
    # both come to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    width = shape[-1] if len(shape) == 2 else fan_in
    bound = 1.0 / math.sqrt(width) if width else 0.0
    return _uniform(shape, -bound, bound, gen)
