"""Parameter initialisation schemes, chosen per parameter.

A scheme is a small dict: ``{"scheme": "normal", "mean": 0.0, "std": 0.02}``.
Random schemes draw from a generator seeded per parameter, so the same seed
always gives the same weights. The schemes' table and their checks live in
init_schemes.py (no torch: config validation uses them); this module makes the tensors.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping

import torch

from ..base.errors import ConfigError
from ..base.init_schemes import GATE_BIAS_ONLY, GATE_BIASES, MATRIX_ONLY, SCHEMES, validate_init_spec  # noqa: F401
from ..base.init_schemes import scheme_value as _arg


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
