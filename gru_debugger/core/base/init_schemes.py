"""The initialisation schemes and their checks, without torch (see init.py for the numbers).

Config validation and the controller's argument checks need only these; keeping them apart from
the tensors' making keeps the config at the bottom of core, below the engine.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from .errors import ConfigError
from .validation import FLOAT32_MAX, ControllerError, check_choice, fits_float32, show

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
    if scheme == "normal" and abs(scheme_value(spec, "mean")) + 8 * scheme_value(spec, "std") > FLOAT32_MAX:
        raise ConfigError(f"init[{name}]: mean and std this large overflow float32")
    if scheme == "uniform" and scheme_value(spec, "high") - scheme_value(spec, "low") > FLOAT32_MAX:
        raise ConfigError(f"init[{name}]: high - low overflows float32")
    if scheme in MATRIX_ONLY and abs(scheme_value(spec, "gain")) > FLOAT32_MAX / 2:
        raise ConfigError(f"init[{name}]: a gain this large overflows float32")
    if scheme in MATRIX_ONLY and name.endswith(".bias"):
        raise ConfigError(f"init[{name}]: {scheme} needs a matrix; a bias is a vector")
    if scheme in GATE_BIAS_ONLY and name not in GATE_BIASES:
        raise ConfigError(f"init[{name}]: {scheme} sets the rows of a gate; only x2g.bias and h2g.bias have them")


def scheme_value(spec: Mapping[str, Any], key: str) -> float:
    """The value of ``key`` in a valid spec, its default when the spec leaves it out."""
    return float(spec.get(key, SCHEMES[spec["scheme"]][key]))


def check_spec(name: str, spec: Any) -> dict[str, Any]:
    """An initialisation spec: a mapping with a known scheme and float32-sized numbers."""
    if not isinstance(spec, Mapping):
        raise ControllerError(f"init[{name}] must be a mapping like {{'scheme': 'normal', 'std': 0.1}}, "
                              f"got {show(spec)}")
    try:
        validate_init_spec(name, spec)
    except ConfigError as exc:
        raise ControllerError(str(exc)) from None
    return dict(spec)


def check_specs(specs: Any, known: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not isinstance(specs, Mapping) or not specs:
        raise ControllerError(f"specs must map parameter names to schemes, got {show(specs)}")
    return {check_choice(name, "parameter", known): check_spec(name, spec) for name, spec in specs.items()}
