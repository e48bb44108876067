"""Sessions: save and load give bitwise the same numbers, the same next step and
breakpoints; damaged or hand-edited files are refused with ControllerError;
saving is atomic."""
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st
from safetensors.torch import save as st_save

from gru_debugger.core.storage import session as session_mod
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.phases import PHASES
from gru_debugger.core.storage.session import METADATA_KEY, TEMP_MARK, parse_session, session_bytes

CELLS = ("gru", "lstm", "rnn")


def small(cell, seed=None):
    return Config(seed=seed, cell=cell, batch_size=2, context_length=3, n_embd=3, hidden_size=2,
                  init={"x2g.weight": {"scheme": "normal", "std": 0.5}, "h2g.weight": {"scheme": "default"}})


def assert_same(a, b):
    sa, sb = a.snapshot(), b.snapshot()
    assert sa.trace.arrays.keys() == sb.trace.arrays.keys()
    for key in sa.trace.arrays:
        assert np.array_equal(sa.trace.arrays[key], sb.trace.arrays[key]), key
        assert sa.trace.arrays[key].dtype == sb.trace.arrays[key].dtype, key
    assert sa.step == sb.step and a.cursor == b.cursor
    assert a.breakpoints == b.breakpoints
    assert a.state.base_seed == b.state.base_seed
    assert a.state.iteration == b.state.iteration and a.state.position == b.state.position
    assert a.config == b.config
    if a.can_step():
        a.step(), b.step()
        assert a.snapshot().step == b.snapshot().step


ACTIONS = st.lists(st.one_of(
    st.tuples(st.just("param"), st.sampled_from(PARAM_NAMES), st.integers(0, 5), st.integers(0, 5),
              st.floats(-3, 3, allow_nan=False)),
    st.tuples(st.just("lr"), st.floats(-10, 10, allow_nan=False)),
    st.tuples(st.just("next")),
    st.tuples(st.just("move"), st.sampled_from(["step", "step_into", "step_out", "run_to_end", "step_back",
                                                 "run_to_start", "continue_"])),
    st.tuples(st.just("run_to"), st.sampled_from(PHASES), st.one_of(st.none(), st.integers(0, 2))),
    st.tuples(st.just("break"), st.sampled_from(PHASES)),
    st.tuples(st.just("undo")),
), max_size=8)


def apply(ctl, action):
    kind = action[0]
    try:
        if kind == "param":
            _, name, i, j, value = action
            shape = tuple(ctl.state.params[name].shape)
            index = (i % shape[0],) if len(shape) == 1 else (i % shape[0], j % shape[1])
            ctl.set_param(name, index, value)
        elif kind == "lr":
            ctl.set_learning_rate(action[1])
        elif kind == "next":
            ctl.next_iteration()
        elif kind == "move":
            getattr(ctl, action[1])()
        elif kind == "run_to":
            ctl.run_to(action[1], action[2])
        elif kind == "break":
            ctl.toggle_breakpoint(action[1])
        elif kind == "undo":
            ctl.undo()
    except ControllerError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(cell=st.sampled_from(CELLS), seed=st.one_of(st.none(), st.integers(0, 2**63 - 1)), actions=ACTIONS)
def test_round_trip_is_bitwise_exact(tmp_path, cell, seed, actions):
    ctl = Controller(small(cell, seed))
    for action in actions:
        apply(ctl, action)
    path = tmp_path / "s.grus"
    ctl.save(path)
    again = Controller.load(path)
    assert again is not ctl
    assert_same(ctl, again)
    # the weights themselves, edited ones included
    for name in PARAM_NAMES:
        assert torch.equal(ctl.state.params[name], again.state.params[name])


def test_round_trip_keeps_a_drawn_seed_and_the_corpus_texts(tmp_path):
    ctl = Controller(Config(corpus=["first text, with ünïcode 😀 ", "second\n text"], num_merges=3,
                            seed=None, cell="lstm"))
    ctl.run_to("backward", 1)
    ctl.save(tmp_path / "a.grus")
    again = Controller.load(tmp_path / "a.grus")
    assert again.config.corpus == ctl.config.corpus and again.config.seed is None
    assert_same(ctl, again)


def test_corpus_with_lone_surrogates_is_refused_by_save(tmp_path):
    ctl = Controller(Config(corpus=["text \ud83d\ude00 and more text here"], seed=1))
    with pytest.raises(ControllerError, match="not valid Unicode"):
        ctl.save(tmp_path / "a.grus")
    assert list(tmp_path.iterdir()) == []


def test_load_leaves_the_open_controller_alone(tmp_path):
    ctl = Controller(small("gru", 1))
    ctl.run_to("loss")
    ctl.save(tmp_path / "a.grus")
    ctl.set_learning_rate(0.5)
    state, cursor, undo = ctl.state, ctl.cursor, ctl.undo_texts
    other = Controller.load(tmp_path / "a.grus")
    assert ctl.state is state and ctl.cursor == cursor and ctl.undo_texts == undo
    assert other.config.learning_rate == 5.0 and not other.can_undo()


# ------------------------------------------------------------------ damaged and hand-edited files
@pytest.fixture(scope="module")
def good_bytes():
    ctl = Controller(small("gru", 5))
    ctl.run_to("cell", 1)
    ctl.step_into()
    ctl.toggle_breakpoint("loss")
    return session_bytes(ctl)


def split(data):
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    doc = json.loads(header["__metadata__"][METADATA_KEY])
    tensors = {k: torch.frombuffer(bytearray(data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]),
                                   dtype=torch.float32).reshape(v["shape"]) for k, v in header.items()
               if k != "__metadata__"}
    return doc, tensors


def build(doc, tensors, raw_text=None):
    """A file with these contents and a matching checksum: what is refused is the content itself."""
    text = raw_text if raw_text is not None else json.dumps(doc)
    return session_mod.sealed(text, tensors)


def refused(data, tmp_path, match=None):
    path = tmp_path / "bad.grus"
    path.write_bytes(data)
    with pytest.raises(ControllerError, match=match) as info:
        Controller.load(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_good_file_loads(good_bytes, tmp_path):
    path = tmp_path / "good.grus"
    path.write_bytes(good_bytes)
    assert Controller.load(path).snapshot().step.label == "GRU t=2 (x2g)"


def test_truncations_at_many_offsets_are_refused(good_bytes, tmp_path):
    for cut in sorted(set(list(range(0, 64)) + list(range(0, len(good_bytes), 7)) + [len(good_bytes) - 1])):
        refused(good_bytes[:cut], tmp_path)


def test_appended_bytes_are_refused(good_bytes, tmp_path):
    refused(good_bytes + b"\0" * 4, tmp_path, "cover")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flipped_bytes_are_refused_or_load_cleanly(good_bytes, tmp_path, data):
    """A flipped byte either is caught (ControllerError) or lands somewhere
    harmless (a weight's low bits: a valid, finite file); never anything else."""
    raw = bytearray(good_bytes)
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    path = tmp_path / "flipped.grus"
    path.write_bytes(bytes(raw))
    try:
        ctl = Controller.load(path)
    except ControllerError:
        return
    assert all(bool(torch.isfinite(t).all()) for t in ctl.state.params.values())


def test_header_bytes_flipped_are_refused(good_bytes, tmp_path):
    n = struct.unpack("<Q", good_bytes[:8])[0]
    for i in range(8, 8 + n, max(1, n // 150)):
        raw = bytearray(good_bytes)
        raw[i] = ord("}") if raw[i] != ord("}") else ord("{")
        refused(bytes(raw), tmp_path)


EDITS = {
    "wrong kind": lambda d: d.update(kind="something.else"),
    "newer version": lambda d: d.update(version=session_mod.SESSION_VERSION + 1),
    "version as text": lambda d: d.update(version="1"),
    "version as bool": lambda d: d.update(version=True),
    "missing cursor": lambda d: d.pop("cursor"),
    "missing config": lambda d: d.pop("config"),
    "extra key": lambda d: d.update(extra=1),
    "iteration as text": lambda d: d.update(iteration="3"),
    "negative position": lambda d: d.update(position=-1),
    "position too late": lambda d: d.update(position=10**6),
    "float seed": lambda d: d.update(base_seed=1.5),
    "huge seed": lambda d: d.update(base_seed=2**70),
    "cursor step missing": lambda d: d.update(cursor={"phase": "cell", "t": 7, "sub": "z"}),
    "cursor sub of another cell": lambda d: d.update(cursor={"phase": "cell", "t": 0, "sub": "i"}),
    "cursor phase unknown": lambda d: d.update(cursor={"phase": "gru", "t": 0, "sub": "h"}),
    "cursor t as text": lambda d: d.update(cursor={"phase": "cell", "t": "0", "sub": "h"}),
    "cursor extra key": lambda d: d.update(cursor={"phase": "loss", "t": None, "sub": None, "x": 1}),
    "breakpoint unknown": lambda d: d.update(breakpoints=["nowhere"]),
    "breakpoints as text": lambda d: d.update(breakpoints="loss"),
    "breakpoint twice": lambda d: d.update(breakpoints=["loss", "loss"]),
    "config as list": lambda d: d.update(config=[1]),
    "config missing key": lambda d: d["config"].pop("hidden_size"),
    "config extra key": lambda d: d["config"].update(colour="red"),
    "hidden size as text": lambda d: d["config"].update(hidden_size="2"),
    "hidden size changed": lambda d: d["config"].update(hidden_size=3),
    "cell changed": lambda d: d["config"].update(cell="lstm"),
    "cell unknown": lambda d: d["config"].update(cell="transformer"),
    "corpus as text": lambda d: d["config"].update(corpus="a text"),
    "corpus changed": lambda d: d["config"].update(corpus=["completely different text " * 3]),
    "lr huge": lambda d: d["config"].update(learning_rate=1e39),
    "dropout bool": lambda d: d["config"].update(dropout=True),
    "init missing a parameter": lambda d: d["config"]["init"].pop("h2g.bias"),
    "init bad scheme": lambda d: d["config"]["init"].update({"h2g.bias": {"scheme": "nope"}}),
    "B too large": lambda d: d["config"].update(batch_size=5000),
}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_hand_edited_records_are_refused(good_bytes, tmp_path, edit):
    doc, tensors = split(good_bytes)
    EDITS[edit](doc)
    refused(build(doc, tensors), tmp_path)


@pytest.mark.parametrize("raw", ["[1, 2]", "{not json", '{"kind": NaN}', '{"version": 1e999}', "", "1" * 5000])
def test_broken_record_text_is_refused(good_bytes, tmp_path, raw):
    doc, tensors = split(good_bytes)
    refused(build(doc, tensors, raw_text=raw), tmp_path)


def test_record_with_nan_number_is_refused(good_bytes, tmp_path):
    doc, tensors = split(good_bytes)
    text = json.dumps(doc).replace('"learning_rate": 5.0', '"learning_rate": NaN')
    assert "NaN" in text
    refused(build(doc, tensors, raw_text=text), tmp_path, "NaN")


TENSOR_EDITS = {
    "nan weight": lambda t: t["param/h2g.weight"].__setitem__((0, 0), float("nan")),
    "inf weight": lambda t: t["param/wte.weight"].__setitem__((0, 0), float("inf")),
    "missing weight": lambda t: t.pop("param/x2g.bias"),
    "extra tensor": lambda t: t.update({"param/extra": torch.zeros(2)}),
    "wrong shape": lambda t: t.update({"param/h2g.weight": torch.zeros(6, 3)}),
    "wrong dtype": lambda t: t.update({"param/h2g.weight": torch.zeros(6, 2, dtype=torch.float64)}),
    "int dtype": lambda t: t.update({"param/x2g.bias": torch.zeros(6, dtype=torch.int32)}),
}


@pytest.mark.parametrize("edit", sorted(TENSOR_EDITS))
def test_bad_weights_are_refused(good_bytes, tmp_path, edit):
    doc, tensors = split(good_bytes)
    tensors = {k: v.clone() for k, v in tensors.items()}
    TENSOR_EDITS[edit](tensors)
    refused(build(doc, tensors), tmp_path)


def test_not_a_session_and_oversized_headers_are_refused(tmp_path, good_bytes):
    refused(b"", tmp_path, "too short")
    refused(b"PK\x03\x04" + b"\0" * 100, tmp_path)
    refused(st_save({"a": torch.zeros(2)}), tmp_path, "not a GRU Debugger session")
    refused(st_save({"a": torch.zeros(2)}, metadata={"x": "y"}), tmp_path, "not a GRU Debugger session")
    refused(struct.pack("<Q", 10**12) + good_bytes[8:], tmp_path, "header of")
    refused(struct.pack("<Q", 2**64 - 1) + good_bytes[8:], tmp_path)


def test_file_larger_than_the_cap_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(session_mod, "MAX_SESSION_BYTES", 1000)
    ctl = Controller(small("rnn", 1))
    ctl.save(tmp_path / "big.grus")
    assert (tmp_path / "big.grus").stat().st_size > 1000
    with pytest.raises(ControllerError, match="larger than the limit"):
        Controller.load(tmp_path / "big.grus")


def test_fifo_and_folder_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.grus"
    os.mkfifo(fifo)
    with pytest.raises(ControllerError, match="not a regular file"):
        Controller.load(fifo)
    with pytest.raises(ControllerError, match="not a regular file"):
        Controller(small("gru", 1)).save(fifo)
    assert fifo.is_fifo()
    with pytest.raises(ControllerError, match="folder"):
        Controller.load(tmp_path)


def test_parse_session_never_raises_anything_else(good_bytes):
    """Directly on bytes: every prefix of the file is refused with our own error."""
    for cut in range(0, len(good_bytes), 13):
        with pytest.raises(Exception) as info:
            parse_session(good_bytes[:cut])
        assert isinstance(info.value, (session_mod._Bad, ControllerError)), type(info.value)


# ------------------------------------------------------------------ atomic save
def strays(folder):
    return [p.name for p in Path(folder).iterdir() if TEMP_MARK in p.name]


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    ctl = Controller(small("gru", 2))
    path = tmp_path / "s.grus"
    ctl.save(path)
    old = path.read_bytes()
    ctl.set_learning_rate(0.25)

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(session_mod.os, "fsync", broken_fsync)
    with pytest.raises(ControllerError, match=f"cannot save session {path}: No space left"):
        ctl.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old and strays(tmp_path) == []
    assert Controller.load(path).config.learning_rate == 5.0


def test_save_into_a_read_only_folder_fails_clearly(tmp_path, monkeypatch):
    """A read-only folder refuses to create the temporary file (simulated, so the
    test means the same run as root or not); the old file stays intact."""
    ctl = Controller(small("lstm", 2))
    path = tmp_path / "s.grus"
    ctl.save(path)
    old = path.read_bytes()

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    ctl.set_learning_rate(0.5)
    with pytest.raises(ControllerError, match=f"cannot save session {path}: Permission denied"):
        ctl.save(path)
    assert path.read_bytes() == old and strays(tmp_path) == []


def test_interrupted_save_leaves_no_temporary_and_old_file(tmp_path, monkeypatch):
    ctl = Controller(small("gru", 2))
    path = tmp_path / "s.grus"
    ctl.save(path)
    old = path.read_bytes()

    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(session_mod.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ctl.save(path)
    assert path.read_bytes() == old and strays(tmp_path) == []


def test_stale_temporaries_of_ours_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "s.grus"
    dead = 2**22 + 12345  # no such process
    stale = tmp_path / f".s.grus.{TEMP_MARK}{dead}-abc.grus"
    stale.write_bytes(b"half")
    other = tmp_path / ".s.grus.someone-elses.grus"
    other.write_bytes(b"keep")
    Controller(small("rnn", 2)).save(path)
    assert not stale.exists() and other.exists() and strays(tmp_path) == []


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_saved_file_gets_ordinary_permissions(tmp_path, mask):
    old = os.umask(mask)
    try:
        Controller(small("gru", 2)).save(tmp_path / "s.grus")
    finally:
        os.umask(old)
    assert (tmp_path / "s.grus").stat().st_mode & 0o777 == 0o666 & ~mask
