"""Finite differences in float64 agree with the engine's gradients; the
gradcheck command reports it (and fails when they do not agree)."""
import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from gru_debugger.cli import main
from gru_debugger.core.analysis import gradcheck
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.analysis.gradcheck import REL_TOL, check_one, gradient_check, sample_indices

SCHEMES = st.sampled_from([{"scheme": "default"}, {"scheme": "normal", "std": 1.5},
                           {"scheme": "uniform", "low": -1.0, "high": 1.0}])
configs = st.fixed_dictionaries({
    "cell": st.sampled_from(["gru", "lstm", "rnn"]),
    "batch_size": st.integers(1, 2), "context_length": st.integers(1, 5), "n_embd": st.integers(1, 3),
    "hidden_size": st.integers(1, 3), "dropout": st.sampled_from([0.0, 0.3]),
    "seed": st.integers(0, 2**31), "num_merges": st.integers(0, 3),
    "dtype": st.sampled_from(["float32", "float64"]),
    "init": st.fixed_dictionaries({name: SCHEMES for name in PARAM_NAMES}),
})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfg=configs)
def test_gradcheck_agrees_on_random_configurations(cfg):
    report = gradient_check(fresh_state(Config(**cfg)), samples=20, seed=1)
    assert report["ok"], {n: p["max_rel_error"] for n, p in report["parameters"].items()}
    for name, p in report["parameters"].items():
        assert p["checked"] == min(20, p["size"]) and p["max_rel_error"] <= REL_TOL


def test_a_wrong_gradient_is_caught(monkeypatch):
    real = gradcheck._Loss.autograd

    def off_by_a_little(self):
        grads = {k: v.copy() for k, v in real(self).items()}
        grads["h2g.weight"][0, 0] *= 1.001
        return grads

    monkeypatch.setattr(gradcheck._Loss, "autograd", off_by_a_little)
    report = gradient_check(fresh_state(Config(seed=0, init={n: {"scheme": "default"} for n in PARAM_NAMES})))
    assert not report["ok"]
    assert [n for n, p in report["parameters"].items() if not p["ok"]] == ["h2g.weight"]
    assert report["parameters"]["h2g.weight"]["worst"]["index"] == [0, 0]


def test_check_one_matches_the_engine_and_uses_the_same_masks():
    state = fresh_state(Config(seed=3, dropout=0.5, init={n: {"scheme": "default"} for n in PARAM_NAMES}))
    fd, ag, h = check_one(state, "x2g.weight", (2, 1))
    assert h == pytest.approx(1e-3 * max(1.0, abs(float(state.params["x2g.weight"][2, 1]))))
    assert abs(fd - ag) <= 1e-9 and abs(ag) > 1e-4
    fd2, _, h2 = check_one(state, "lm_head.weight", [5, 0], eps=1e-4)
    assert h2 == 1e-4
    with pytest.raises(ValueError, match="outside"):
        check_one(state, "x2g.weight", (99, 0))
    with pytest.raises(ValueError, match="unknown parameter"):
        check_one(state, "nope", (0,))


def test_samples_are_a_reproducible_subset():
    a = sample_indices("wte.weight", 1000, 50, seed=4)
    assert len(set(a.tolist())) == 50 and a.max() < 1000
    np.testing.assert_array_equal(a, sample_indices("wte.weight", 1000, 50, seed=4))
    assert not np.array_equal(a, sample_indices("wte.weight", 1000, 50, seed=5))
    np.testing.assert_array_equal(sample_indices("x2g.bias", 6, 50, seed=4), np.arange(6))


def test_cli_prints_a_table_and_writes_json(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"seed": 0, "cell": "lstm", "init": {"lm_head.weight": {"scheme": "default"}}}))
    out = tmp_path / "report.json"
    assert main(["gradcheck", "--config", str(config), "--json", str(out), "--samples", "10", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert "h2g.weight" in printed and "all gradients agree" in printed
    report = json.loads(out.read_text())
    assert report["ok"] is True and report["samples"] == 10 and report["seed"] == 2
    assert set(report["parameters"]) == set(PARAM_NAMES)
    assert report["parameters"]["wte.weight"]["checked"] == 10
    assert report["parameters"]["x2g.bias"]["checked"] == 8           # LSTM: 4H = 8 elements, all checked
    assert report["config_dtype"] == "float32"


def test_cli_exit_1_on_disagreement(monkeypatch, capsys):
    monkeypatch.setattr(gradcheck._Loss, "autograd",
                        lambda self: {n: np.full(tuple(self.params[n].shape), 7.0) for n in PARAM_NAMES})
    assert main(["gradcheck", "--samples", "3"]) == 1
    assert "disagrees" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--samples", "0"], "--samples must be at least 1"),
    (["--seed", "-1"], "--seed must be"),
    (["--json", "/no/such/folder/r.json"], "does not exist"),
    (["--config", "/no/such/config.json"], "cannot read config"),
])
def test_cli_mistakes_are_one_error_line(args, message, capsys):
    assert main(["gradcheck", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_cli_bad_config_value(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text('{"dtype": "float16"}')
    assert main(["gradcheck", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: config {config}: dtype must be") and err.count("\n") == 1
