"""Your own text: the ``corpus_files`` config key and Inputs → "Open Text File…"."""
import json

import pytest
from PySide6 import QtWidgets

from gru_debugger.cli import main
from gru_debugger.core.base.config import Config, ConfigError
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.base.texts import MAX_TEXT_BYTES, read_text_file
from gru_debugger.ui.editors.inputs_panel import InputsPanel

TEXT_A = "the quick brown fox jumps over the lazy dog. " * 6
TEXT_B = "säge, größe, naïve café: ünïcödé works too. " * 6


def write_config(folder, data):
    path = folder / "cfg.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


# ---------------------------------------------------------------- config key

def test_files_replace_the_default_corpus_relative_to_the_config(tmp_path, monkeypatch):
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "a.txt").write_text(TEXT_A, encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\xef\xbb\xbf" + TEXT_B.encode("utf-8"))  # with a byte-order mark
    cfg = write_config(tmp_path, {"corpus_files": ["texts/a.txt", str(tmp_path / "b.txt")], "seed": 1})
    monkeypatch.chdir(tmp_path / "texts")  # relative to the config's folder, not the working folder
    loaded = load_config(cfg)
    assert loaded.corpus == (TEXT_A, TEXT_B)
    assert loaded.corpus != Config().corpus
    Controller(loaded)  # tokenizes and computes


def test_files_come_after_corpus_texts(tmp_path):
    (tmp_path / "a.txt").write_text(TEXT_A, encoding="utf-8")
    cfg = write_config(tmp_path, {"corpus": [TEXT_B], "corpus_files": ["a.txt"]})
    assert load_config(cfg).corpus == (TEXT_B, TEXT_A)


def test_missing_file_names_the_path(tmp_path):
    cfg = write_config(tmp_path, {"corpus_files": ["nowhere/story.txt"]})
    with pytest.raises(ConfigError, match=r"nowhere/story\.txt .*does not exist"):
        load_config(cfg)


def test_binary_file_is_not_utf8_text(tmp_path):
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "latin1.txt").write_bytes("café crème".encode("latin-1"))
    for name in ("picture.png", "latin1.txt"):
        cfg = write_config(tmp_path, {"corpus_files": [name]})
        with pytest.raises(ConfigError) as info:
            load_config(cfg)
        assert name in str(info.value) and "is not UTF-8 text" in str(info.value)


def test_too_large_file_states_the_limit(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:  # sparse: quick to make, larger than the limit
        handle.truncate(MAX_TEXT_BYTES + 1)
    cfg = write_config(tmp_path, {"corpus_files": ["big.txt"]})
    with pytest.raises(ConfigError, match=r"big\.txt .*the limit is 20\.0 MB"):
        load_config(cfg)


@pytest.mark.parametrize("value", [[], "a.txt", [3], [""]])
def test_corpus_files_must_be_a_list_of_paths(tmp_path, value):
    with pytest.raises(ConfigError, match="corpus_files must be a non-empty list of file paths"):
        load_config(write_config(tmp_path, {"corpus_files": value}))


def test_folder_and_empty_file_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_text("  \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="is a folder"):
        read_text_file(tmp_path)
    with pytest.raises(ConfigError, match=r"empty\.txt is empty"):
        read_text_file(tmp_path / "empty.txt")


def test_cli_says_one_error_line_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "data.bin").write_bytes(b"\x00\x01\x02\xff" * 10)
    cfg = write_config(tmp_path, {"corpus_files": ["data.bin"]})
    out = tmp_path / "t.npz"
    assert main(["export", "--config", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "data.bin" in err and "not UTF-8 text" in err
    assert not out.exists()
    assert (tmp_path / "data.bin").read_bytes() == b"\x00\x01\x02\xff" * 10  # the user's file is untouched


# ---------------------------------------------------------------- Inputs panel

@pytest.fixture
def ctl():
    return Controller(Config(seed=0))


@pytest.fixture
def inputs(qtbot, ctl):
    panel = InputsPanel(ctl)
    qtbot.addWidget(panel)
    return panel


def choose_files(monkeypatch, paths):
    calls = []

    def fake(*args, **kwargs):
        calls.append(args)
        return [str(p) for p in paths], "Text files (*.txt *.md *.text)"

    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileNames", staticmethod(fake))
    return calls


def test_open_button_makes_the_files_the_corpus_in_one_undo_step(inputs, ctl, tmp_path, monkeypatch):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(TEXT_A, encoding="utf-8")
    b.write_text(TEXT_B, encoding="utf-8")
    calls = choose_files(monkeypatch, [a, b])
    before = ctl.config.corpus
    button = inputs.findChild(QtWidgets.QPushButton, "open-text-file")
    assert button is not None and button.text() == "Open Text File…"
    button.click()
    assert len(calls) == 1
    assert ctl.config.corpus == (TEXT_A, TEXT_B)
    assert inputs.staged()["corpus"] == (TEXT_A, TEXT_B) and inputs.text_list.count() == 2
    assert not inputs.staged_changes()
    ctl.undo()
    assert ctl.config.corpus == before
    assert inputs.staged()["corpus"] == before
    ctl.redo()
    assert ctl.config.corpus == (TEXT_A, TEXT_B)


def test_open_button_refuses_bad_files_and_says_why(inputs, ctl, tmp_path, monkeypatch):
    good, binary = tmp_path / "good.txt", tmp_path / "blob.bin"
    good.write_text(TEXT_A, encoding="utf-8")
    binary.write_bytes(b"\xff\xfe\x00\x01" * 50)
    before = ctl.config.corpus

    choose_files(monkeypatch, [binary, tmp_path / "gone.txt"])
    inputs.open_button.click()
    assert ctl.config.corpus == before and not ctl.can_undo()
    message = inputs.error.text()
    assert not inputs.error.isHidden()
    assert "blob.bin" in message and "not UTF-8 text" in message and "gone.txt" in message

    choose_files(monkeypatch, [good, binary])
    inputs.open_button.click()
    assert ctl.config.corpus == (TEXT_A,)
    assert "blob.bin" in inputs.error.text() and "Opened 1 of 2 files" in inputs.error.text()


def test_open_button_shows_the_controllers_refusal(inputs, ctl, tmp_path, monkeypatch):
    short = tmp_path / "short.txt"
    short.write_text("hi", encoding="utf-8")  # far fewer tokens than a batch needs
    choose_files(monkeypatch, [short])
    before = ctl.config.corpus
    inputs.open_button.click()
    assert ctl.config.corpus == before
    assert "tokens" in inputs.error.text() and not inputs.error.isHidden()


def test_cancelled_dialog_changes_nothing(inputs, ctl, monkeypatch):
    choose_files(monkeypatch, [])
    before = ctl.config.corpus
    inputs.open_button.click()
    assert ctl.config.corpus == before and inputs.error.isHidden()


def test_a_long_tokenization_shows_progress_and_cancel_leaves_the_model_unchanged(qtbot, monkeypatch):
    from PySide6 import QtWidgets

    from gru_debugger.core.base.config import Config
    from gru_debugger.core.control.controller import Controller
    from gru_debugger.core.text.data import is_tokenized
    from gru_debugger.ui.editors import tokenizing
    from gru_debugger.ui.editors.inputs_panel import InputsPanel

    ctl = Controller(Config(seed=0))
    panel = InputsPanel(ctl)
    qtbot.addWidget(panel)
    before = ctl.state
    import random
    rng = random.Random(0)
    text = " ".join("".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7))) for _ in range(4000))
    seen = []

    def cancel_after_a_few(self) -> bool:          # the person presses Cancel while merges are learned
        seen.append(self.value())
        return len(seen) > 3
    monkeypatch.setattr(QtWidgets.QProgressDialog, "wasCanceled", cancel_after_a_few)
    monkeypatch.setattr(tokenizing, "SHOW_AFTER_MS", 0)
    cfg = ctl.config.with_changes(corpus=(text,), num_merges=200)
    assert not tokenizing.tokenize_first(panel, ctl.config, corpus=(text,), num_merges=200)
    assert len(seen) > 3 and seen == sorted(seen)   # progress moved forward, then stopped
    assert ctl.state is before and not is_tokenized(cfg)
    monkeypatch.setattr(QtWidgets.QProgressDialog, "wasCanceled", lambda self: False)
    assert tokenizing.tokenize_first(panel, ctl.config, corpus=(text,), num_merges=200)
    assert is_tokenized(cfg)                        # ready for the controller's edit
    ctl.configure("Inputs", corpus=(text,), num_merges=200)
    assert len(ctl.snapshot().corpus.merges) == 200
