"""Run configuration: one frozen dataclass, defaults are the notebook's example.

Every field can come from a JSON file (``python main.py export --config``);
every key is optional. :func:`validate` turns a bad value into a
:class:`ConfigError` with a message a person can act on.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .regular_files import regular_opener
from .bundled import corpus_files
from ..model.cells import CELLS
from .errors import ConfigError
from .init_schemes import validate_init_spec
from .validation import FLOAT32_MAX, fits_float32, show  # noqa: F401 (FLOAT32_MAX: the editors read it here)

PARAM_NAMES = ("wte.weight", "x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias", "lm_head.weight")

# Largest trace we agree to build; a bigger one would take the machine's memory.
# (estimate_trace_bytes: the recorded arrays plus the peak while computing them). It is also
# the controller's default trace-cache budget, so one iteration always fits in it.
MAX_TRACE_BYTES = 400 * 1024**2
# No corpus is longer than this many tokens (a bound for position).
MAX_POSITION = 10**12
# Largest config file we agree to read.
MAX_CONFIG_BYTES = 50 * 1024**2
# Floating-point precisions the computation can run in (config key "dtype").
DTYPES = ("float32", "float64")


def default_corpus() -> tuple[str, ...]:
    return tuple(f.read_text(encoding="utf-8") for f in corpus_files())


def default_init() -> dict[str, dict[str, Any]]:
    """The notebook's initialisation: constants, so every number is easy to follow."""
    return {
        "wte.weight": {"scheme": "ones"},
        "x2g.weight": {"scheme": "constant", "value": 0.5},
        "x2g.bias": {"scheme": "zeros"},
        "h2g.weight": {"scheme": "constant", "value": 0.25},
        "h2g.bias": {"scheme": "zeros"},
        "lm_head.weight": {"scheme": "ones"},
    }


@dataclass(frozen=True)
class Config:
    corpus: tuple[str, ...] = field(default_factory=default_corpus)  # texts to tokenize
    num_merges: int = 5          # byte-pair merges learned from the corpus
    lowercase: bool = True       # lowercase the corpus before training and encoding
    batch_size: int = 2          # B: rows per batch
    context_length: int = 8      # T: timesteps per row
    position: int = 0            # first token of the first batch
    n_embd: int = 4              # E: embedding width
    hidden_size: int = 2         # H: GRU hidden width
    dropout: float = 0.1         # p: probability of zeroing an activation
    train_mode: bool = True      # False turns dropout off (eval mode)
    seed: int | None = None      # None: fresh randomness each session, as the notebook
    learning_rate: float = 5.0   # SGD step size (large on purpose: one step shows)
    cell: str = "gru"            # recurrent cell: "gru", "lstm" or "rnn" (see core/model/cells)
    dtype: str = "float32"       # precision of weights and of the whole computation: "float32" or "float64"
    init: Mapping[str, Mapping[str, Any]] = field(default_factory=default_init)

    def __post_init__(self) -> None:
        # Friendlier construction: a list of texts is fine, and an init that
        # names only some parameters keeps the defaults for the others.
        if isinstance(self.corpus, list):
            object.__setattr__(self, "corpus", tuple(self.corpus))
        if isinstance(self.init, Mapping):
            init = default_init()
            init.update({k: dict(v) if isinstance(v, Mapping) else v for k, v in self.init.items()})
            object.__setattr__(self, "init", init)

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["corpus"] = list(self.corpus)
        data["init"] = {k: dict(v) for k, v in self.init.items()}
        return data

    def with_changes(self, **changes: Any) -> "Config":
        """A validated copy; raises ConfigError and leaves ``self`` untouched."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        if "corpus" in changes and isinstance(changes["corpus"], list):
            changes["corpus"] = tuple(changes["corpus"])
        if "init" in changes:
            merged = {k: dict(v) for k, v in self.init.items()}
            init = changes["init"]
            if not isinstance(init, Mapping):
                raise ConfigError("init must be an object mapping parameter names to schemes")
            for name, spec in init.items():
                merged[name] = dict(spec) if isinstance(spec, Mapping) else spec
            changes["init"] = merged
        new = replace(self, **changes)
        validate(new)
        return new


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate(cfg: Config) -> None:
    if not isinstance(cfg.corpus, tuple) or not cfg.corpus or not all(isinstance(t, str) for t in cfg.corpus):
        raise ConfigError("corpus must be a non-empty list of texts")
    if not any(t.strip() for t in cfg.corpus):
        raise ConfigError("corpus is empty: add some text")
    for name, low, high in (
        ("num_merges", 0, 10_000),
        ("batch_size", 1, 4096),
        ("context_length", 1, 4096),
        ("n_embd", 1, 4096),
        ("hidden_size", 1, 4096),
    ):
        value = getattr(cfg, name)
        if not _is_int(value) or not low <= value <= high:
            raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {show(value)}")
    if not _is_int(cfg.position) or not 0 <= cfg.position <= MAX_POSITION:
        raise ConfigError(f"position must be a whole number from 0 to {MAX_POSITION:.0e} (within the corpus), "
                          f"got {show(cfg.position)}")
    if not fits_float32(cfg.dropout) or not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"dropout must be a number in [0, 1), got {show(cfg.dropout)}")
    if not isinstance(cfg.train_mode, bool) or not isinstance(cfg.lowercase, bool):
        raise ConfigError("train_mode and lowercase must be true or false")
    if cfg.seed is not None and (not _is_int(cfg.seed) or not 0 <= cfg.seed < 2**63):
        raise ConfigError(f"seed must be a whole number >= 0 or null, got {show(cfg.seed)}")
    if not isinstance(cfg.cell, str) or cfg.cell not in CELLS:
        raise ConfigError(f"cell must be one of {', '.join(CELLS)}; got {cfg.cell!r}")
    if not isinstance(cfg.dtype, str) or cfg.dtype not in DTYPES:
        raise ConfigError(f"dtype must be \"float32\" or \"float64\", got {show(cfg.dtype)}")
    if not fits_float32(cfg.learning_rate):
        raise ConfigError(f"learning_rate must be a finite number within float32 range, "
                          f"got {show(cfg.learning_rate)}")
    if not isinstance(cfg.init, Mapping):
        raise ConfigError("init must be an object mapping parameter names to schemes")
    unknown = [show(k) for k in cfg.init if k not in PARAM_NAMES]
    if unknown:
        raise ConfigError(f"init: unknown parameter(s) {', '.join(sorted(unknown))}; known: {', '.join(PARAM_NAMES)}")
    for name in PARAM_NAMES:
        if name not in cfg.init:
            raise ConfigError(f"init: no scheme for {name}")
        validate_init_spec(name, cfg.init[name])


def read_config(path: str | Path | None = None) -> Config:
    """Defaults, overridden by the keys of a JSON file (if given), every value validated.

    Every problem, however odd the file, is a ConfigError whose message names
    ``path``: not a regular file (a folder, a device, a pipe: refused before
    reading, so nothing blocks or reads forever), too large, not JSON, nested
    too deeply, numbers too long, or bad values. The corpus is not tokenized
    here: :func:`~gru_debugger.core.storage.config_load.load_config` also checks that
    a batch fits it.
    """
    base = Config()
    if path is None:
        return base
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must hold a JSON object")
    try:
        if "corpus" in data and not isinstance(data["corpus"], list):
            raise ConfigError("corpus must be a list of texts")
        if "corpus_files" in data:  # files' texts, after any "corpus" texts; relative to the config's folder
            from .texts import read_corpus_files  # local: only configs that name files need it

            files = read_corpus_files(data.pop("corpus_files"), Path(path).parent)
            data["corpus"] = [*data.get("corpus", []), *files]
        return base.with_changes(**data)
    except ConfigError as exc:
        raise ConfigError(f"config {path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config {path}: its values are nested too deeply") from None


def _read_json(path: str | Path) -> Any:
    try:
        with open(path, "rb", opener=_open_regular) as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config {path} is larger than the limit of {MAX_CONFIG_BYTES // 1024**2} MB")
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config {path} is nested too deeply to read") from None
    except ValueError as exc:  # an integer literal longer than Python agrees to convert
        raise ConfigError(f"config {path} holds a number too long to read ({str(exc).split(':')[0]})") from None


def _open_regular(path: str, flags: int) -> int:
    return regular_opener(MAX_CONFIG_BYTES, f"{MAX_CONFIG_BYTES // 1024**2} MB")(path, flags)
