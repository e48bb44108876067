"""Initialisation schemes: the values each scheme promises."""
import math

import numpy as np
import pytest
import torch

from gru_debugger.core.base.config import ConfigError
from gru_debugger.core.model.init import SCHEMES, initialise


def make(name, shape, spec, fan_in=None, seed=0):
    return initialise(name, shape, spec, torch.Generator().manual_seed(seed), fan_in).numpy()


def test_constant_schemes():
    assert (make("x2g.weight", (6, 4), {"scheme": "constant", "value": 0.5}) == 0.5).all()
    assert (make("x2g.bias", (6,), {"scheme": "zeros"}) == 0).all()
    assert (make("wte.weight", (36, 4), {"scheme": "ones"}) == 1).all()


def test_random_schemes_follow_their_parameters():
    w = make("wte.weight", (400, 50), {"scheme": "normal", "mean": 2.0, "std": 0.5})
    assert abs(w.mean() - 2.0) < 0.02 and abs(w.std() - 0.5) < 0.02
    u = make("h2g.weight", (300, 40), {"scheme": "uniform", "low": -0.2, "high": 0.7})
    assert u.min() >= -0.2 and u.max() <= 0.7 and abs(u.mean() - 0.25) < 0.02
    bound = math.sqrt(6 / (30 + 20))
    x = make("x2g.weight", (30, 20), {"scheme": "xavier_uniform"})
    assert np.abs(x).max() <= bound and np.abs(x).max() > 0.9 * bound
    q = make("h2g.weight", (12, 12), {"scheme": "orthogonal"})
    np.testing.assert_allclose(q @ q.T, np.eye(12), atol=1e-5)


def test_default_is_what_pytorch_layers_do():
    w = make("x2g.weight", (60, 25), {"scheme": "default"})
    assert np.abs(w).max() <= 1 / math.sqrt(25)
    b = make("x2g.bias", (60,), {"scheme": "default"}, fan_in=25)
    assert np.abs(b).max() <= 1 / math.sqrt(25) and np.abs(b).max() > 0
    e = make("wte.weight", (500, 20), {"scheme": "default"})
    assert abs(e.std() - 1.0) < 0.05


def test_same_seed_same_values():
    spec = {"scheme": "normal", "std": 1.0}
    assert np.array_equal(make("wte.weight", (5, 3), spec, seed=1), make("wte.weight", (5, 3), spec, seed=1))
    assert not np.array_equal(make("wte.weight", (5, 3), spec, seed=1), make("wte.weight", (5, 3), spec, seed=2))


@pytest.mark.parametrize("name, spec", [
    ("x2g.bias", {"scheme": "xavier_uniform"}),
    ("x2g.weight", {"scheme": "nope"}),
    ("x2g.weight", {"scheme": "constant", "value": float("nan")}),
    ("x2g.weight", {"scheme": "uniform", "low": 1, "high": 0}),
    ("x2g.weight", {"scheme": "zeros", "value": 1}),
    ("x2g.weight", {"value": 1}),
])
def test_bad_specs_are_refused(name, spec):
    with pytest.raises(ConfigError):
        make(name, (6, 4) if name.endswith("weight") else (6,), spec)


def test_every_scheme_is_known_to_the_validator():
    assert set(SCHEMES) == {"constant", "zeros", "ones", "normal", "uniform", "xavier_uniform", "orthogonal",
                            "default", "forget_bias"}
