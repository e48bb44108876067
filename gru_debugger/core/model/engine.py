"""One training iteration of the recurrent language model, with every number recorded.

The computation is written out by hand (as in the notebook) rather than with
``torch.nn.GRU`` / ``nn.LSTM`` / ``nn.RNN`` so that each gate of each timestep
can be kept and shown; the chosen cell (``core/model/cells``) supplies the step.
:func:`compute_trace` is a pure function of a :class:`ModelState`: the same
state always gives the same numbers, which is what makes stepping back exact.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from .cells import Cell, get_cell
from ..base.config import PARAM_NAMES, Config
from ..text.data import Corpus, batch_at, tokenize
from .init import initialise


@dataclass(frozen=True)
class ModelState:
    """Everything the numbers of one iteration depend on. Never mutated."""

    config: Config
    params: Mapping[str, torch.Tensor]  # weights at the start of this iteration
    iteration: int                      # 0 for the first batch
    position: int                       # first token of this iteration's batch
    base_seed: int                      # the seed actually used (config.seed or a drawn one)


def derive_seed(base_seed: int, *parts: object) -> int:
    """A stable 63-bit seed for one named use of randomness."""
    words = [base_seed & 0xFFFFFFFF, base_seed >> 32] + [zlib.crc32(str(p).encode()) for p in parts]
    return int(np.random.SeedSequence(words).generate_state(2, np.uint64)[0] >> np.uint64(1))


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def param_shapes(cfg: Config, vocab_size: int) -> dict[str, tuple[int, ...]]:
    E, H, V = cfg.n_embd, cfg.hidden_size, vocab_size
    n = get_cell(cfg.cell).n_blocks   # GRU 3 (z | r | n), LSTM 4 (i | f | g | o), RNN 1
    return {
        "wte.weight": (V, E),
        "x2g.weight": (n * H, E),
        "x2g.bias": (n * H,),
        "h2g.weight": (n * H, H),
        "h2g.bias": (n * H,),
        "lm_head.weight": (V, H),
    }


def fan_in(cfg: Config, name: str) -> int:
    return cfg.n_embd if name.startswith("x2g") else cfg.hidden_size


def torch_dtype(cfg: Config) -> torch.dtype:
    """The precision of the computation (config key ``dtype``)."""
    return torch.float64 if cfg.dtype == "float64" else torch.float32


def init_param(cfg: Config, name: str, vocab_size: int, base_seed: int) -> torch.Tensor:
    shape = param_shapes(cfg, vocab_size)[name]
    gen = generator(derive_seed(base_seed, "init", name))
    keep = get_cell(cfg.cell).keep_rows(cfg.hidden_size)
    return initialise(name, shape, cfg.init[name], gen, fan_in(cfg, name), torch_dtype(cfg), keep)


def init_params(cfg: Config, vocab_size: int, base_seed: int) -> dict[str, torch.Tensor]:
    return {name: init_param(cfg, name, vocab_size, base_seed) for name in PARAM_NAMES}


def dropout_mask(shape: tuple[int, ...], p: float, enabled: bool, seed: int,
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The dropout multiplier: 0 or 1/(1-p). A mask drawn from uniforms, so a
    larger p drops a superset of what a smaller p drops (with one seed). The
    uniforms are float32 in either precision: float64 drops the same elements."""
    if not enabled or p == 0.0:
        return torch.ones(shape, dtype=dtype)
    u = torch.rand(shape, generator=generator(seed))
    return _scaled(u >= p, p, dtype)


def _scaled(keep: torch.Tensor, p: float, dtype: torch.dtype) -> torch.Tensor:
    """The multiplier from which elements are kept: 1/(1-p) there, 0 elsewhere, in ``dtype``."""
    return keep.to(dtype) / (1.0 - p)


def masks_for(state: ModelState, tag: str, B: int, T: int) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = state.config
    seed_in = derive_seed(state.base_seed, "dropout", state.iteration, tag, "in")
    seed_out = derive_seed(state.base_seed, "dropout", state.iteration, tag, "out")
    dtype = torch_dtype(cfg)
    return (
        dropout_mask((B, T, cfg.n_embd), cfg.dropout, cfg.train_mode, seed_in, dtype),
        dropout_mask((B, T, cfg.hidden_size), cfg.dropout, cfg.train_mode, seed_out, dtype),
    )


@dataclass(frozen=True)
class Inputs:
    """What an iteration reads besides its weights: the tokenized corpus and the (train) dropout
    masks. A background job is handed these (from the trace it completes), so that it never
    reaches the tokenizer's cache (``data._cache``), which the window's thread changes."""

    corpus: Corpus
    mask_in: torch.Tensor
    mask_out: torch.Tensor

    def masks(self, cfg: Config) -> tuple[torch.Tensor, torch.Tensor]:
        """The masks in ``cfg``'s precision: the same elements kept, scaled in that precision as
        :func:`dropout_mask` scales them (a float64 recomputation of a float32 trace)."""
        dtype = torch_dtype(cfg)
        if self.mask_in.dtype == dtype:
            return self.mask_in, self.mask_out
        if not cfg.train_mode or cfg.dropout == 0.0:
            return torch.ones(self.mask_in.shape, dtype=dtype), torch.ones(self.mask_out.shape, dtype=dtype)
        return (_scaled(self.mask_in != 0, cfg.dropout, dtype), _scaled(self.mask_out != 0, cfg.dropout, dtype))


def unroll(cell: Cell, x_in: torch.Tensor, p: Mapping[str, torch.Tensor],
           keep: bool) -> dict[str, list[torch.Tensor]]:
    """Run the cell over time. x_in: (B, T, E). Returns per-timestep lists of
    gx, gh, the block slices (GRU) and every gate of the cell."""
    B, T, _ = x_in.shape
    H = p["h2g.weight"].shape[1]
    state = {name: x_in.new_zeros(B, H) for name in cell.state}  # h_{-1} = 0 (and c_{-1})
    keys = ("gx", "gh") + cell.split_names + cell.gates
    rec: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
    for t in range(T):
        gx = x_in[:, t] @ p["x2g.weight"].T + p["x2g.bias"]      # (B, nH)
        gh = state["h"] @ p["h2g.weight"].T + p["h2g.bias"]      # (B, nH)
        out = cell.step(gx, gh, state)                           # gates, (B, H) each
        if keep:
            for tensor in (gx, gh, *out.values()):
                tensor.retain_grad()
        out["gx"], out["gh"] = gx, gh
        for name in cell.split_names:                            # "zx" … "nh": views of gx, gh
            out[name] = cell.block(gx if name.endswith("x") else gh, name[:-1])
        for key in keys:
            rec[key].append(out[key])
        state = {name: out[name] for name in cell.state}
    return rec


def _np(t: torch.Tensor) -> np.ndarray:
    """A read-only numpy array of ``t``'s values. A tensor that is all of its own memory (a result
    made here, never changed afterwards) is shared rather than copied: the copy would cost time and,
    while both exist, as much memory again; anything else (a view into a larger tensor) is copied."""
    t = t.detach()
    owns = t.is_contiguous() and t.storage_offset() == 0 and \
        t.untyped_storage().nbytes() == t.numel() * t.element_size()
    arr = t.numpy() if owns and t.device.type == "cpu" else t.cpu().numpy().copy()
    arr.flags.writeable = False
    return arr


def _stack_time(items: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(items, dim=1)                             # (B, T, ...)


def forward(cell: Cell, p: Mapping[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, mask_in: torch.Tensor,
            mask_out: torch.Tensor, keep: bool = False, per_position: bool = True) -> dict[str, object]:
    embedded = F.embedding(x, p["wte.weight"])                   # (B, T, E)
    if keep:
        embedded.retain_grad()
    x_in = embedded * mask_in                                    # (B, T, E)
    rec = unroll(cell, x_in, p, keep)
    hs = _stack_time(rec["h"])                                   # (B, T, H)
    h_out = hs * mask_out                                        # (B, T, H)
    logits = h_out @ p["lm_head.weight"].T                       # (B, T, V)
    if keep:
        logits.retain_grad()
    V = logits.shape[-1]
    loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    per_pos = (F.cross_entropy(logits.detach().reshape(-1, V), y.reshape(-1), reduction="none").view_as(y)
               if per_position else None)
    return {"embedded": embedded, "x_in": x_in, "rec": rec, "hs": hs, "h_out": h_out,
            "logits": logits, "loss": loss, "loss_per_position": per_pos, "y": y}


def _clear_grads(out: Mapping[str, object], params: Mapping[str, torch.Tensor]) -> None:
    for tensors in out["rec"].values():  # type: ignore[union-attr]
        for tensor in tensors:
            tensor.grad = None
    for tensor in (out["embedded"], out["logits"], *params.values()):
        tensor.grad = None  # type: ignore[union-attr]


def last_position_grads(out: Mapping[str, object], cell: Cell) -> dict[str, torch.Tensor]:
    """dL_last/dv_t for every t, by ``cell.last_keys`` (``grad/h_last``, the LSTM's ``grad/c_last``,
    ``grad/gx_last``), each (B, T, ·): L_last is the mean over batch rows of the cross-entropy at
    t = T-1 alone. Unlike the total dL/dh_t, which gets a fresh term from every position's own
    prediction, this shows how much of one loss survives the trip back in time (vanishing or
    exploding gradients); for the LSTM the memory is carried by c as well as h."""
    logits, y, rec = out["logits"], out["y"], out["rec"]  # type: ignore[index]
    loss_last = F.cross_entropy(logits[:, -1], y[:, -1])      # type: ignore[index]
    names = [key.removeprefix("grad/").removesuffix("_last") for key in cell.last_keys]
    targets = [tensor for name in names for tensor in rec[name]]  # type: ignore[index]
    grads = torch.autograd.grad(loss_last, targets, retain_graph=True, allow_unused=True)
    grads = [g if g is not None else torch.zeros_like(v) for g, v in zip(grads, targets)]
    T = len(rec["h"])  # type: ignore[index]
    return {key: torch.stack(grads[i * T:(i + 1) * T], dim=1) for i, key in enumerate(cell.last_keys)}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: a trace never changes
class Trace:
    """Read-only numpy arrays of one iteration, by name (see README, Export).

    ``arrays`` may be a :class:`PendingArrays` (see :func:`start_trace`): the
    forward pass's arrays are there at once, the rest when first read or when
    the background computation has finished; either way the numbers are those
    :func:`compute_trace` gives."""

    arrays: Mapping[str, np.ndarray]
    corpus: Corpus
    state: ModelState | None = None  # what it was computed from (round-off checks recompute in float64)
    inputs: Inputs | None = None     # its corpus and masks, for recomputations on a worker

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def __contains__(self, key: object) -> bool:
        return key in self.arrays

    @property
    def complete(self) -> bool:
        """Every array is computed (reading one never waits)."""
        return getattr(self.arrays, "complete", True)

    def wait(self) -> "Trace":
        """Finish the background part now (if any); returns the trace."""
        finish = getattr(self.arrays, "wait", None)
        if finish is not None:
            finish()
        return self

    def resume(self, executor) -> bool:
        """Hand the background part to ``executor`` again if its job was dropped (:meth:`PendingArrays.cancel`)
        and nobody has computed it since; True if it was handed over. A trace whose job was dropped and
        that becomes the current one again (undo back to it) would otherwise never finish."""
        restart = getattr(self.arrays, "resume", None)
        return bool(restart is not None and restart(executor))

    def ready(self, key: str) -> bool:
        """``key`` can be read without waiting for the background part."""
        is_ready = getattr(self.arrays, "is_ready", None)
        return key in self.arrays if is_ready is None else is_ready(key)


def _forward_part(state: ModelState, graph: bool = True, record: bool = True,
                  inputs: Inputs | None = None) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    """The forward pass with its autograd graph: its arrays, and what the rest needs. Without
    ``graph`` only the arrays (the same numbers: autograd records, it does not change them);
    without ``record`` only the graph. With ``inputs`` (on a worker thread) the corpus and masks
    are those, else they are looked up (tokenizer cache) and drawn here."""
    if not graph:
        with torch.no_grad():
            return _forward_part_of(state, False, record, inputs)
    return _forward_part_of(state, True, record, inputs)


def _forward_part_of(state: ModelState, graph: bool, record: bool = True,
                     inputs: Inputs | None = None) -> tuple[dict[str, np.ndarray], dict[str, object]]:
    cfg = state.config
    corpus = tokenize(cfg) if inputs is None else inputs.corpus
    B, T = cfg.batch_size, cfg.context_length
    x_np, y_np = batch_at(corpus.tokens, state.position, B, T)
    x, y = torch.from_numpy(x_np.copy()), torch.from_numpy(y_np.copy())
    dtype = torch_dtype(cfg)
    params = {k: v.detach().to(dtype).clone().requires_grad_(graph) for k, v in state.params.items()}
    mask_in, mask_out = masks_for(state, "train", B, T) if inputs is None else inputs.masks(cfg)
    cell = get_cell(cfg.cell)

    out = forward(cell, params, x, y, mask_in, mask_out, keep=graph, per_position=record)
    context = {"state": state, "corpus": corpus, "cell": cell, "params": params, "out": out, "x": x, "y": y,
               "mask_in": mask_in, "mask_out": mask_out}
    if not record:
        return {}, context
    a: dict[str, np.ndarray] = {
        "tokens": corpus.tokens, "x": x_np, "y": y_np,
        "embedded": _np(out["embedded"]), "dropout_in_mask": _np(mask_in), "x_in": _np(out["x_in"]),
        "dropout_out_mask": _np(mask_out), "h_out": _np(out["h_out"]),
        "logits": _np(out["logits"]), "probs": _np(torch.softmax(out["logits"].detach(), -1)),
        "loss": _np(out["loss"]), "loss_per_position": _np(out["loss_per_position"]),
    }
    for key in out["rec"]:  # type: ignore[union-attr]
        a[key] = _np(_stack_time(out["rec"][key]))              # (B, T, H) or (B, T, nH)
    for name, param in params.items():
        a[f"param/{name}"] = _np(param)
    return a, context


def gradients_and_updates(state: ModelState, inputs: Inputs | None = None) -> dict[str, np.ndarray]:
    """Only the ``grad/*`` and ``update/*`` (and ``updated/*``) arrays of the iteration: the same
    numbers as :func:`compute_trace`, without recording the forward arrays or running the second
    pass (the round-off check recomputes these in float64, at the large sizes a second or more).
    A worker passes ``inputs`` (see :class:`Inputs`)."""
    return _backward_part(_forward_part(state, record=False, inputs=inputs)[1], second_pass=False)


def shadow_pass(state: ModelState, inputs: Inputs | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The recorded forward arrays and the ``grad/*`` and ``update/*`` arrays of the iteration, from
    one pass: the float64 checks of a float32 trace (core/analysis/roundoff and precision) both
    read it, so the recomputation runs once."""
    forward_arrays, context = _forward_part(state, inputs=inputs)
    return forward_arrays, _backward_part(context, second_pass=False)


def _rest_of(state: ModelState, inputs: Inputs | None = None) -> dict[str, np.ndarray]:
    """What follows the forward pass (:func:`_backward_part`), from a forward pass that records
    nothing: its arrays are those the trace already holds from the pass without the graph."""
    return _backward_part(_forward_part(state, record=False, inputs=inputs)[1])


def _backward_part(context: dict[str, object], second_pass: bool = True) -> dict[str, np.ndarray]:
    """Back-propagation, the SGD update and the second forward pass (from :func:`_forward_part`'s graph)."""
    state, cell, params, out = context["state"], context["cell"], context["params"], context["out"]
    x, y, mask_in, mask_out = context["x"], context["y"], context["mask_in"], context["mask_out"]
    cfg = state.config  # type: ignore[attr-defined]
    B, T = cfg.batch_size, cfg.context_length
    grads_last = last_position_grads(out, cell)  # type: ignore[arg-type]
    _clear_grads(out, params)  # type: ignore[arg-type]  # retained tensors also caught that pass's gradients
    out["loss"].backward()  # type: ignore[index,union-attr]
    rec = out["rec"]  # type: ignore[index]
    a: dict[str, np.ndarray] = {}
    for key in cell.gates + ("gx", "gh"):  # type: ignore[attr-defined]
        a[f"grad/{key}"] = _np(_stack_time([t.grad for t in rec[key]]))
    for key, value in grads_last.items():
        a[key] = _np(value)
    a["grad/embedded"] = _np(out["embedded"].grad)  # type: ignore[index,union-attr]
    a["grad/logits"] = _np(out["logits"].grad)  # type: ignore[index,union-attr]
    lr = cfg.learning_rate
    updated = {}
    for name, param in params.items():  # type: ignore[attr-defined]
        a[f"grad/{name}"] = _np(param.grad)
        step = -lr * param.grad
        a[f"update/{name}"] = _np(step)
        updated[name] = (param.detach() + step).contiguous()
        if second_pass:
            a[f"updated/{name}"] = _np(updated[name])
    if not second_pass:
        return a

    # The second pass needs the updated weights, not the first pass's tensors and their gradients:
    # they are let go first (the arrays above hold what is kept of them).
    loss_before = out["loss"].detach()  # type: ignore[index,union-attr]
    del rec, grads_last, value, param, step
    out.clear()  # type: ignore[attr-defined]  # the dicts were made for this iteration only
    params.clear()  # type: ignore[attr-defined]
    after_in, after_out = masks_for(state, "after", B, T)  # type: ignore[arg-type]
    with torch.no_grad():
        after = forward(cell, updated, x, y, after_in, after_out)  # type: ignore[arg-type]
        same_masks = forward(cell, updated, x, y, mask_in, mask_out)  # type: ignore[arg-type]
    a["after/dropout_in_mask"] = _np(after_in)
    a["after/dropout_out_mask"] = _np(after_out)
    a["after/h"] = _np(after["hs"])  # type: ignore[arg-type]
    a["after/logits"] = _np(after["logits"])  # type: ignore[arg-type]
    a["after/probs"] = _np(torch.softmax(after["logits"], -1))  # type: ignore[arg-type]
    a["after/loss_per_position"] = _np(after["loss_per_position"])  # type: ignore[arg-type]
    a["loss_after"] = _np(after["loss"])  # type: ignore[arg-type]
    a["loss_improvement"] = _np(loss_before - after["loss"])  # type: ignore[operator]
    a["loss_after_same_masks"] = _np(same_masks["loss"])  # type: ignore[arg-type]
    return a


def backward_names(cell: Cell) -> tuple[str, ...]:
    """The names :func:`_backward_part` gives, in its order."""
    names = [f"grad/{key}" for key in cell.gates + ("gx", "gh")]
    names += [*cell.last_keys, "grad/embedded", "grad/logits"]
    for name in PARAM_NAMES:
        names += [f"grad/{name}", f"update/{name}", f"updated/{name}"]
    names += ["after/dropout_in_mask", "after/dropout_out_mask", "after/h", "after/logits", "after/probs",
              "after/loss_per_position", "loss_after", "loss_improvement", "loss_after_same_masks"]
    return tuple(names)


def _ordered(forward_arrays: Mapping[str, np.ndarray], rest: Mapping[str, np.ndarray],
             cell: Cell) -> dict[str, np.ndarray]:
    """One dict in the export order: inputs and forward arrays, the recorded gates, then their
    gradients, the parameters with their gradients and updates, the second forward pass."""
    a = {k: v for k, v in forward_arrays.items() if not k.startswith("param/")}
    for key in cell.gates + ("gx", "gh"):
        a[f"grad/{key}"] = rest[f"grad/{key}"]
    for key in (*cell.last_keys, "grad/embedded", "grad/logits"):
        a[key] = rest[key]
    for name in PARAM_NAMES:
        a[f"param/{name}"] = forward_arrays[f"param/{name}"]
        for kind in ("grad", "update", "updated"):
            a[f"{kind}/{name}"] = rest[f"{kind}/{name}"]
    for key in backward_names(cell)[-9:]:
        a[key] = rest[key]
    return a


def compute_trace(state: ModelState) -> Trace:
    """The whole iteration, now (the forward pass, back-propagation, the update, the second pass)."""
    forward_arrays, context = _forward_part(state)
    rest = _backward_part(context)
    arrays = _ordered(forward_arrays, rest, context["cell"])  # type: ignore[arg-type]
    return Trace(MappingProxyType(arrays), context["corpus"], state, _inputs(context))  # type: ignore[arg-type]


def _inputs(context: Mapping[str, object]) -> Inputs:
    return Inputs(context["corpus"], context["mask_in"], context["mask_out"])  # type: ignore[arg-type]


class PendingArrays(Mapping):
    """A trace's arrays while the part after the forward pass is computed on a worker thread.

    The forward arrays come from a pass without autograd's graph (fast, and no
    graph is held while the trace waits); the worker runs the forward pass
    again with the graph, then back-propagation, the update and the second
    pass, and adds what follows the forward pass. Reading an array of that part
    waits for it, or computes it on the reading thread if the worker has not
    started it (so reading never waits behind other traces' work);
    :meth:`cancel` drops a job that has not started (a later read computes it)."""

    def __init__(self, forward_arrays: dict[str, np.ndarray], executor, state: ModelState, cell: Cell,
                 inputs: Inputs):
        import threading

        self._ready: dict[str, np.ndarray] = dict(forward_arrays)
        self._names = tuple(_ordered(forward_arrays, dict.fromkeys(backward_names(cell)), cell))  # type: ignore
        self._known = frozenset(self._names)
        self._state = state
        self._inputs = inputs       # handed to the job: it reaches no shared cache
        self._lock = threading.Lock()
        self._future = executor.submit(self._run_job)
        self._done = False

    def _run_job(self) -> dict[str, np.ndarray]:
        return _rest_of(self._state, self._inputs)

    # --- Mapping
    def __getitem__(self, key: str) -> np.ndarray:
        found = self._ready.get(key)
        if found is not None:
            return found
        if key not in self._known:
            raise KeyError(key)
        self._finish()
        return self._ready[key]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, key: object) -> bool:
        return key in self._known

    # --- background
    @property
    def complete(self) -> bool:
        if not self._done and self._future.done() and not self._future.cancelled():
            self._finish()
        return self._done

    def is_ready(self, key: str) -> bool:
        return key in self._ready or (key in self._known and self.complete)

    def cancel(self) -> bool:
        """Drop the worker's job if it has not started (True)."""
        return self._future.cancel()

    def resume(self, executor) -> bool:
        """A new job on ``executor`` if the last one was dropped before it ran (True); else nothing."""
        with self._lock:
            if self._done or not self._future.cancelled():
                return False
            self._future = executor.submit(self._run_job)
            return True

    def wait(self) -> None:
        """Have every array: wait for the worker, or compute its part here if it has not started."""
        self._finish()

    def _finish(self) -> None:
        with self._lock:
            if self._done:
                return
            future = self._future
            if future.cancel() or future.cancelled():  # not started: run it here, not behind other work
                rest = _rest_of(self._state, self._inputs)
            else:
                rest = future.result()
            self._ready.update(rest)
            self._done = True


def start_trace(state: ModelState, executor) -> Trace:
    """:func:`compute_trace`, with the part after the forward pass handed to ``executor``
    (a ``concurrent.futures`` executor): the forward arrays can be shown at once."""
    forward_arrays, context = _forward_part(state, graph=False)
    cell, corpus, inputs = context["cell"], context["corpus"], _inputs(context)
    arrays = PendingArrays(forward_arrays, executor, state, cell, inputs)  # type: ignore[arg-type]
    return Trace(arrays, corpus, state, inputs)  # type: ignore[arg-type]


def accumulated_grads(trace: Trace, t_from: int,
                      start: "tuple[int, Mapping[str, np.ndarray]] | None" = None) -> dict[str, np.ndarray]:
    """Parameter gradients as back-propagation has summed them by the time it
    reaches timestep ``t_from`` (going from T-1 down). lm_head's gradient is
    complete before the recurrence starts.

    The sum is defined timestep by timestep from T-1 down (each adds its
    outer products), so ``start`` = (t, the sums at t) for some t >= t_from
    gives the very same numbers as starting from T: stepping back through
    backward one timestep at a time costs one timestep's products. At 0 they
    equal the full gradients up to float rounding (autograd sums in its own order)."""
    x_in, h, gx, gh = trace["x_in"], trace["h"], trace["grad/gx"], trace["grad/gh"]
    x, g_emb = trace["x"], trace["grad/embedded"]
    T = x.shape[1]
    if start is None or start[0] < t_from:
        t, sums = T, {
            "wte.weight": np.zeros_like(trace["grad/wte.weight"]),
            "x2g.weight": np.zeros((gx.shape[-1], x_in.shape[-1]), gx.dtype),
            "x2g.bias": np.zeros(gx.shape[-1], gx.dtype),
            "h2g.weight": np.zeros((gh.shape[-1], h.shape[-1]), gh.dtype),
            "h2g.bias": np.zeros(gh.shape[-1], gh.dtype),
        }
    else:
        t, sums = start[0], {k: np.array(v) for k, v in start[1].items() if k != "lm_head.weight"}
    for k in range(t - 1, t_from - 1, -1):
        np.add.at(sums["wte.weight"], x[:, k], g_emb[:, k])
        sums["x2g.weight"] += gx[:, k].T @ x_in[:, k]
        sums["x2g.bias"] += gx[:, k].sum(axis=0)
        if k > 0:  # h_{-1} = 0
            sums["h2g.weight"] += gh[:, k].T @ h[:, k - 1]
        sums["h2g.bias"] += gh[:, k].sum(axis=0)
    sums["lm_head.weight"] = np.array(trace["grad/lm_head.weight"])
    return sums
