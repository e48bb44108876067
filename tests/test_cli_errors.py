"""Every mistake in a config file gives one `error:` line naming the file and exit code 2,
however odd the file (folders, devices, pipes, huge or deeply nested JSON, enormous numbers)."""
import json
import os

import numpy as np
import pytest

from gru_debugger.cli import main
from gru_debugger.core.base.config import MAX_CONFIG_BYTES
from gru_debugger.core.storage.export import TEMP_MARK, remove_stale_temps, write_npz


def one_error_line(capsys, argv, path):
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert str(path) in lines[0], err
    assert "Traceback" not in err and TEMP_MARK not in err and ".partial" not in err
    return lines[0]


BAD_CONFIGS = {
    "deep_list": "[" * 100_000 + "]" * 100_000,
    "deep_value": '{"corpus": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "moderately_deep": '{"batch_size": ' + "[" * 900 + "]" * 900 + "}",
    "huge_int": '{"batch_size": 1' + "0" * 5000 + "}",
    "big_int_dropout": '{"dropout": 1' + "0" * 400 + "}",
    "big_int_lr": '{"learning_rate": 1' + "0" * 400 + "}",
    "float_overflow_lr": '{"learning_rate": 1e39}',
    "float_literal_inf": '{"learning_rate": 1e400}',
    "nan": '{"dropout": NaN}',
    "scheme_list": '{"init": {"x2g.weight": {"scheme": ["normal"]}}}',
    "spec_list": '{"init": {"x2g.weight": ["normal"]}}',
    "init_list": '{"init": ["normal"]}',
    "init_value_overflow": '{"init": {"x2g.weight": {"scheme": "constant", "value": 1e39}}}',
    "init_value_big_int": '{"init": {"x2g.weight": {"scheme": "constant", "value": 1' + "0" * 400 + "}}}",
    "init_uniform_overflow": '{"init": {"x2g.weight": {"scheme": "uniform", "low": -3e38, "high": 3e38}}}',
    "position_huge": '{"position": 1' + "0" * 300 + "}",
    "batch_too_big_for_corpus": '{"batch_size": 64, "context_length": 64}',
    "long_string_value": '{"batch_size": "' + "x" * 100_000 + '"}',
    "not_utf8": b'{"corpus": ["\xff\xfe"]}',
    "empty": "",
}


@pytest.mark.parametrize("command", ["export", "screenshots"])
@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_bad_config_file(tmp_path, capsys, command, name):
    cfg = tmp_path / f"{name}.json"
    content = BAD_CONFIGS[name]
    cfg.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / ("t.npz" if command == "export" else "shots")
    line = one_error_line(capsys, [command, "--config", str(cfg), "--out", str(out)], cfg)
    assert len(line) < 600
    assert sorted(p.name for p in tmp_path.iterdir()) == [cfg.name], "nothing may be written"


def test_config_that_is_a_folder(tmp_path, capsys):
    folder = tmp_path / "conf.json"
    folder.mkdir()
    line = one_error_line(capsys, ["export", "--config", str(folder), "--out", str(tmp_path / "t.npz")], folder)
    assert "folder" in line


def test_config_that_is_a_device_does_not_read_forever(tmp_path, capsys):
    line = one_error_line(capsys, ["export", "--config", "/dev/zero", "--out", str(tmp_path / "t.npz")],
                          "/dev/zero")
    assert "not a regular file" in line


def test_config_that_is_a_pipe_does_not_block(tmp_path, capsys):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)  # nobody writes to it: opening it for a blocking read would wait forever
    line = one_error_line(capsys, ["export", "--config", str(fifo), "--out", str(tmp_path / "t.npz")], fifo)
    assert "not a regular file" in line


def test_config_larger_than_the_limit(tmp_path, capsys):
    big = tmp_path / "big.json"
    with open(big, "wb") as fh:  # sparse: no need to write 50 MB
        fh.truncate(MAX_CONFIG_BYTES + 1)
    line = one_error_line(capsys, ["export", "--config", str(big), "--out", str(tmp_path / "t.npz")], big)
    assert f"{MAX_CONFIG_BYTES // 1024**2} MB" in line


def test_config_errors_name_the_file(tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"batch_size": 0}))
    line = one_error_line(capsys, ["export", "--config", str(cfg), "--out", str(tmp_path / "t.npz")], cfg)
    assert "batch_size" in line


# ------------------------------------------------------------------ export temporary files
def test_interrupted_export_leaves_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "t.npz"

    def interrupted(fh, **arrays):
        fh.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_npz(target, {"a": np.zeros(2)})
    assert list(tmp_path.iterdir()) == []


def test_failed_write_names_the_target_not_the_temporary_file(tmp_path, monkeypatch, capsys):
    def full(fh, **arrays):
        raise OSError(28, "No space left on device", str(fh.name))

    monkeypatch.setattr(np, "savez", full)
    target = tmp_path / "t.npz"
    line = one_error_line(capsys, ["export", "--out", str(target)], target)
    assert "No space left" in line and TEMP_MARK not in line
    assert list(tmp_path.iterdir()) == []


def test_next_export_removes_only_our_stale_temporary_files(tmp_path, capsys):
    target = tmp_path / "t.npz"
    dead_pid = 2**22 + 12345  # above the usual pid limit: no such process
    ours = tmp_path / f".t.npz.{TEMP_MARK}{dead_pid}-abc123.npz"
    ours.write_bytes(b"stale")
    alive = tmp_path / f".t.npz.{TEMP_MARK}{os.getppid()}-def456.npz"  # a writer that still runs
    alive.write_bytes(b"in progress")
    users = [tmp_path / ".t.npz.abc123.npz", tmp_path / ".t.npz.mine.npz", tmp_path / f".other.npz.{TEMP_MARK}1-x.npz",
             tmp_path / f"t.npz.{TEMP_MARK}{dead_pid}-x.npz"]
    for path in users:
        path.write_bytes(b"user's")
    assert main(["export", "--out", str(target)]) == 0
    assert not ours.exists() and alive.exists() and target.exists()
    assert all(p.read_bytes() == b"user's" for p in users)
    assert remove_stale_temps(target) == []
