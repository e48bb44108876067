"""Weights in and out of plain PyTorch: round trips through nn.Embedding +
nn.GRU / nn.LSTM / nn.RNN + nn.Linear, both namings, safetensors and torch
files; refused files change nothing."""
import math
import pickle

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from gru_debugger.core.storage import weights_io
from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.storage.weights_io import WeightsError, export_weights, import_weights, read_weights

CELLS = ["gru", "lstm", "rnn"]
LAYERS = {"gru": nn.GRU, "lstm": nn.LSTM, "rnn": nn.RNN}
RANDOM_INIT = {"wte.weight": {"scheme": "normal", "std": 1.0}, "x2g.weight": {"scheme": "default"},
               "x2g.bias": {"scheme": "uniform", "low": -0.5, "high": 0.5}, "h2g.weight": {"scheme": "orthogonal"},
               "h2g.bias": {"scheme": "default"}, "lm_head.weight": {"scheme": "xavier_uniform"}}


class PlainLM(nn.Module):
    def __init__(self, V, E, H, cell):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.rnn = LAYERS[cell](E, H, batch_first=True)
        self.head = nn.Linear(H, V, bias=False)

    def forward(self, x):
        out, _ = self.rnn(self.embedding(x))
        return self.head(out)


def config(cell, **kw):
    return Config(cell=cell, seed=4, train_mode=False, init=RANDOM_INIT, n_embd=3, hidden_size=5, **kw)


def to_project(cell, name, tensor):
    """PyTorch's rows -> this project's, written out by hand (independent of the module)."""
    if cell != "gru" or name[:3] not in ("x2g", "h2g"):
        return tensor
    H = tensor.shape[0] // 3
    return torch.cat([tensor[H:2 * H], tensor[:H], tensor[2 * H:]])  # r, z, n -> z, r, n


TORCH_OF = {"wte.weight": "embedding.weight", "x2g.weight": "rnn.weight_ih_l0", "x2g.bias": "rnn.bias_ih_l0",
            "h2g.weight": "rnn.weight_hh_l0", "h2g.bias": "rnn.bias_hh_l0", "lm_head.weight": "head.weight"}


def batch_loss(model, trace):
    x, y = torch.from_numpy(trace["x"].copy()), torch.from_numpy(trace["y"].copy())
    with torch.no_grad():
        logits = model(x)
    return logits, F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def unchanged(ctl, before):
    return ctl.state is before[0] and ctl.undo_texts == before[1]


@pytest.mark.parametrize("cell", CELLS)
def test_torch_layout_round_trip_through_a_plain_model(tmp_path, cell):
    ctl = Controller(config(cell))
    trace = ctl.snapshot().trace
    out = ctl.export_weights(tmp_path / "w.safetensors", layout="torch")
    V = trace["logits"].shape[-1]
    model = PlainLM(V, 3, 5, cell)
    model.load_state_dict(load_file(out))  # strict: exactly the plain model's names
    logits, loss = batch_loss(model, trace)
    np.testing.assert_allclose(logits.numpy(), trace["logits"], rtol=1e-5, atol=1e-6)
    assert float(loss) == pytest.approx(float(trace["loss"]), rel=1e-6)

    # change weights in PyTorch, in a block whose position differs between the orders (GRU: r)
    with torch.no_grad():
        model.rnn.weight_ih_l0[0, 0] += 0.75          # GRU: r block, row 0 -> our row H
        model.rnn.bias_hh_l0[-1] -= 0.5
        model.head.weight[3, 1] = 2.5
    for path, save in [(tmp_path / "m.pt", lambda p: torch.save(model.state_dict(), p)),
                       (tmp_path / "m.safetensors", lambda p: save_file(model.state_dict(), p))]:
        save(path)
        ctl.import_weights(path)
        assert ctl.undo_texts[-1] == f"Import weights from {path.name}"
        for name in PARAM_NAMES:
            theirs = to_project(cell, name, model.state_dict()[TORCH_OF[name]])
            assert torch.equal(ctl.state.params[name], theirs), name
        _, loss = batch_loss(model, ctl.snapshot().trace)
        assert float(ctl.snapshot().trace["loss"]) == pytest.approx(float(loss), rel=1e-6)
    if cell == "gru":
        assert float(ctl.state.params["x2g.weight"][5, 0]) == pytest.approx(
            float(trace["param/x2g.weight"][5, 0]) + 0.75)
    ctl.undo()
    ctl.undo()
    assert all(np.array_equal(ctl.state.params[n].numpy(), trace[f"param/{n}"]) for n in PARAM_NAMES)


@pytest.mark.parametrize("cell", CELLS)
def test_project_layout_round_trip(tmp_path, cell):
    state = fresh_state(config(cell))
    path = export_weights(state, tmp_path / "w.safetensors")
    tensors = read_weights(path)
    assert sorted(tensors) == sorted(PARAM_NAMES)
    for name in PARAM_NAMES:
        assert torch.equal(tensors[name], state.params[name])
    # through a torch checkpoint with a wrapper and a "model." prefix, modified
    tensors["x2g.weight"] = tensors["x2g.weight"] + 1.0
    torch.save({"epoch": 3, "state_dict": {f"model.{k}": v for k, v in tensors.items()}}, tmp_path / "c.pth")
    other = fresh_state(config(cell).with_changes(seed=9))
    new = import_weights(other, read_weights(tmp_path / "c.pth"))
    for name in PARAM_NAMES:
        assert torch.equal(new.params[name], tensors[name]), name
    assert new.config is other.config and new.base_seed == other.base_seed and new.position == other.position


@pytest.mark.parametrize("cell", CELLS)
def test_torch_layout_export_then_import_is_identity(tmp_path, cell):
    state = fresh_state(config(cell))
    export_weights(state, tmp_path / "w.safetensors", layout="torch")
    new = import_weights(fresh_state(config(cell).with_changes(seed=1)), read_weights(tmp_path / "w.safetensors"))
    for name in PARAM_NAMES:
        assert torch.equal(new.params[name], state.params[name]), name


def test_accepted_module_names_and_prefixes():
    state = fresh_state(config("lstm"))
    plain = weights_io.weights_for_export(state, "torch")
    renamed = {"module.model.encoder.weight": plain["embedding.weight"],
               **{k.replace("rnn.", "module.model.lstm."): v for k, v in plain.items() if k.startswith("rnn.")},
               "module.model.decoder.weight": plain["head.weight"]}
    new = import_weights(fresh_state(config("lstm").with_changes(seed=2)), renamed)
    for name in PARAM_NAMES:
        assert torch.equal(new.params[name], state.params[name])


def test_float64_file_is_cast_to_the_models_dtype(tmp_path):
    state = fresh_state(config("gru"))
    tensors = {k: v.double() * 1.5 for k, v in weights_io.weights_for_export(state, "torch").items()}
    save_file(tensors, tmp_path / "d.safetensors")
    new = import_weights(state, read_weights(tmp_path / "d.safetensors"))
    assert all(new.params[n].dtype == state.params[n].dtype for n in PARAM_NAMES)
    assert torch.allclose(new.params["lm_head.weight"], state.params["lm_head.weight"] * 1.5)


def test_plain_pytorch_training_then_import_gives_the_same_first_loss(tmp_path):
    cfg = Config(seed=0, train_mode=False, n_embd=4, hidden_size=6, batch_size=4, context_length=8)
    ctl = Controller(cfg)
    tokens = torch.from_numpy(ctl.snapshot().trace["tokens"].astype(np.int64))
    V = ctl.snapshot().trace["logits"].shape[-1]
    torch.manual_seed(0)
    model = PlainLM(V, 4, 6, "gru")
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for step in range(6):
        starts = torch.arange(4) * 9 + step * 3
        x = torch.stack([tokens[s:s + 8] for s in starts])
        y = torch.stack([tokens[s + 1:s + 9] for s in starts])
        loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": 6}, tmp_path / "lm.pt")
    ctl.import_weights(tmp_path / "lm.pt")
    trace = ctl.snapshot().trace
    _, torch_loss = batch_loss(model, trace)
    assert float(trace["loss"]) == pytest.approx(float(torch_loss), rel=1e-5)
    assert abs(float(trace["loss"]) - math.log(V)) > 0.05  # not the untrained model's loss


class Gadget:
    """A custom class: torch.save pickles it; a weights-only load refuses it."""


def refused_files(tmp_path, cell="gru"):
    state = fresh_state(config(cell))
    good = weights_io.weights_for_export(state, "torch")
    files = {}

    def st(name, tensors):
        save_file(tensors, tmp_path / name)
        files[name] = tmp_path / name

    def pt(name, obj):
        torch.save(obj, tmp_path / name)
        files[name] = tmp_path / name

    pt("object.pt", {**good, "extra": Gadget()})
    pt("object_only.pt", Gadget())
    (tmp_path / "garbage.pt").write_bytes(b"\x80\x04 not a checkpoint" * 20)
    files["garbage.pt"] = tmp_path / "garbage.pt"
    (tmp_path / "garbage.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{nonsense" * 3)
    files["garbage.safetensors"] = tmp_path / "garbage.safetensors"
    (tmp_path / "truncated.safetensors").write_bytes(
        (tmp_path / "garbage.safetensors").read_bytes()[:5])
    files["truncated.safetensors"] = tmp_path / "truncated.safetensors"
    (tmp_path / "plain_pickle.bin").write_bytes(pickle.dumps({"a": 1}))
    files["plain_pickle.bin"] = tmp_path / "plain_pickle.bin"
    nan = dict(good)
    nan["rnn.weight_hh_l0"] = good["rnn.weight_hh_l0"].clone()
    nan["rnn.weight_hh_l0"][0, 0] = float("nan")
    st("nan.safetensors", nan)
    pt("inf.pt", {**good, "head.weight": torch.full_like(good["head.weight"], float("inf"))})
    st("ints.safetensors", {**good, "embedding.weight": torch.ones(good["embedding.weight"].shape, dtype=torch.int64)})
    pt("not_tensor.pt", {**good, "head.weight": [1.0, 2.0]})
    pt("list.pt", [good["head.weight"]])
    st("head_bias.safetensors", {**good, "head.bias": torch.zeros(good["head.weight"].shape[0])})
    st("missing.safetensors", {k: v for k, v in good.items() if k != "rnn.bias_hh_l0"})
    st("unknown.safetensors", {**good, "norm.weight": torch.ones(3)})
    st("two_layers.safetensors", {**good, "rnn.weight_ih_l1": torch.ones(15, 5)})
    lstm = weights_io.weights_for_export(fresh_state(config("lstm")), "torch")
    st("lstm.safetensors", lstm)
    st("wide.safetensors", {**good, "embedding.weight": torch.ones(good["embedding.weight"].shape[0], 7)})
    st("vocab.safetensors", {**good, "embedding.weight": torch.ones(5, 3), "head.weight": torch.ones(5, 5)})
    st("huge64.safetensors", {**good, "head.weight": torch.full(good["head.weight"].shape, 1e300,
                                                                dtype=torch.float64)})
    st("mixed.safetensors", {**{k: v for k, v in good.items() if k != "rnn.bias_hh_l0"},
                             "h2g.bias": good["rnn.bias_hh_l0"]})
    st("twice.safetensors", {**good, "wte.weight": good["embedding.weight"].clone()})
    (tmp_path / "weights.npz").write_bytes(b"PK")
    files["weights.npz"] = tmp_path / "weights.npz"
    (tmp_path / "folder.pt").mkdir()
    files["folder.pt"] = tmp_path / "folder.pt"
    files["absent.pt"] = tmp_path / "absent.pt"
    return files


EXPECTED = {
    "object.pt": "pickled Python object", "object_only.pt": "pickled Python object",
    "garbage.pt": "not a readable PyTorch file", "plain_pickle.bin": "not a readable PyTorch file",
    "garbage.safetensors": "not a readable safetensors file", "truncated.safetensors": "not a readable safetensors",
    "nan.safetensors": "NaN or Inf", "inf.pt": "NaN or Inf", "ints.safetensors": "int64 values",
    "not_tensor.pt": "not a tensor", "list.pt": "not a state dict",
    "head_bias.safetensors": "head has no bias", "missing.safetensors": "no h2g.bias",
    "unknown.safetensors": "unexpected parameter 'norm.weight'", "two_layers.safetensors": "second layer",
    "lstm.safetensors": "looks like an LSTM (4H rows) but the cell is GRU",
    "wide.safetensors": "embedding width E is 7", "vocab.safetensors": "vocabulary has 5 tokens",
    "huge64.safetensors": "too large for float32", "mixed.safetensors": "named two ways",
    "twice.safetensors": "both", "weights.npz": "not a weights file", "folder.pt": "folder",
    "absent.pt": "cannot read",
}


def test_every_refused_file_is_named_in_the_expectations(tmp_path):
    assert sorted(refused_files(tmp_path)) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_refused_file_leaves_the_model_unchanged(tmp_path, name):
    ctl = Controller(config("gru"))
    ctl.set_learning_rate(1.0)
    path = refused_files(tmp_path)[name]
    before = (ctl.state, list(ctl.undo_texts), ctl.snapshot().trace)
    with pytest.raises(ControllerError) as info:
        ctl.import_weights(path)
    message = str(info.value)
    assert EXPECTED[name] in message
    assert str(path) in message and "\n" not in message and len(message) < 1000  # every problem, on one line
    assert ctl.state is before[0] and ctl.undo_texts == before[1] and ctl.snapshot().trace is before[2]


def test_first_shape_mismatch_is_named_with_expected_and_got(tmp_path):
    files = refused_files(tmp_path)
    with pytest.raises(WeightsError) as info:
        import_weights(fresh_state(config("gru")), read_weights(files["lstm.safetensors"]))
    assert "rnn.weight_ih_l0 (x2g.weight) must have shape (15, 3)" in str(info.value)
    assert "has (20, 3)" in str(info.value)


def test_hidden_size_and_cell_hints():
    gru5 = weights_io.weights_for_export(fresh_state(config("gru")), "project")
    with pytest.raises(WeightsError, match=r"hidden size is H=5, the model's is 2"):
        import_weights(fresh_state(Config(seed=0, n_embd=3, hidden_size=2)), gru5)
    with pytest.raises(WeightsError, match=r"looks like a GRU \(3H rows\) but the cell is RNN"):
        import_weights(fresh_state(config("rnn")), gru5)


def test_oversize_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    export_weights(fresh_state(config("gru")), path)
    monkeypatch.setattr(weights_io, "MAX_WEIGHTS_BYTES", path.stat().st_size - 1)
    with pytest.raises(WeightsError, match="larger than the limit"):
        read_weights(path)


def test_export_is_atomic_and_replaces_only_its_target(tmp_path, monkeypatch):
    state = fresh_state(config("gru"))
    path = tmp_path / "w.safetensors"
    path.write_bytes(b"old")
    export_weights(state, path, layout="torch")
    assert sorted(load_file(path)) == sorted(TORCH_OF.values())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]

    def fail(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(weights_io.os, "replace", fail)
    before = path.read_bytes()
    with pytest.raises(WeightsError, match="cannot write .*w.safetensors: No space left"):
        export_weights(state, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"], "the temporary file is removed"


@pytest.mark.parametrize("bad, match", [("w.pt", "name the file NAME.safetensors"),
                                        ("missing/w.safetensors", "no such folder")])
def test_export_refusals(tmp_path, bad, match):
    with pytest.raises(WeightsError, match=match):
        export_weights(fresh_state(config("gru")), tmp_path / bad)
    with pytest.raises(WeightsError, match="layout must be one of project, torch"):
        export_weights(fresh_state(config("gru")), tmp_path / "w.safetensors", layout="keras")
