"""Pure state transitions: each takes a ModelState and returns a new one.

Nothing here mutates its input, so an undo entry can simply keep the state
from before and the state from after. Each function validates first and
raises :class:`ConfigError` (a ValueError) with a readable message.
"""
from __future__ import annotations

import math
import secrets
from typing import Any, Iterable, Mapping, Sequence

import torch

from ..base.config import MAX_TRACE_BYTES, PARAM_NAMES, Config, ConfigError, validate
from ..text.data import check_fits, next_position, tokenize
from .engine import ModelState, Trace, init_param, param_shapes, torch_dtype


def draw_seed() -> int:
    return secrets.randbits(63)


def trace_array_bytes(cfg: Config, vocab_size: int, n_tokens: int) -> int:
    """Exactly the bytes of the arrays one recorded iteration keeps (the sum of
    ``trace.arrays[k].nbytes``; see engine.compute_trace), for every cell."""
    from .cells import get_cell
    cell = get_cell(cfg.cell)
    B, T, E, H, V = cfg.batch_size, cfg.context_length, cfg.n_embd, cfg.hidden_size, vocab_size
    n, g = cell.n_blocks, len(cell.gates)
    split = 2 * n * H if cell.split_keys else 0
    # per position: inputs and masks (5E), output masks/h_out/after h (4H), gates and their
    # gradients, gx/gh and their gradients (+ the block slices), the last position's gradients of
    # the carried state (h, c) and of gx, logits/probs (+grad, +after), losses
    last = len(cell.state) * H + n * H
    per_position = 5 * E + 4 * H + 2 * g * H + 4 * n * H + split + last + 5 * V + 2
    params = V * E + n * H * (E + H + 2) + V * H
    floats = B * T * per_position + 4 * params + 4  # param/grad/update/updated; four scalar losses
    itemsize = 8 if cfg.dtype == "float64" else 4
    return itemsize * floats + 8 * (n_tokens + 2 * B * T)   # int64 token stream, x and y


def estimate_trace_bytes(cfg: Config, vocab_size: int, n_tokens: int = 0) -> int:
    """Memory one iteration needs: the recorded arrays plus what computing them
    holds at its peak (autograd's saved tensors and gradients: about four more
    (B, T, V) tensors, the cell's per-timestep tensors again, and three more
    copies of the parameters)."""
    from .cells import get_cell
    cell = get_cell(cfg.cell)
    B, T, E, H, V = cfg.batch_size, cfg.context_length, cfg.n_embd, cfg.hidden_size, vocab_size
    n, g = cell.n_blocks, len(cell.gates)
    params = V * E + n * H * (E + H + 2) + V * H
    itemsize = 8 if cfg.dtype == "float64" else 4
    working = itemsize * (B * T * (4 * V + 2 * E + 2 * g * H + 4 * n * H) + 3 * params)
    return trace_array_bytes(cfg, vocab_size, n_tokens) + working


def check_state(cfg: Config, position: int) -> int:
    """Validate a config against its corpus; returns the vocabulary size."""
    validate(cfg)
    corpus = tokenize(cfg)
    check_fits(len(corpus.tokens), position, cfg.batch_size, cfg.context_length)
    check_trace_size(cfg, corpus.vocab_size, len(corpus.tokens), MAX_TRACE_BYTES)
    return corpus.vocab_size


def check_trace_size(cfg: Config, vocab_size: int, n_tokens: int, budget: int) -> int:
    """Refuse (before anything is allocated) a configuration whose one iteration
    would not fit ``budget`` bytes; returns the estimate."""
    size = estimate_trace_bytes(cfg, vocab_size, n_tokens)
    if size > budget:
        raise ConfigError(f"this configuration would need about {_mb(size)} for one iteration "
                          f"(B={cfg.batch_size}, T={cfg.context_length}, E={cfg.n_embd}, H={cfg.hidden_size}, "
                          f"V={vocab_size}, {cfg.cell}; limit {_mb(budget)}): make B, T, E or H smaller")
    return size


def _mb(n: int) -> str:
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GiB"
    return f"{n / 1024**2:.0f} MB" if n >= 1024**2 else f"{max(1, round(n / 1024))} KB"


def fresh_state(cfg: Config, base_seed: int | None = None) -> ModelState:
    if base_seed is None:
        base_seed = cfg.seed if cfg.seed is not None else draw_seed()
    vocab_size = check_state(cfg, cfg.position)
    params = {name: init_param(cfg, name, vocab_size, base_seed) for name in PARAM_NAMES}
    return ModelState(cfg, params, iteration=0, position=cfg.position, base_seed=base_seed)


def _check_name(name: str) -> None:
    if name not in PARAM_NAMES:
        raise ConfigError(f"unknown parameter {name!r}; parameters are: {', '.join(PARAM_NAMES)}")


def with_param_cell(state: ModelState, name: str, index: Sequence[int], value: float) -> ModelState:
    _check_name(name)
    tensor = state.params[name]
    index = tuple(index)
    if len(index) != tensor.dim() or not all(isinstance(i, int) and 0 <= i < n for i, n in zip(index, tensor.shape)):
        raise ConfigError(f"index {list(index)} is outside {name}, whose shape is {tuple(tensor.shape)}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{value!r} is not a number") from None
    if not math.isfinite(value):
        raise ConfigError(f"{value} is not a finite number")
    new = tensor.clone()
    new[index] = value
    return _with_params(state, {name: new})


def _with_params(state: ModelState, changed: Mapping[str, torch.Tensor]) -> ModelState:
    params = dict(state.params)
    params.update(changed)
    return ModelState(state.config, params, state.iteration, state.position, state.base_seed)


def with_reinit(state: ModelState, names: Iterable[str]) -> ModelState:
    names = list(names)
    for name in names:
        _check_name(name)
    vocab = tokenize(state.config).vocab_size
    return _with_params(state, {n: init_param(state.config, n, vocab, state.base_seed) for n in names})


def with_init(state: ModelState, name: str, spec: Mapping[str, Any]) -> ModelState:
    """Choose a new scheme for one parameter and re-initialise it with it."""
    return with_inits(state, {name: spec})


def with_inits(state: ModelState, specs: Mapping[str, Mapping[str, Any]]) -> ModelState:
    """New schemes for several parameters at once, each re-initialised."""
    for name in specs:
        _check_name(name)
    cfg = state.config.with_changes(init={name: dict(spec) for name, spec in specs.items()})
    moved = ModelState(cfg, state.params, state.iteration, state.position, state.base_seed)
    return with_reinit(moved, list(specs))


def with_seed(state: ModelState, seed: int | None) -> ModelState:
    """A new seed redraws dropout masks (and future random initialisations)."""
    cfg = state.config.with_changes(seed=seed)
    return ModelState(cfg, state.params, state.iteration, state.position, seed if seed is not None else draw_seed())


# Settings that change the token stream or the batch shape; position follows them.
_STREAM_KEYS = {"corpus", "num_merges", "lowercase", "batch_size", "context_length"}


def with_config(state: ModelState, **changes: Any) -> ModelState:
    """Change settings; parameters whose shape changes are re-initialised with
    their schemes, every other parameter keeps its values."""
    if "seed" in changes:
        raise ConfigError("use with_seed to change the seed")
    if "init" in changes:
        raise ConfigError("use with_init to change an initialisation scheme")
    cfg = state.config.with_changes(**changes)
    position = cfg.position if "position" in changes else state.position
    if "position" not in changes and _STREAM_KEYS & set(changes):
        corpus = tokenize(cfg)  # keep the batch where it was, if it still fits
        last = max(len(corpus.tokens) - cfg.batch_size * cfg.context_length - 1, 0)
        position = min(position, last)
        if cfg.position > last:  # the start position must stay usable by reset
            cfg = cfg.with_changes(position=last)
    vocab = check_state(cfg, position)
    old_shapes = param_shapes(state.config, tokenize(state.config).vocab_size)
    new_shapes = param_shapes(cfg, vocab)
    dtype = torch_dtype(cfg)
    params = {name: tensor.to(dtype).contiguous() for name, tensor in state.params.items()}  # a new dtype casts
    for name in PARAM_NAMES:
        if new_shapes[name] != old_shapes[name]:
            params[name] = init_param(cfg, name, vocab, state.base_seed)
    return ModelState(cfg, params, state.iteration, position, state.base_seed)


def next_iteration_state(state: ModelState, trace: Trace) -> ModelState:
    """The next batch, with the weights this iteration's update produced."""
    cfg = state.config
    params = {name: torch.from_numpy(trace[f"updated/{name}"].copy()) for name in PARAM_NAMES}
    position = next_position(state.position, len(trace.corpus.tokens), cfg.batch_size, cfg.context_length)
    return ModelState(cfg, params, state.iteration + 1, position, state.base_seed)
