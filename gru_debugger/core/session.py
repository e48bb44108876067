"""Session files (``.grus``): everything needed to reopen the debugger exactly.

One safetensors file. Its tensors are the current weights, ``param/<name>``
(float32, the iteration's starting parameters, edited ones included). Its
header metadata holds one entry, ``"gru_debugger.session"``: a JSON text

    {"kind": "gru_debugger.session", "version": 1,
     "config": {... every Config key, the corpus texts themselves ...},
     "iteration": 3, "position": 48, "base_seed": 123,
     "cursor": {"phase": "cell", "t": 2, "sub": "z"} or null,
     "breakpoints": ["loss", ...]}

Reopening recomputes the iteration from these (the computation is a pure
function of them), so every number and the next step are the same; the undo
history is not saved.

Saving is atomic (a temporary file next to the target, fsync, rename) and
reading is defensive: every problem with a file is one ControllerError naming
it, and nothing is built until the whole file has been checked.
"""
from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .regular_files import regular_opener
from .config import MAX_POSITION, PARAM_NAMES, Config, ConfigError, validate
from .engine import ModelState, param_shapes
from .export import remove_stale_temps
from .phases import PHASES, Step, build_steps
from .validation import ControllerError, is_int, show

SESSION_KIND = "gru_debugger.session"
SESSION_VERSION = 1
METADATA_KEY = "gru_debugger.session"
SESSION_SUFFIX = ".grus"
MAX_SESSION_BYTES = 2 * 1024**3        # the whole file
MAX_HEADER_BYTES = 100_000_000         # safetensors' own header limit (the JSON, corpus included)
MAX_ITERATION = 10**12
TEMP_MARK = "gru-debugger-session-partial-"
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
    tensors = {f"param/{name}": controller.state.params[name].detach().to(torch.float32).contiguous().clone()
               for name in PARAM_NAMES}
    return save(tensors, metadata={METADATA_KEY: text})


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
    remove_stale_temps(target, TEMP_MARK, SESSION_SUFFIX)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{TEMP_MARK}{os.getpid()}-", suffix=SESSION_SUFFIX,
                                   dir=folder)
    except OSError as exc:
        raise ControllerError(f"cannot save session {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), 0o666 & ~_umask())  # as an ordinary new file (mkstemp makes 0600)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ControllerError(f"cannot save session {path}: {exc.strerror or exc}") from None
        raise
    _sync_folder(folder)


def _umask() -> int:
    try:  # Linux: read it without changing it
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
    doc = _json(meta[METADATA_KEY], "session record")
    if not isinstance(doc, dict):
        raise _Bad("the session record is not an object")
    if doc.get("kind") != SESSION_KIND:
        raise _Bad(f"not a GRU Debugger session (kind {show(doc.get('kind'))})")
    version = doc.get("version")
    if not is_int(version):
        raise _Bad(f"the format version must be a whole number, got {show(version)}")
    if version > SESSION_VERSION:
        raise _Bad(f"made by a newer version of GRU Debugger (format {version}); this one reads format "
                   f"{SESSION_VERSION}")
    if version != SESSION_VERSION:
        raise _Bad(f"unknown format version {version} (this version reads format {SESSION_VERSION})")
    _exact_keys(doc, _KEYS, "the session record")

    cfg = _config(doc["config"])
    iteration = _int(doc["iteration"], "iteration", 0, MAX_ITERATION)
    position = _int(doc["position"], "position", 0, MAX_POSITION)
    base_seed = _int(doc["base_seed"], "base_seed", 0, 2**63 - 1)
    from .edits import check_state  # local: edits imports the engine
    vocab = check_state(cfg, position)
    params = _params(data, n, header, param_shapes(cfg, vocab))
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


def _params(data: bytes, n: int, header: dict[str, Any], shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """Check every tensor entry of the header before safetensors reads the data."""
    expected = {f"param/{name}" for name in PARAM_NAMES}
    missing = sorted(expected - set(header))
    extra = sorted(show(k) for k in set(header) - expected)
    if missing:
        raise _Bad(f"weights missing: {', '.join(missing)}")
    if extra:
        raise _Bad(f"unexpected entries: {', '.join(extra)}")
    body = len(data) - 8 - n
    spans = []
    for name in PARAM_NAMES:
        key, entry = f"param/{name}", header[f"param/{name}"]
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise _Bad(f"{key}: damaged entry")
        if entry["dtype"] != "F32":
            raise _Bad(f"{key} must be float32 (F32), got {show(entry['dtype'])}")
        shape = entry["shape"]
        if not isinstance(shape, list) or not all(is_int(d) and d >= 0 for d in shape):
            raise _Bad(f"{key}: damaged shape {show(shape)}")
        if tuple(shape) != shapes[name]:
            raise _Bad(f"{key} has shape {tuple(shape)}, but the config needs {shapes[name]}")
        offsets = entry["data_offsets"]
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(is_int(o) for o in offsets)
                and 0 <= offsets[0] <= offsets[1] <= body and offsets[1] - offsets[0] == 4 * math.prod(shape)):
            raise _Bad(f"{key}: its data lies outside the file (truncated?)")
        spans.append(tuple(offsets))
    spans.sort()
    if spans[0][0] != 0 or spans[-1][1] != body or any(a[1] != b[0] for a, b in zip(spans, spans[1:])):
        raise _Bad("the weights do not cover the file exactly (truncated or appended to?)")
    from safetensors.torch import load
    try:
        tensors = load(data)
    except Exception as exc:  # safetensors' own error type
        raise _Bad(f"damaged weights ({exc})") from None
    params = {}
    for name in PARAM_NAMES:
        tensor = tensors[f"param/{name}"]
        if tensor.dtype != torch.float32 or tuple(tensor.shape) != shapes[name]:
            raise _Bad(f"param/{name}: wrong dtype or shape")
        if not bool(torch.isfinite(tensor).all()):
            bad = int(np.count_nonzero(~np.isfinite(tensor.numpy())))
            raise _Bad(f"param/{name} holds {bad} NaN or Inf value(s)")
        params[name] = tensor.contiguous().clone()
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
