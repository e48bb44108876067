"""Weights in and out of plain PyTorch.

A file holds the six parameters either with this project's names
(``wte.weight``, ``x2g.*``, ``h2g.*``, ``lm_head.weight``; gate rows in the
cell's own order) or with the module names of a plain model::

    embedding = nn.Embedding(V, E)                 # embedding.weight
    rnn = nn.GRU(E, H, batch_first=True)           # rnn.weight_ih_l0, rnn.weight_hh_l0,
                                                   # rnn.bias_ih_l0, rnn.bias_hh_l0  (or nn.LSTM, nn.RNN)
    head = nn.Linear(H, V, bias=False)             # head.weight

whose recurrent rows are in PyTorch's order (``Cell.torch_block_order``: the
GRU's r | z | n where this project uses z | r | n; LSTM and RNN agree).

Reading never runs code from the file: ``.safetensors`` files are parsed by
safetensors, ``.pt`` / ``.pth`` / ``.bin`` files only by
``torch.load(..., weights_only=True)``. Every refusal is a
:class:`WeightsError` (a ValueError) with a message a person can act on, and
nothing changes.
"""
from __future__ import annotations

import dataclasses
import errno
import io
import os
import pickle
import re
import stat
import warnings
from pathlib import Path
from typing import Any, Mapping

import torch

from ..model.cells import CELLS, Cell, get_cell
from ..base.config import PARAM_NAMES
from ..model.engine import ModelState
from .atomic_write import write_atomic

# Largest weights file we agree to read (the largest model the debugger
# builds has far fewer parameters than this).
MAX_WEIGHTS_BYTES = 1024**3
LAYOUTS = ("project", "torch")
# File name ending -> how it is read.
SUFFIXES = {".safetensors": "safetensors", ".pt": "torch", ".pth": "torch", ".bin": "torch"}
# Leading parts of names that are dropped (a model wrapped in DataParallel, or held as ``self.model``).
PREFIXES = ("module.", "model.")
# Module names accepted for each part of a plain model (the first is the one export writes).
EMBEDDING_MODULES = ("embedding", "embed", "wte", "encoder")
RECURRENT_MODULES = ("rnn", "gru", "lstm")
HEAD_MODULES = ("head", "lm_head", "decoder", "fc", "linear")
# nn.GRU / nn.LSTM / nn.RNN parameter of layer 0 -> this project's name.
RECURRENT_PARAMS = {"weight_ih_l0": "x2g.weight", "weight_hh_l0": "h2g.weight",
                    "bias_ih_l0": "x2g.bias", "bias_hh_l0": "h2g.bias"}
TORCH_NAMES = {"wte.weight": f"{EMBEDDING_MODULES[0]}.weight", "lm_head.weight": f"{HEAD_MODULES[0]}.weight",
               **{ours: f"{RECURRENT_MODULES[0]}.{theirs}" for theirs, ours in RECURRENT_PARAMS.items()}}
_ROLE = {"wte.weight": "the embedding", "lm_head.weight": "the output head",
         "x2g.weight": "the recurrent layer's input weights", "x2g.bias": "the recurrent layer's input bias",
         "h2g.weight": "the recurrent layer's hidden weights", "h2g.bias": "the recurrent layer's hidden bias"}


class WeightsError(ValueError):
    """A weights file or a set of tensors that cannot be used; nothing was changed."""


# ------------------------------------------------------------------ export
def weights_for_export(state: ModelState, layout: str = "project") -> dict[str, torch.Tensor]:
    """The state's parameters (those at the start of its iteration) under ``layout``'s names."""
    if not isinstance(layout, str) or layout not in LAYOUTS:
        raise WeightsError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    cell = get_cell(state.config.cell)
    out = {}
    for name in PARAM_NAMES:
        tensor = state.params[name].detach().cpu()
        if layout == "torch":
            if name[:3] in ("x2g", "h2g"):
                tensor = reorder_blocks(tensor, cell.blocks, _torch_order(cell))
            name = TORCH_NAMES[name]
        out[name] = tensor.contiguous().clone()
    return out


def export_weights(state: ModelState, path: str | os.PathLike[str], layout: str = "project") -> Path:
    """Write the parameters to a ``.safetensors`` file; returns its path.

    Atomic: written to a temporary file in the same folder and moved over
    ``path`` when complete, so a half-written file never appears there. An
    existing file at ``path`` is replaced (the window asks first; the API
    does as it is told)."""
    from safetensors.torch import save

    shown, path = os.fspath(path), Path(path)
    if path.suffix.lower() != ".safetensors":
        raise WeightsError(f"{shown}: weights are written as safetensors; name the file NAME.safetensors")
    tensors = weights_for_export(state, layout)
    cell = get_cell(state.config.cell)
    order = cell.blocks if layout == "project" else _torch_order(cell)
    metadata = {"format": "pt", "writer": "gru-debugger", "layout": layout, "cell": cell.name,
                "gate_order": ",".join(order)}
    _write_atomic(path, shown, save(tensors, metadata=metadata))
    return path


def _write_atomic(path: Path, shown: str, data: bytes) -> None:
    if path.is_dir():
        raise WeightsError(f"cannot write {shown}: it is a folder")
    try:
        write_atomic(path, data)
    except OSError as exc:
        reason = "no such folder" if exc.errno == errno.ENOENT else exc.strerror or str(exc)
        raise WeightsError(f"cannot write {shown}: {reason}") from None


# ------------------------------------------------------------------ reading
def read_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Named float tensors from a ``.safetensors``, ``.pt``, ``.pth`` or ``.bin`` file.

    A ``.pt`` file may hold a state dict, or a dict (a checkpoint) whose
    ``"state_dict"`` or ``"model"`` entry is one. Refused, with a message
    naming ``path``: other file kinds, folders and devices, files over
    :data:`MAX_WEIGHTS_BYTES`, damaged files, pickled Python objects,
    anything but tensors, tensors that are not floating point, NaN or Inf."""
    path = os.fspath(path)  # messages name the path as the user gave it
    kind = SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise WeightsError(f"{path}: not a weights file this program reads; use .safetensors, .pt, .pth or .bin")
    raw = _read_capped(path)
    try:
        if kind == "safetensors":
            found = _parse_safetensors(raw, path)
        else:
            found = _state_dict_of(_parse_torch(raw, path), path)
        return check_tensors(found, str(path))
    except RecursionError:
        raise WeightsError(f"{path}: nested too deeply to read") from None


def _read_capped(path: str) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise WeightsError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise WeightsError(f"cannot read {path}: it is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise WeightsError(f"cannot read {path}: not a regular file (a device, pipe or socket)")
        if info.st_size > MAX_WEIGHTS_BYTES:
            raise WeightsError(f"{path} is larger than the limit of {MAX_WEIGHTS_BYTES / 1024**2:.0f} MB "
                               f"for a weights file")
        if hasattr(os, "O_NONBLOCK"):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_WEIGHTS_BYTES + 1)
    except OSError as exc:
        raise WeightsError(f"cannot read {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > MAX_WEIGHTS_BYTES:
        raise WeightsError(f"{path} is larger than the limit of {MAX_WEIGHTS_BYTES / 1024**2:.0f} MB "
                           f"for a weights file")
    return raw


def _parse_safetensors(raw: bytes, path: str) -> Any:
    from safetensors.torch import load

    try:
        return load(raw)
    except Exception as exc:  # the parser's own error type, or a dtype torch lacks
        detail = " ".join(str(exc).split())[:160]
        raise WeightsError(f"{path} is not a readable safetensors file (damaged or another format: "
                           f"{detail})") from None


def _parse_torch(raw: bytes, path: str) -> Any:
    damaged = (f"{path} is not a readable PyTorch file (damaged, another format, or pickled data other than a "
               f"state dict)")
    try:
        with warnings.catch_warnings():  # e.g. a note on the pickle protocol: the outcome is all we report
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        match = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if match or "allowed global" in str(exc):
            what = f" ({match.group(1)})" if match else ""
            raise WeightsError(f"{path} holds a pickled Python object{what}, not just tensors, and is not loaded "
                               f"(loading it could run code); save a plain state dict: "
                               f"torch.save(model.state_dict(), path), or use safetensors") from None
        raise WeightsError(damaged) from None
    except RecursionError:
        raise
    except Exception:  # torch reports damaged files with many different errors
        raise WeightsError(damaged) from None


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def _state_dict_of(obj: Any, path: str) -> Any:
    """A state dict, or the state dict inside a checkpoint dict."""
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{path} holds a {type(obj).__name__}, not a state dict (names mapped to tensors)")
    if not _is_tensor_dict(obj):
        for key in ("state_dict", "model"):
            if isinstance(obj.get(key), Mapping):
                return obj[key]
    return obj


def check_tensors(tensors: Any, source: str = "the weights") -> dict[str, torch.Tensor]:
    """Names mapped to finite floating-point tensors (a plain dict of them), or WeightsError
    naming every tensor that is not one (a file fixed one problem at a time wastes a round trip each)."""
    if not isinstance(tensors, Mapping):
        raise WeightsError(f"{source}: expected names mapped to tensors, got a {type(tensors).__name__}")
    if not tensors:
        raise WeightsError(f"{source} holds no tensors")
    out, problems = {}, []
    for name, value in tensors.items():
        problem = _tensor_problem(name, value)
        if problem is not None:
            problems.append(problem)
        elif not problems:
            out[name] = value.detach()
    if problems:
        raise WeightsError(f"{source}: {_listed(problems)}")
    return out


def _tensor_problem(name: Any, value: Any) -> str | None:
    """Why one entry is not a usable parameter tensor, or None."""
    if not isinstance(name, str):
        return f"parameter names must be text, got {type(name).__name__} {name!r:.40}"
    if not isinstance(value, torch.Tensor):
        return f"{name!r:.80} is a {type(value).__name__}, not a tensor"
    if value.layout != torch.strided or value.is_quantized:
        return f"{name!r:.80} is not a plain dense tensor"
    if not value.is_floating_point():
        return (f"{name!r:.80} holds {str(value.dtype).replace('torch.', '')} values; "
                f"parameters must be floating point")
    if not bool(torch.isfinite(value).all()):
        return f"{name!r:.80} holds NaN or Inf values"
    return None


def _listed(problems: list[str]) -> str:
    """One problem as it is; several numbered, on one line (the command line prints one line)."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems: " + " ".join(f"({i}) {p};" for i, p in enumerate(problems, 1))[:-1]


# ------------------------------------------------------------------ import
def import_weights(state: ModelState, tensors: Mapping[str, torch.Tensor], source: str | None = None) -> ModelState:
    """A new state whose six parameters come from ``tensors`` (either naming;
    see the module docstring), gate order converted and cast to the state's
    dtype. Every other part of the state is kept. Refused (WeightsError,
    prefixed with ``source``) if a parameter is missing, one is not
    recognised, or a shape does not fit the current vocabulary, cell, E and H:
    the message lists every such problem at once, so one look at it tells all
    that must change."""
    try:
        return _import(state, check_tensors(tensors, source or "the weights"))
    except WeightsError as exc:
        if source and not str(exc).startswith(source):
            raise WeightsError(f"{source}: {exc}") from None
        raise


def _strip(name: str) -> str:
    while name.startswith(PREFIXES):
        name = name.split(".", 1)[1]
    return name


def _classify(name: str) -> tuple[str | None, str | None, str]:
    """(our name, naming "project"/"torch"/None, hint if unknown) for one stripped file name."""
    module, _, leaf = name.rpartition(".")
    if name in PARAM_NAMES and module in ("x2g", "h2g"):
        return name, "project", ""
    if module in EMBEDDING_MODULES and leaf == "weight":
        return "wte.weight", None, ""
    if module in HEAD_MODULES and leaf == "weight":
        return "lm_head.weight", None, ""
    if module in HEAD_MODULES and leaf == "bias":
        return None, None, "the debugger's head has no bias (nn.Linear(H, V, bias=False))"
    if module in RECURRENT_MODULES:
        if leaf in RECURRENT_PARAMS:
            return RECURRENT_PARAMS[leaf], "torch", ""
        if leaf.endswith("_reverse"):
            return None, None, "a bidirectional layer; the debugger's is one-directional"
        if leaf.startswith("weight_hr"):
            return None, None, "an LSTM with proj_size; the debugger's has none"
        if re.fullmatch(r"(weight|bias)_(ih|hh)_l[1-9]\d*", leaf):
            return None, None, "a second layer; the debugger's recurrent layer has one (num_layers=1)"
    return None, None, ""


def _accepted(name: str) -> str:
    if name == "wte.weight":
        return ", ".join(f"{m}.weight" for m in EMBEDDING_MODULES)
    if name == "lm_head.weight":
        return ", ".join(f"{m}.weight" for m in HEAD_MODULES)
    theirs = next(k for k, v in RECURRENT_PARAMS.items() if v == name)
    return f"{name} or {'/'.join(RECURRENT_MODULES)}.{theirs}"


def _import(state: ModelState, tensors: dict[str, torch.Tensor]) -> ModelState:
    found: dict[str, tuple[str, torch.Tensor]] = {}   # our name -> (file name, tensor)
    namings: dict[str, str] = {}                      # naming of the recurrent names -> a file name using it
    stripped: dict[str, str] = {}
    problems: list[str] = []
    for file_name, tensor in tensors.items():
        short = _strip(file_name)
        if short in stripped:
            problems.append(f"{stripped[short]!r} and {file_name!r} name the same parameter")
            continue
        stripped[short] = file_name
        ours, naming, hint = _classify(short)
        if ours is None:
            problems.append(f"unexpected parameter {file_name!r}" + (f": {hint}" if hint else
                            " (not a name this program knows; see the README, Weights in and out of PyTorch)"))
            continue
        if ours in found:
            problems.append(f"both {found[ours][0]!r} and {file_name!r} look like {ours} ({_ROLE[ours]})")
            continue
        if naming is not None:
            namings.setdefault(naming, file_name)
        found[ours] = (file_name, tensor)
    if len(namings) > 1:
        problems.append(f"the recurrent layer is named two ways ({namings['project']!r} and "
                        f"{namings['torch']!r}); use this program's names or PyTorch's, not both")
    for name in PARAM_NAMES:
        if name not in found:
            problems.append(f"no {name} ({_ROLE[name]}): expected {_accepted(name)}")
    problems += _shape_problems(state, found)
    if problems:
        raise WeightsError(f"{_listed(problems)}; nothing was imported")
    cell = get_cell(state.config.cell)
    torch_naming = "torch" in namings
    params = {}
    for name in PARAM_NAMES:
        tensor = found[name][1]
        if torch_naming and name[:3] in ("x2g", "h2g"):
            tensor = reorder_blocks(tensor, _torch_order(cell), cell.blocks)
        dtype = state.params[name].dtype
        cast = tensor.to(device="cpu", dtype=dtype).contiguous().clone()
        if not bool(torch.isfinite(cast).all()):
            problems.append(f"{found[name][0]} holds values too large for {str(dtype).replace('torch.', '')}")
        params[name] = cast
    if problems:
        raise WeightsError(f"{_listed(problems)}; nothing was imported")
    return dataclasses.replace(state, params=params)


def _shape_problems(state: ModelState, found: Mapping[str, tuple[str, torch.Tensor]]) -> list[str]:
    """Every parameter the file has whose shape does not fit the current model; a reason shared by
    several (an LSTM's four recurrent tensors for a GRU) is said once, after the last of them."""
    cell = get_cell(state.config.cell)
    wrong = []
    for name in PARAM_NAMES:
        if name not in found:
            continue
        expected = tuple(state.params[name].shape)
        file_name, tensor = found[name]
        got = tuple(tensor.shape)
        if got != expected:
            wrong.append((f"{file_name} ({name}) must have shape {expected} for the current model, the file's "
                          f"has {got}", _shape_hint(state, cell, name, got, found)))
    hints = [hint for _, hint in wrong]
    return [text + (f": {hint}" if hint and hint not in hints[i + 1:] else "")
            for i, (text, hint) in enumerate(wrong)]


def _shape_hint(state: ModelState, cell: Cell, name: str, got: tuple[int, ...],
                found: Mapping[str, tuple[str, torch.Tensor]]) -> str:
    """Why a shape differs, in the model's terms."""
    cfg = state.config
    E, H, V = cfg.n_embd, cfg.hidden_size, state.params["wte.weight"].shape[0]
    if name in ("wte.weight", "lm_head.weight"):
        if len(got) != 2:
            return "it should be a matrix"
        if got[0] != V:
            return (f"the file's vocabulary has {got[0]} tokens but the tokenizer makes {V}; use the corpus and "
                    f"tokenizer settings the weights were trained with")
        width = E if name == "wte.weight" else H
        return f"the file's {'embedding width E' if name == 'wte.weight' else 'hidden size H'} is {got[1]}, " \
               f"the model's is {width}"
    hh = found["h2g.weight"][1] if "h2g.weight" in found else None
    file_h = hh.shape[1] if hh is not None and hh.dim() == 2 and hh.shape[1] else None
    rows = got[0] if got else 0
    parts = []
    if file_h and rows % file_h == 0 and rows // file_h != cell.n_blocks:
        like = [c for c in CELLS.values() if c.n_blocks == rows // file_h]
        if like:
            k = rows // file_h
            parts.append(f"the file's recurrent layer looks like {_article(like[0].title)} "
                         f"({'' if k == 1 else k}H rows) but the cell is {cell.title}")
    if file_h and file_h != H:
        parts.append(f"the file's hidden size is H={file_h}, the model's is {H}")
    if name == "x2g.weight" and len(got) == 2 and got[1] != E:
        parts.append(f"the file's embedding width is E={got[1]}, the model's is {E}")
    return "; ".join(parts)


def _article(title: str) -> str:
    return ("an " if title[0] in "AEFHILMNORSX" else "a ") + title


def _torch_order(cell: Cell) -> tuple[str, ...]:
    if not cell.torch_block_order:
        raise WeightsError(f"the {cell.title} cell has no PyTorch counterpart: use the project layout")
    return cell.torch_block_order


def reorder_blocks(tensor: torch.Tensor, source: tuple[str, ...], target: tuple[str, ...]) -> torch.Tensor:
    """Rows (dim 0) in blocks named ``source`` rearranged into the order ``target``."""
    size = tensor.shape[0] // len(source)
    return torch.cat([tensor[source.index(b) * size:(source.index(b) + 1) * size] for b in target])
