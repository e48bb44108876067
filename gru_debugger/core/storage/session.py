"""Session files (``.grus``): everything needed to reopen the debugger exactly.

One safetensors file. Its tensors are the current weights, ``param/<name>``
(the iteration's starting parameters, edited ones included), in the model's
own precision (``F32`` or ``F64``: a float64 session comes back bit for bit).
Its header metadata holds two entries: ``"gru_debugger.session"``, a JSON text

    {"kind": "gru_debugger.session", "version": 2,
     "config": {... every Config key, the corpus texts themselves ...},
     "iteration": 3, "position": 48, "base_seed": 123,
     "cursor": {"phase": "cell", "t": 2, "sub": "z"} or null,
     "breakpoints": ["loss", ...]}

and ``"gru_debugger.sha256"``, the SHA-256 of that text and of every tensor
(name, dtype, shape, bytes): a file changed or damaged after it was saved
(one flipped bit in a weight or a letter of the corpus) is refused, not
loaded with other numbers. Version 1 files (float32 weights, no checksum)
still load.

Reopening recomputes the iteration from these (the computation is a pure
function of them), so every number and the next step are the same; the undo
history is not saved.

Saving is atomic (core/storage/atomic_write) and reading is defensive: every problem
with a file is one ControllerError naming it, and nothing is built until the
whole file has been checked.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import torch

from .atomic_write import TEMP_MARK, write_atomic  # noqa: F401  (TEMP_MARK: the name of our temporary files)
from ..base.regular_files import regular_opener
from ..base.config import MAX_POSITION, PARAM_NAMES, Config, ConfigError, validate
from ..model.engine import ModelState, param_shapes, torch_dtype
from ..model.phases import PHASES, Step, build_steps
from ..base.validation import ControllerError, is_int, show

SESSION_KIND = "gru_debugger.session"
SESSION_VERSION = 2                    # 2: weights in the model's dtype, and a checksum; 1 still loads
METADATA_KEY = "gru_debugger.session"
CHECKSUM_KEY = "gru_debugger.sha256"
SESSION_SUFFIX = ".grus"
MAX_SESSION_BYTES = 2 * 1024**3        # the whole file
MAX_HEADER_BYTES = 100_000_000         # safetensors' own header limit (the JSON, corpus included)
MAX_ITERATION = 10**12
# safetensors dtype names of the weights a session may hold, with their size in bytes
DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8)}
_CODES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
          torch.bool: "BOOL"}
_KEYS = {"kind", "version", "config", "iteration", "position", "base_seed", "cursor", "breakpoints"}
# Config keys a version-1 file may lack (a key added to Config later goes here, with its default).
OPTIONAL_CONFIG_KEYS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LoadedSession:
    state: ModelState
    cursor_index: int
    breakpoints: frozenset[str]


class _Bad(Exception):
    """A problem with the file's contents (becomes a ControllerError naming the file)."""


# ---------------------------------------------------------------- writing
def session_document(controller: Any) -> dict[str, Any]:
    state = controller.state
    step = controller.snapshot().step
    return {
        "kind": SESSION_KIND, "version": SESSION_VERSION,
        "config": state.config.to_json_dict(),
        "iteration": state.iteration, "position": state.position, "base_seed": state.base_seed,
        "cursor": None if step is None else {"phase": step.phase, "t": step.t, "sub": step.sub},
        "breakpoints": sorted(controller.breakpoints, key=PHASES.index),
    }


def session_bytes(controller: Any) -> bytes:
    from safetensors.torch import save

    for text in controller.config.corpus:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: JSON would not give them back unchanged
            raise ControllerError("the corpus holds characters that are not valid Unicode text (surrogates); "
                                  "it cannot be saved in a session") from None

    text = json.dumps(session_document(controller), ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    if len(text) > MAX_HEADER_BYTES - 64 * 1024:
        raise ControllerError(f"the corpus is too large for a session file ({len(text) / 1e6:.0f} MB of text; "
                              f"the limit is {MAX_HEADER_BYTES // 10**6 - 1} MB)")
    dtype = torch_dtype(controller.config)
    tensors = {f"param/{name}": controller.state.params[name].detach().to(dtype).contiguous().clone()
               for name in PARAM_NAMES}
    return sealed(text, tensors)


def sealed(text: str, tensors: Mapping[str, torch.Tensor]) -> bytes:
    """The session file of a record ``text`` and ``tensors``, with their checksum."""
    from safetensors.torch import save

    items = [(name, _CODES.get(t.dtype, str(t.dtype)), tuple(t.shape), _le_bytes(t)) for name, t in tensors.items()]
    return save(dict(tensors), metadata={METADATA_KEY: text, CHECKSUM_KEY: checksum(text, items)})


def _le_bytes(tensor: torch.Tensor) -> bytes:
    """A tensor's bytes as safetensors stores them (little-endian)."""
    arr = tensor.detach().cpu().contiguous().numpy()
    return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def checksum(text: str, items: Iterable[tuple[str, str, tuple[int, ...], bytes]]) -> str:
    """SHA-256 (hex) of the record text and of each (name, dtype, shape, bytes), in name order:
    every byte that makes up the session's content, whatever order the file keeps them in."""
    digest = hashlib.sha256(b"gru_debugger.session\0")
    encoded = text.encode("utf-8", "surrogatepass")
    digest.update(len(encoded).to_bytes(8, "little") + encoded)
    for name, dtype, shape, raw in sorted(items):
        head = json.dumps([name, dtype, list(shape)], separators=(",", ":")).encode("ascii")
        digest.update(len(head).to_bytes(8, "little") + head + len(raw).to_bytes(8, "little"))
        digest.update(raw)
    return digest.hexdigest()


def write_session(path: Any, controller: Any) -> None:
    """Write atomically: the file at ``path`` is either the old one or the new
    one, never half written. Temporary files of ours left by a writer that was
    killed are removed first. Errors are ControllerErrors naming ``path``."""
    target = _check_path(path)
    data = session_bytes(controller)
    folder = target.parent
    try:
        info = target.stat()
    except OSError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise ControllerError(f"cannot save session {path}: it is a folder")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ControllerError(f"cannot save session {path}: not a regular file (a device, pipe or socket)")
    if not folder.is_dir():
        raise ControllerError(f"cannot save session {path}: the folder {folder} does not exist")
    try:
        write_atomic(target, data)
    except OSError as exc:
        raise ControllerError(f"cannot save session {path}: {exc.strerror or exc}") from None


def _check_path(path: Any) -> Path:
    if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
        raise ControllerError(f"a session path must be text or a path, got {show(path)}")
    text = os.fspath(path)
    if not isinstance(text, str) or not text or "\0" in text:
        raise ControllerError(f"not a usable session path: {show(path)}")
    return Path(text).expanduser()


# ---------------------------------------------------------------- reading
def read_session(path: Any) -> LoadedSession:
    """Read and check a session file completely; every problem is a ControllerError naming ``path``."""
    target = _check_path(path)
    try:
        with open(target, "rb", opener=_open_regular) as fh:
            data = fh.read(MAX_SESSION_BYTES + 1)
    except OSError as exc:
        raise ControllerError(f"cannot read session {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_SESSION_BYTES:
        raise ControllerError(f"session {path} is larger than the limit of {MAX_SESSION_BYTES // 1024**3} GB")
    try:
        return parse_session(data)
    except _Bad as exc:
        raise ControllerError(f"session {path}: {exc}") from None
    except (ConfigError, ControllerError) as exc:
        raise ControllerError(f"session {path}: {exc}") from None
    except RecursionError:
        raise ControllerError(f"session {path}: its values are nested too deeply") from None


def _open_regular(path: str, flags: int) -> int:
    return regular_opener(MAX_SESSION_BYTES, f"{MAX_SESSION_BYTES // 1024**3} GB")(path, flags)


def _no_constant(name: str) -> Any:
    raise _Bad(f"holds {name}, which is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Bad(f"holds a number too large ({text[:20]})")
    return value


def _json(raw: bytes | str, what: str) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _Bad(f"damaged {what} ({exc})") from None
    except ValueError as exc:  # an integer literal longer than Python converts
        raise _Bad(f"{what} holds a number too long to read ({str(exc).split(':')[0]})") from None


def parse_session(data: bytes) -> LoadedSession:
    if len(data) < 8:
        raise _Bad("not a session file: too short (truncated?)")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise _Bad(f"not a session file: a header of {n} bytes (the limit is {MAX_HEADER_BYTES})")
    if n < 2 or 8 + n > len(data):
        raise _Bad("not a session file, or truncated: the header runs past the end of the file")
    header = _json(data[8:8 + n], "header")
    if not isinstance(header, dict):
        raise _Bad("not a session file: the header is not an object")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not isinstance(meta.get(METADATA_KEY), str):
        raise _Bad("not a GRU Debugger session (no session record in the file)")
    entries = _entries(data, n, header)
    if CHECKSUM_KEY in meta:  # first: a damaged file is refused as damaged, whatever part was hit
        _verify(data, n, meta, entries)
    doc = _json(meta[METADATA_KEY], "session record")
    if not isinstance(doc, dict):
        raise _Bad("the session record is not an object")
    if doc.get("kind") != SESSION_KIND:
        raise _Bad(f"not a GRU Debugger session (kind {show(doc.get('kind'))})")
    version = doc.get("version")
    if not is_int(version):
        raise _Bad(f"the format version must be a whole number, got {show(version)}")
    if version > SESSION_VERSION:
        raise _Bad(f"made by a newer version of GRU Debugger (format {version}); this one reads formats 1 to "
                   f"{SESSION_VERSION}")
    if version < 1:
        raise _Bad(f"unknown format version {version} (this version reads formats 1 to {SESSION_VERSION})")
    if version >= 2 and CHECKSUM_KEY not in meta:
        raise _Bad("damaged: it has no checksum (a format 2 file always has one)")
    _exact_keys(doc, _KEYS, "the session record")

    cfg = _config(doc["config"])
    iteration = _int(doc["iteration"], "iteration", 0, MAX_ITERATION)
    position = _int(doc["position"], "position", 0, MAX_POSITION)
    base_seed = _int(doc["base_seed"], "base_seed", 0, 2**63 - 1)
    from ..model.edits import check_state  # local: edits imports the engine
    vocab = check_state(cfg, position)
    params = _params(data, entries, param_shapes(cfg, vocab), cfg, version)
    steps = build_steps(cfg.context_length, cfg.cell)
    cursor = _cursor(doc["cursor"], steps)
    breakpoints = _breakpoints(doc["breakpoints"])
    return LoadedSession(ModelState(cfg, params, iteration, position, base_seed), cursor, breakpoints)


def _exact_keys(obj: dict[str, Any], expected: set[str], what: str, optional: frozenset[str] = frozenset()) -> None:
    missing = sorted(expected - set(obj) - optional)
    extra = sorted(show(k) for k in set(obj) - expected)
    if missing:
        raise _Bad(f"{what} lacks {', '.join(missing)}")
    if extra:
        raise _Bad(f"{what} has unknown key(s) {', '.join(extra)}")


def _int(value: Any, what: str, low: int, high: int) -> int:
    if not is_int(value) or not low <= value <= high:
        raise _Bad(f"{what} must be a whole number from {low} to {high}, got {show(value)}")
    return int(value)


def _config(data: Any) -> Config:
    if not isinstance(data, dict):
        raise _Bad(f"config must be an object, got {show(data)}")
    _exact_keys(data, {f.name for f in fields(Config)}, "config", OPTIONAL_CONFIG_KEYS)
    corpus, init = data["corpus"], data["init"]
    if not isinstance(corpus, list) or not all(isinstance(t, str) for t in corpus):
        raise _Bad("config: corpus must be a list of texts")
    if not isinstance(init, dict) or set(init) != set(PARAM_NAMES):
        raise _Bad(f"config: init must name exactly the parameters {', '.join(PARAM_NAMES)}")
    try:
        cfg = Config(**{**data, "corpus": tuple(corpus)})
        validate(cfg)
    except ConfigError as exc:
        raise _Bad(f"config: {exc}") from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise _Bad(f"config: {exc}") from None
    return cfg


_Entry = tuple[str, tuple[int, ...], tuple[int, int]]  # dtype, shape, offsets in the data part


def _entries(data: bytes, n: int, header: dict[str, Any]) -> dict[str, _Entry]:
    """Check every tensor entry of the header (names, dtypes, shapes, where the bytes lie) before
    anything is read: exactly the six weights, covering the data part of the file exactly."""
    expected = {f"param/{name}" for name in PARAM_NAMES}
    missing = sorted(expected - set(header))
    extra = sorted(show(k) for k in set(header) - expected)
    if missing:
        raise _Bad(f"weights missing: {', '.join(missing)}")
    if extra:
        raise _Bad(f"unexpected entries: {', '.join(extra)}")
    body = len(data) - 8 - n
    entries: dict[str, _Entry] = {}
    for name in PARAM_NAMES:
        key, entry = f"param/{name}", header[f"param/{name}"]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _Bad(f"{key}: damaged entry")
        if entry["dtype"] not in DTYPES:
            raise _Bad(f"{key} must be float32 (F32) or float64 (F64), got {show(entry['dtype'])}")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(is_int(d) and d >= 0 for d in shape):
            raise _Bad(f"{key}: damaged shape {show(shape)}")
        offsets = entry["data_offsets"]
        size = DTYPES[entry["dtype"]][1]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= body and offsets[1] - offsets[0] == size * math.prod(shape)):
            raise _Bad(f"{key}: its data lies outside the file (truncated?)")
        entries[name] = (entry["dtype"], tuple(shape), (offsets[0], offsets[1]))
    spans = sorted(span for _, _, span in entries.values())
    if spans[0][0] != 0 or spans[-1][1] != body or any(a[1] != b[0] for a, b in zip(spans, spans[1:])):
        raise _Bad("the weights do not cover the file exactly (truncated or appended to?)")
    return entries


def _verify(data: bytes, n: int, meta: dict[str, Any], entries: dict[str, _Entry]) -> None:
    """The checksum saved with the file must be that of its record text and weights."""
    saved = meta.get(CHECKSUM_KEY)
    if not isinstance(saved, str):
        raise _Bad("damaged: its checksum is not text")
    start = 8 + n
    items = [(f"param/{name}", dtype, shape, data[start + a:start + b]) for name, (dtype, shape, (a, b))
             in entries.items()]
    if checksum(meta[METADATA_KEY], items) != saved:
        raise _Bad("damaged: its weights or text do not match the checksum saved with them (the file changed "
                   "after it was saved)")


def _params(data: bytes, entries: dict[str, _Entry], shapes: dict[str, tuple[int, ...]], cfg: Config,
            version: int) -> dict[str, torch.Tensor]:
    """The weights, in the config's precision: a format 2 file holds them in it, a format 1 file in float32."""
    want = "F32" if version < 2 else {v[0]: k for k, v in DTYPES.items()}[torch_dtype(cfg)]
    for name in PARAM_NAMES:
        dtype, shape, _ = entries[name]
        if dtype != want:
            raise _Bad(f"param/{name} is {dtype}, but a format {version} session of a {cfg.dtype} model holds {want}")
        if shape != shapes[name]:
            raise _Bad(f"param/{name} has shape {shape}, but the config needs {shapes[name]}")
    from safetensors.torch import load
    try:
        tensors = load(data)
    except Exception as exc:  # safetensors' own error type
        raise _Bad(f"damaged weights ({exc})") from None
    params = {}
    for name in PARAM_NAMES:
        tensor = tensors[f"param/{name}"]
        if tensor.dtype != DTYPES[want][0] or tuple(tensor.shape) != shapes[name]:
            raise _Bad(f"param/{name}: wrong dtype or shape")
        if not bool(torch.isfinite(tensor).all()):
            bad = int(np.count_nonzero(~np.isfinite(tensor.numpy())))
            raise _Bad(f"param/{name} holds {bad} NaN or Inf value(s)")
        params[name] = tensor.to(torch_dtype(cfg)).contiguous().clone()
    return params


def _cursor(value: Any, steps: tuple[Step, ...]) -> int:
    if value is None:
        return -1
    if not isinstance(value, dict):
        raise _Bad(f"cursor must be an object or null, got {show(value)}")
    _exact_keys(value, {"phase", "t", "sub"}, "cursor")
    phase, t, sub = value["phase"], value["t"], value["sub"]
    if not isinstance(phase, str) or phase not in PHASES:
        raise _Bad(f"cursor: unknown phase {show(phase)}")
    if t is not None and not is_int(t):
        raise _Bad(f"cursor: t must be a whole number or null, got {show(t)}")
    if sub is not None and not isinstance(sub, str):
        raise _Bad(f"cursor: sub must be text or null, got {show(sub)}")
    step = Step(phase, t, sub)
    for i, candidate in enumerate(steps):
        if candidate == step:
            return i
    label = phase + (f" t={t}" if t is not None else "") + (f" ({sub})" if sub is not None else "")
    raise _Bad(f"cursor: the step {label} does not exist in this iteration")


def _breakpoints(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p in PHASES for p in value):
        raise _Bad(f"breakpoints must be a list of phase names, got {show(value)}")
    if len(set(value)) != len(value):
        raise _Bad("breakpoints name a phase twice")
    return frozenset(value)
