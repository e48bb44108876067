"""Nothing lost: the back-propagation always finishes (edit, edit, undo without polling), float64
sessions come back bit for bit, a damaged session is refused by its checksum, stale temporary
files of a killed writer are removed, and every file written gets the user's umask."""
import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule
from safetensors.torch import save as st_save

from gru_debugger.core.storage import session as session_mod
from gru_debugger.core.storage.atomic_write import TEMP_MARK, remove_stale_temps, write_atomic
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.engine import compute_trace
from gru_debugger.core.storage.export import trace_arrays, write_npz
from gru_debugger.core.analysis.faults import find_fault

DEFAULT_INIT = {n: {"scheme": "default"} for n in PARAM_NAMES}
SMALL = Config(seed=3, batch_size=2, context_length=3, n_embd=3, hidden_size=2, init=DEFAULT_INIT)
POLL_LIMIT_S = 30.0  # a small iteration's background part takes milliseconds; this only bounds a hang
REPO = Path(__file__).resolve().parent.parent


def poll_until_done(ctl: Controller) -> int:
    """Poll as the window's timer does; fails if the background part never finishes."""
    start, polls = time.monotonic(), 0
    while ctl.poll():
        polls += 1
        assert time.monotonic() - start < POLL_LIMIT_S, f"still computing after {polls} polls"
        time.sleep(0.002)
    assert not ctl.computing
    return polls


def expected_fault(ctl: Controller):
    """The fault an independent computation of the current state finds."""
    return find_fault(compute_trace(ctl.state), ctl.config.cell)


# ------------------------------------------------------------------ F1: poll() always finishes
def test_edit_edit_undo_without_polling_finishes_and_finds_the_fault():
    """lm_head 1e30: the forward pass is finite, the second pass (after the update) is NaN: only the
    background part can find it. The first edit's job was dropped by the second edit; undo returns
    to the first edit's trace, whose job must be handed over again."""
    ctl = Controller(SMALL)
    ctl.set_param("lm_head.weight", (0, 0), 1e30)
    ctl.set_param("h2g.weight", (0, 1), 0.5)
    ctl.undo()
    poll_until_done(ctl)
    fault = ctl.snapshot().fault
    assert fault is not None and fault.phase == "forward_after"
    assert fault == expected_fault(ctl)
    from gru_debugger.core.control.training import train_iterations
    with pytest.raises(ControllerError, match="numerical fault"):
        train_iterations(ctl, 2)


def test_a_refused_edit_does_not_strand_the_current_iteration():
    """An edit refused after its trace was made (a learning rate whose step overflows) dropped the
    current trace's queued job; polling still finishes it."""
    ctl = Controller(SMALL)
    ctl.set_param("lm_head.weight", (0, 0), 1e30)  # current trace, job held until a poll
    with pytest.raises(ControllerError, match="overflows"):
        ctl.set_learning_rate(3e38)
    poll_until_done(ctl)
    assert ctl.snapshot().fault == expected_fault(ctl) is not None


EDIT_VALUES = [0.1, -0.4, 2.0, 1e30, 3e38]  # 1e30 in lm_head: a NaN after the update; 3e38: Inf in the loss


class NoPollMachine(RuleBasedStateMachine):
    """Edits, undo and redo in any order with no poll between them; then polling must finish within
    a bounded time and the iteration's fault (if any) must be the one an independent computation finds."""

    def __init__(self):
        super().__init__()
        self.ctl = Controller(SMALL)

    @rule(name=st.sampled_from(["lm_head.weight", "h2g.weight", "x2g.bias"]), value=st.sampled_from(EDIT_VALUES))
    def edit(self, name, value):
        index = (0,) if name.endswith("bias") else (0, 0)
        self.ctl.set_param(name, index, value)

    @rule(lr=st.sampled_from([0.5, 5.0, 1e6]))
    def learning_rate(self, lr):
        try:
            self.ctl.set_learning_rate(lr)
        except ControllerError:
            pass  # a step that overflows float32 is refused; nothing else changes

    @rule()
    def undo(self):
        if self.ctl.can_undo():
            self.ctl.undo()

    @rule()
    def redo(self):
        if self.ctl.can_redo():
            self.ctl.redo()

    @rule(ops=st.lists(st.sampled_from(["edit", "undo", "redo"]), min_size=2, max_size=6),
          values=st.lists(st.sampled_from(EDIT_VALUES), min_size=6, max_size=6))
    def burst(self, ops, values):
        """Several changes in a row, as fast as keys repeat: nothing polls between them."""
        for op, value in zip(ops, values):
            if op == "edit":
                self.edit("lm_head.weight", value)
            elif op == "undo":
                self.undo()
            else:
                self.redo()

    @rule()
    def move(self):
        if self.ctl.can_step():
            self.ctl.step()

    @rule()
    def poll_to_the_end(self):
        poll_until_done(self.ctl)
        assert self.ctl.snapshot().fault == expected_fault(self.ctl)

    def teardown(self):
        self.poll_to_the_end()


NoPollMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
TestNoPoll = NoPollMachine.TestCase


# ------------------------------------------------------------------ F2: float64 sessions are exact
def float64_controller() -> Controller:
    ctl = Controller(Config(seed=5, dtype="float64", batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    ctl.set_param("h2g.weight", (1, 0), 0.10000000000000009)  # not a float32 number
    ctl.next_iteration()  # float64 updates everywhere
    ctl.run_to("cell", 1)
    return ctl


def assert_bitwise(a: Controller, b: Controller) -> None:
    for name in PARAM_NAMES:
        x, y = a.state.params[name], b.state.params[name]
        assert x.dtype == y.dtype == torch.float64, name
        assert x.numpy().tobytes() == y.numpy().tobytes(), name
    assert (a.config, a.state.iteration, a.state.position, a.state.base_seed, a.cursor) == \
        (b.config, b.state.iteration, b.state.position, b.state.base_seed, b.cursor)
    for key in ("loss", "h", "grad/h2g.weight", "updated/lm_head.weight"):
        assert a.snapshot().trace[key].tobytes() == b.snapshot().trace[key].tobytes(), key


def test_float64_session_round_trip_is_bitwise(tmp_path):
    ctl = float64_controller()
    ctl.save(tmp_path / "s.grus")
    back = Controller.load(tmp_path / "s.grus")
    assert_bitwise(ctl, back)
    header = json.loads(session_bytes_header(tmp_path / "s.grus"))
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F64"}


def test_float64_edit_survives_save_exactly(tmp_path):
    ctl = Controller(Config(seed=5, dtype="float64", batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    ctl.set_param("h2g.weight", (1, 0), 0.10000000000000009)
    ctl.save(tmp_path / "s.grus")
    assert Controller.load(tmp_path / "s.grus").state.params["h2g.weight"][1, 0].item() == 0.10000000000000009


def test_float64_autosave_round_trip_is_bitwise(tmp_path, monkeypatch):
    from gru_debugger.ui.session import autosave
    monkeypatch.setenv(autosave.DATA_DIR_ENV, str(tmp_path))
    ctl = float64_controller()
    saver = autosave.AutosaveFile("0" * 32)
    saver.write(ctl, "untitled")
    try:
        assert_bitwise(ctl, Controller.load(saver.session))
    finally:
        saver.remove()


def session_bytes_header(path: Path) -> bytes:
    data = path.read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    return data[8:8 + n]


def test_a_format_1_file_without_checksum_still_loads(tmp_path):
    """What the previous version wrote: float32 weights, version 1, no checksum."""
    ctl = Controller(Config(seed=2, batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    ctl.run_to("loss")
    doc = session_mod.session_document(ctl)
    doc["version"] = 1
    tensors = {f"param/{n}": ctl.state.params[n].clone() for n in PARAM_NAMES}
    path = tmp_path / "old.grus"
    path.write_bytes(st_save(tensors, metadata={session_mod.METADATA_KEY: json.dumps(doc)}))
    back = Controller.load(path)
    assert back.cursor == ctl.cursor and back.config == ctl.config
    for name in PARAM_NAMES:
        assert torch.equal(back.state.params[name], ctl.state.params[name])


# ------------------------------------------------------------------ checksum: single bit flips
def content(loaded) -> tuple:
    state = loaded.state
    return (state.config, state.iteration, state.position, state.base_seed, loaded.cursor_index,
            loaded.breakpoints, {n: (t.dtype, t.numpy().tobytes()) for n, t in state.params.items()})


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_single_bit_flip_is_refused_or_harmless(dtype):
    ctl = Controller(Config(seed=7, dtype=dtype, batch_size=2, context_length=3, n_embd=3, hidden_size=2,
                            corpus=("the cat sat on the mat. " * 3, "a dog.")))
    ctl.run_to("cell", 1)
    ctl.toggle_breakpoint("loss")
    good = session_mod.session_bytes(ctl)
    original = content(session_mod.parse_session(good))
    n = struct.unpack("<Q", good[:8])[0]
    record = good.index(b'{\\"kind\\"')  # the session record's text, inside the header's JSON
    # every bit of the length, the header's start and the tensors' first bytes; a spread elsewhere
    positions = set(range(0, 8)) | set(range(8, 8 + 64)) | set(range(8 + n, min(len(good), 8 + n + 64)))
    positions |= set(range(0, len(good), 5)) | set(range(record, min(record + 200, 8 + n)))
    refused = harmless = 0
    for i in sorted(positions):
        for bit in range(8) if i < 8 + 64 or i >= 8 + n else (i % 8,):
            raw = bytearray(good)
            raw[i] ^= 1 << bit
            try:
                loaded = session_mod.parse_session(bytes(raw))
            except (session_mod._Bad, ControllerError) as exc:
                assert str(exc) and "\n" not in str(exc)
                if i >= 8 + n:
                    assert "checksum" in str(exc), (i, bit, str(exc))
                refused += 1
                continue
            assert content(loaded) == original, f"byte {i} bit {bit} changed the content silently"
            harmless += 1
    assert refused > 1000


def test_a_damaged_weight_is_refused_with_that_reason(tmp_path):
    ctl = Controller(SMALL)
    path = tmp_path / "s.grus"
    ctl.save(path)
    raw = bytearray(path.read_bytes())
    raw[-3] ^= 0x01  # the low bits of the last weight: still a finite float32
    path.write_bytes(bytes(raw))
    with pytest.raises(ControllerError, match=rf"session {path}: damaged: .*checksum"):
        Controller.load(path)


def test_a_changed_corpus_letter_is_refused(tmp_path):
    ctl = Controller(Config(seed=1, batch_size=2, context_length=3, n_embd=3, hidden_size=2,
                            corpus=("hello world, hello there. " * 2,)))
    path = tmp_path / "s.grus"
    ctl.save(path)
    data = path.read_bytes()
    i = data.index(b"hello there")
    raw = bytearray(data)
    raw[i] ^= 0x20  # 'h' -> 'H': valid text, valid JSON, another corpus
    path.write_bytes(bytes(raw))
    with pytest.raises(ControllerError, match="checksum"):
        Controller.load(path)


# ------------------------------------------------------------------ F4: stale temporary files
KILLED_WRITER = textwrap.dedent("""
    import os, signal, sys
    from gru_debugger.core.base.config import Config
    from gru_debugger.core.control.controller import Controller
    ctl = Controller(Config(seed=1, batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    def killed(src, dst):
        os.kill(os.getpid(), signal.SIGKILL)  # killed outright just before the rename
    os.replace = killed
    kind, target = sys.argv[1], sys.argv[2]
    if kind == "weights":
        ctl.export_weights(target)
    elif kind == "session":
        ctl.save(target)
    else:
        from gru_debugger.core.storage.export import trace_arrays, write_npz
        write_npz(target, trace_arrays(ctl.snapshot().trace))
""")


def killed_writer(kind: str, target: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, kind, str(target)], cwd=REPO,
                          capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]


@pytest.mark.parametrize("kind,name", [("weights", "w.safetensors"), ("session", "s.grus"), ("npz", "t.npz")])
def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path, kind, name):
    target = tmp_path / name
    killed_writer(kind, target)
    stale = [p for p in tmp_path.iterdir() if TEMP_MARK in p.name]
    assert len(stale) == 1 and stale[0].stat().st_size > 0 and not target.exists()
    # a user's files next to it, and a temporary file whose writer still runs
    users = {tmp_path / f".{name}.backup": b"mine", tmp_path / f"{name}.{TEMP_MARK}4194304-x": b"mine",
             tmp_path / f".other{target.suffix}.{TEMP_MARK}4194304-abc{target.suffix}": b"mine",
             tmp_path / f".{name}.{TEMP_MARK}{os.getppid()}-live{target.suffix}": b"in progress",
             tmp_path / f".{name}.gru-debugger-partial-x-1{target.suffix}": b"mine"}
    for path, data in users.items():
        path.write_bytes(data)
    ctl = Controller(Config(seed=1, batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    if kind == "weights":
        ctl.export_weights(target)
    elif kind == "session":
        ctl.save(target)
    else:
        write_npz(target, trace_arrays(ctl.snapshot().trace))
    assert not stale[0].exists() and target.exists()
    assert all(path.read_bytes() == data for path, data in users.items())
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name] + [p.name for p in users])


def test_temporary_files_of_older_versions_are_removed(tmp_path):
    """The previous version named a session's temporary files with a mark of their own."""
    target = tmp_path / "s.grus"
    old = tmp_path / f".s.grus.gru-debugger-session-partial-{2**22 + 12345}-abc.grus"
    old.write_bytes(b"half")
    assert remove_stale_temps(target) == [old]


# ------------------------------------------------------------------ one atomic writer, the user's umask
@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_every_written_file_gets_the_users_umask(tmp_path, monkeypatch, mask):
    from gru_debugger.ui.session import autosave
    monkeypatch.setenv(autosave.DATA_DIR_ENV, str(tmp_path / "data"))
    ctl = Controller(SMALL)
    saver = autosave.AutosaveFile("1" * 32)
    old = os.umask(mask)
    try:
        written = [Path(ctl.export_weights(tmp_path / "w.safetensors")),
                   Path(ctl.export_weights(tmp_path / "t.safetensors", layout="torch"))]
        write_npz(tmp_path / "t.npz", trace_arrays(ctl.snapshot().trace))
        ctl.save(tmp_path / "s.grus")
        saver.write(ctl, "untitled")
        from gru_debugger.ui.export_view import _write  # a heatmap's numbers or picture
        written += [tmp_path / "t.npz", tmp_path / "s.grus", saver.session, saver.meta,
                    _write(tmp_path / "h.csv", b"1,2\n")]
    finally:
        os.umask(old)
    try:
        for path in written:
            assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path.name
    finally:
        saver.remove()


def test_the_cli_export_gets_the_users_umask(tmp_path):
    target = tmp_path / "cli.npz"
    proc = subprocess.run([sys.executable, "-c", "import os, sys; os.umask(0o022); from gru_debugger.cli import main; "
                           "sys.exit(main(['export', '--out', sys.argv[1]]))", str(target)],
                          cwd=REPO, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert target.stat().st_mode & 0o777 == 0o644


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def failing(fh):
        fh.write(b"half")
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, failing)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["f.bin"]
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and np.array_equal(sorted(os.listdir(tmp_path)), ["f.bin"])


# ------------------------------------------------------------------ F3: an autosave belongs to one instance
INSTANCE = textwrap.dedent("""
    import os, signal, sys, time, uuid
    from gru_debugger.core.base.config import Config
    from gru_debugger.core.control.controller import Controller
    from gru_debugger.ui.session import autosave
    action = sys.argv[1]
    if action == "crash":  # autosave some work, then die without cleaning up
        ctl = Controller(Config(seed=4, batch_size=2, context_length=3, n_embd=3, hidden_size=2))
        ctl.set_learning_rate(float(sys.argv[2]))
        autosave.AutosaveFile(uuid.uuid4().hex).write(ctl, "crashed " + sys.argv[2])
        os.kill(os.getpid(), signal.SIGKILL)
    taken = autosave.take_orphans()  # a second instance starting: what would it offer?
    print(",".join(sorted(o.title for o in taken)), flush=True)
""")


def instance(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, GRU_DEBUGGER_DATA_DIR=str(data))
    return subprocess.run([sys.executable, "-c", INSTANCE, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_two_instances_after_a_crash_never_share_an_autosave(tmp_path, monkeypatch):
    from gru_debugger.ui.session import autosave
    monkeypatch.setenv(autosave.DATA_DIR_ENV, str(tmp_path))
    crashed = instance(tmp_path, "crash", "0.25")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert [o.title for o in autosave.find_orphans()] == ["crashed 0.25"]  # looking takes nothing

    first = autosave.take_orphans()  # the first instance offers it (and holds it while it asks)
    assert [o.title for o in first] == ["crashed 0.25"]
    assert instance(tmp_path, "second").stdout.strip() == ""  # a second instance offers nothing
    assert autosave.take_orphans() == []  # nor does another window of this one

    # the first restores it and keeps autosaving into it; nobody else may write there
    restored = Controller.load(first[0].session)
    assert restored.config.learning_rate == 0.25
    mine = first[0].file
    restored.set_learning_rate(0.5)
    mine.write(restored, "recovered")
    intruder = autosave.AutosaveFile(mine.ident)
    with pytest.raises(OSError, match="another running instance"):
        intruder.write(Controller(SMALL), "intruder")
    assert Controller.load(mine.session).config.learning_rate == 0.5

    # a second crash: only its own autosave is offered, never the one the first instance owns
    assert instance(tmp_path, "crash", "0.75").returncode == -signal.SIGKILL
    assert instance(tmp_path, "second").stdout.strip() == "crashed 0.75"
    mine.remove()  # a clean close: nothing left of it, its lock let go
    assert not mine.session.exists() and not mine.meta.exists() and not mine.lock.exists()


def test_an_autosave_answered_later_is_offered_again(tmp_path, monkeypatch):
    from gru_debugger.ui.session import autosave
    monkeypatch.setenv(autosave.DATA_DIR_ENV, str(tmp_path))
    assert instance(tmp_path, "crash", "0.25").returncode == -signal.SIGKILL
    taken = autosave.take_orphans()
    assert instance(tmp_path, "second").stdout.strip() == ""
    taken[0].release()  # "Later"
    assert instance(tmp_path, "second").stdout.strip() == "crashed 0.25"
    assert taken[0].session.exists() and taken[0].meta.exists()


# ------------------------------------------------------------------ two messages that said something false
@pytest.mark.parametrize("given,says", [("/dev/zero", "exists but is not a regular file"),
                                        ("/dev/null", "exists but is not a regular file"),
                                        ("{tmp}", "is a folder"), ("{tmp}/missing.txt", "does not exist"),
                                        ("{tmp}/empty.txt", "is empty")])
def test_soak_says_what_is_wrong_with_a_text_file(tmp_path, capsys, given, says):
    from gru_debugger.cli import main
    (tmp_path / "empty.txt").write_text("")
    path = given.format(tmp=tmp_path)
    code = main(["soak", "--iterations", "1", "--text", path])
    err = capsys.readouterr().err.splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:"), err
    assert path in err[0] and says in err[0]
    if says != "does not exist":
        assert "does not exist" not in err[0]


def test_soak_refuses_a_bad_named_file_even_after_a_good_one(tmp_path):
    from gru_debugger.devtools.soak import read_texts
    good = tmp_path / "good.txt"
    good.write_text("some text " * 10_000)
    with pytest.raises(ValueError, match="/dev/zero exists but is not a regular file"):
        read_texts([str(good), "/dev/zero"], strict=True)
    assert sum(map(len, read_texts([str(good), "/dev/zero"]))) > 0  # the default list passes it over


def test_step_back_at_the_start_of_a_changed_later_iteration_says_why():
    ctl = Controller(Config(seed=3, batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    with pytest.raises(ControllerError, match="already at the start of the first iteration"):
        ctl.step_back()
    ctl.next_iteration()
    ctl.set_cell("lstm")
    state = ctl.state
    with pytest.raises(ControllerError) as info:
        ctl.step_back()
    message = str(info.value)
    assert "first iteration" not in message
    assert "iteration 1" in message and "Cell = LSTM" in message and "undo" in message
    assert ctl.state is state and ctl.cursor == -1
    ctl.undo()  # what the message says to do: then step back goes into iteration 0
    ctl.step_back()
    assert ctl.state.iteration == 0


def test_step_back_at_the_start_of_an_opened_later_iteration_says_why(tmp_path):
    ctl = Controller(Config(seed=3, batch_size=2, context_length=3, n_embd=3, hidden_size=2))
    ctl.next_iteration()
    ctl.next_iteration()
    ctl.save(tmp_path / "s.grus")
    opened = Controller.load(tmp_path / "s.grus")
    with pytest.raises(ControllerError, match="iteration 2: this session began here, so iteration 1 is not"):
        opened.step_back()
