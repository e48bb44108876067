"""--weights FILE on the command line: for export and for the window; a refused
file is one `error:` line naming it, exit code 2, nothing written or opened."""
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from gru_debugger.cli import main
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.storage.weights_io import weights_for_export


def plain_weights(scale=1.0, cell="gru"):
    """The default model's parameters in a plain PyTorch model's names, changed so an import shows."""
    state = fresh_state(Config(seed=0, cell=cell))
    return {k: (v * scale + 0.125).contiguous() for k, v in weights_for_export(state, "torch").items()}


def one_error_line(capsys, argv, path):
    code = main(argv)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert str(path) in lines[0], err
    assert "Traceback" not in err
    return lines[0]


def test_export_with_weights_uses_them(tmp_path, capsys):
    weights = tmp_path / "w.safetensors"
    tensors = plain_weights(0.5)
    save_file(tensors, weights)
    out = tmp_path / "t.npz"
    assert main(["export", "--weights", str(weights), "--out", str(out)]) == 0
    with np.load(out, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["param/lm_head.weight"], tensors["head.weight"].numpy())
        H = npz["param/h2g.weight"].shape[1]
        r, z, n = tensors["rnn.weight_ih_l0"].numpy().reshape(3, H, -1)
        np.testing.assert_array_equal(npz["param/x2g.weight"], np.concatenate([z, r, n]))


@pytest.mark.parametrize("content, expect", [
    (b"not a checkpoint at all", "not a readable PyTorch file"),
    ("lstm", "looks like an LSTM"),
    ("object", "pickled Python object"),
])
def test_export_with_a_refused_weights_file(tmp_path, capsys, content, expect):
    weights = tmp_path / "w.pt"
    if content == "lstm":
        torch.save(plain_weights(cell="lstm"), weights)
    elif content == "object":
        torch.save({"model": plain_weights(), "hook": Hook()}, weights)
    else:
        weights.write_bytes(content)
    out = tmp_path / "t.npz"
    line = one_error_line(capsys, ["export", "--weights", str(weights), "--out", str(out)], weights)
    assert expect in line
    assert not out.exists()


class Hook:
    pass


@pytest.mark.parametrize("name", ["missing.safetensors", "w.txt"])
def test_window_with_a_refused_weights_file_does_not_open(tmp_path, capsys, monkeypatch, name):
    import gru_debugger.ui.main_window as main_window

    monkeypatch.setattr(main_window, "MainWindow", lambda *a, **k: pytest.fail("the window must not open"))
    one_error_line(capsys, ["--weights", str(tmp_path / name)], tmp_path / name)


def test_window_starts_from_the_weights(tmp_path, monkeypatch):
    import gru_debugger.ui.app as app
    import gru_debugger.ui.main_window as main_window

    weights = tmp_path / "w.safetensors"
    tensors = plain_weights(2.0)
    save_file(tensors, weights)
    opened = []

    class FakeSession:
        def set_file(self, path):
            pass

        def protect(self):
            pass

    class FakeWindow:
        def __init__(self, controller, settings, **options):
            opened.append(controller)
            self.session = FakeSession()

        def show(self):
            pass

    monkeypatch.setattr(main_window, "MainWindow", FakeWindow)
    monkeypatch.setattr(app, "install_excepthook", lambda window: None)
    monkeypatch.setattr(app.QtWidgets.QApplication, "exec", lambda self: 0)
    assert main(["--weights", str(weights)]) == 0
    (controller,) = opened
    assert torch.equal(controller.state.params["wte.weight"], tensors["embedding.weight"])
    assert controller.undo_texts == ["Import weights from w.safetensors"]
    assert set(controller.state.params) == set(PARAM_NAMES)
