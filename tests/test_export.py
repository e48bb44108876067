"""python main.py export: the archive and its error paths."""
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gru_debugger.cli import main

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = ["tokens", "x", "y", "vocab", "merges", "embedded", "dropout_in_mask", "zx", "rx", "nx", "zh", "rh",
            "nh", "z", "r", "n", "h", "dropout_out_mask", "logits", "probs", "loss", "grad/h", "loss_after"]
PARAMS = ["wte.weight", "x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias", "lm_head.weight"]


def test_export_default_config(tmp_path, capsys):
    out = tmp_path / "trace.npz"
    assert main(["export", "--out", str(out)]) == 0
    data = np.load(out, allow_pickle=False)
    for key in REQUIRED + [f"{p}/{n}" for p in ("param", "grad", "updated") for n in PARAMS]:
        assert key in data.files, key
    assert data["vocab"].dtype.kind == "U" and data["vocab"].shape == (36,)
    assert data["merges"].shape == (5, 2) and data["merges"][0].tolist() == [" ", "a"]
    assert data["loss"].shape == () and round(float(data["loss"]), 4) == round(math.log(36), 4)
    assert data["z"].shape == (2, 8, 2) and data["grad/h"].shape == (2, 8, 2)
    assert data["param/x2g.weight"].shape == (6, 4)
    assert "loss" in capsys.readouterr().out


def test_export_with_config_is_reproducible(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"seed": 4, "hidden_size": 3, "context_length": 5, "corpus": ["hello world " * 20],
                               "init": {"h2g.weight": {"scheme": "normal", "mean": 0, "std": 0.1}}}))
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["export", "--config", str(cfg), "--out", str(a)]) == 0
    assert main(["export", "--config", str(cfg), "--out", str(b)]) == 0
    da, db = np.load(a), np.load(b)
    assert da["h"].shape == (2, 5, 3)
    for key in da.files:
        np.testing.assert_array_equal(da[key], db[key])


@pytest.mark.parametrize("config, message", [
    ("{not json", "not valid JSON"),
    ('{"batch_size": 0}', "batch_size"),
    ('{"dropout": 1.5}', "dropout"),
    ('{"corpus": ["short"]}', "tokens"),
    ('{"corpus": "not a list"}', "corpus"),
    ('{"init": {"x2g.weight": {"scheme": "magic"}}}', "unknown scheme"),
    ('{"learning_rate": "fast"}', "learning_rate"),
    ('{"colour": 3}', "unknown setting"),
    ('[1, 2]', "JSON object"),
])
def test_bad_config_one_line_exit_2_nothing_written(tmp_path, capsys, config, message):
    cfg = tmp_path / "bad.json"
    cfg.write_text(config)
    out = tmp_path / "t.npz"
    assert main(["export", "--config", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == [cfg]


@pytest.mark.parametrize("args", [["export"], ["export", "--out", "/no/such/dir/t.npz"], ["export", "--out", "x.txt"],
                                  ["export", "--config", "/no/such.json", "--out", "t.npz"], ["frobnicate"]])
def test_bad_arguments(tmp_path, capsys, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_main_py_runs_as_a_script(tmp_path):
    out = tmp_path / "t.npz"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "export", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out.exists()


def test_notebook_config_file_equals_the_defaults():
    from gru_debugger.core.base.config import Config
    from gru_debugger.core.storage.config_load import load_config
    assert load_config(ROOT / "resources" / "notebook_config.json") == Config()


def test_the_window_without_a_display_says_so(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "no display" in err and "screenshots" in err and err.count("\n") == 1
