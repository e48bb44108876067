"""The controller: a cursor through one training iteration, edits and undo.

The only way the window, the screenshot generator, the benchmark and scripts
change anything. No Qt here: listeners connect to psygnal signals.

Model of time:
- navigation (step, step into, step out, run to, continue, step back) only
  moves the cursor through the already-recorded trace, so it is instant and
  step back is exact;
- edits, next iteration and reset change the model; each is an undoable
  command holding the complete state from before and after.

Memory is bounded (see README, "Memory"): the cache of computed traces by the
bytes of their arrays (``trace_budget``; the current trace is always kept)
and the undo history by the bytes of the parameter tensors its states keep
(``history_budget``; the oldest steps go first, ``history_dropped`` counts
them and ``history_note`` says so). A training run is one undo step
(:meth:`Controller.grouped`).

The controller keeps navigation and edits and composes the other jobs: the
history (core/control/history.py: commands, groups, the byte budget) and the
background work (core/control/background.py: new traces and their worker jobs, the
round-off check, freed memory, what :meth:`Controller.poll` does).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
from psygnal import Signal

from ..model.cells import get_cell
from ..base.config import MAX_TRACE_BYTES, PARAM_NAMES, Config, ConfigError, validate
from .background import Background, worker as _background  # the worker, by its earlier name (tests wait on its queue)
from ..model.edits import (fresh_state, next_iteration_state, with_config, with_init, with_inits, with_param_cell,
                    with_reinit, with_seed)
from ..text.data import tokenize
from .held_jobs import HeldJobs
from ..model.engine import ModelState, Trace
from .history import Command, Group, History
from ..model.phases import PHASES, Step, build_steps, find_step, is_coarse, map_step, step_target
from ..analysis.snapshot import Snapshot
from .trace_cache import TraceCache
from ..base.validation import (ControllerError, check_bool, check_choice, check_float32, check_index, check_int,
                         check_merge_key, check_names, check_str, check_texts, show)
from ..base.init_schemes import check_spec, check_specs

__all__ = ["Command", "Controller", "ControllerError", "HISTORY_BUDGET", "TRACE_BUDGET"]

# Default memory budgets (bytes); a Controller can be given others.
TRACE_BUDGET = MAX_TRACE_BYTES        # computed traces kept for instant undo/redo (the current one always)
HISTORY_BUDGET = 300 * 1024**2        # parameter tensors kept by the undo/redo history

# What a pure state transition or a recomputation may raise on odd input; all
# of it is turned into a ControllerError before anything changes.
_REFUSED = (ConfigError, TypeError, ValueError, OverflowError, AttributeError, KeyError, IndexError,
            RuntimeError, RecursionError)
REASONS = frozenset({"cursor", "model", "computed"})


def _fresh(cfg: Config) -> ModelState:
    """A validated config's iteration 0; anything refused is a ControllerError."""
    try:
        validate(cfg)
        return fresh_state(cfg)
    except ControllerError:
        raise
    except _REFUSED as exc:
        raise ControllerError(str(exc)) from None


def _use_one_thread() -> None:
    """The model's operations are small: torch's thread pool costs more in
    waking and synchronising its threads than it gains, several times more
    on a loaded machine (a notebook-sized iteration: 7 ms on one thread,
    12-40 ms on two). ``GRU_DEBUGGER_THREADS`` overrides."""
    import torch

    wanted = os.environ.get("GRU_DEBUGGER_THREADS", "1")
    threads = int(wanted) if wanted.isdigit() and int(wanted) > 0 else 1
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class Controller:
    changed = Signal(object)        # Snapshot, with .reasons
    history_changed = Signal()      # the undo/redo stack changed
    breakpoints_changed = Signal(object)  # frozenset of phase names

    def __init__(self, config: Config | None = None, *, trace_budget: int = TRACE_BUDGET,
                 history_budget: int = HISTORY_BUDGET):
        if config is not None and not isinstance(config, Config):
            raise ControllerError(f"config must be a Config, got {show(config)}")
        trace_budget = check_int(trace_budget, "trace_budget", 1)
        history_budget = check_int(history_budget, "history_budget", 0)
        cfg = config if config is not None else Config()
        _use_one_thread()
        self._setup(_fresh(cfg), trace_budget, history_budget)

    def _setup(self, state: ModelState, trace_budget: int, history_budget: int) -> None:
        self.trace_budget = trace_budget
        self._traces = TraceCache(trace_budget)
        self._work = Background(self._traces)
        self._history = History(history_budget)
        self._quiet = 0                     # > 0 inside batched(): hold notifications
        self._state = state
        self._trace: Trace | None = None
        self._trace = self._prepare(state, now=True)  # a new session starts complete: no look-ahead changes later
        self._cursor = -1
        self._nav: list[int] = []           # cursors to return to with step back
        self._breakpoints: frozenset[str] = frozenset()
        self._pending: set[str] = set()
        self._pending_history = False

    # ------------------------------------------------------------ sessions
    def save(self, path: Any) -> None:
        """Write this session (config with its texts, current weights, iteration,
        batch position, base seed, cursor step and breakpoints) to one file,
        atomically. See core/storage/session.py for the format."""
        from ..storage.session import write_session
        write_session(path, self)

    @classmethod
    def load(cls, path: Any, *, trace_budget: int = TRACE_BUDGET, history_budget: int = HISTORY_BUDGET
             ) -> "Controller":
        """A new controller from a session file; anything wrong with the file is a
        ControllerError naming it (an open controller is never touched)."""
        from ..storage.session import read_session
        trace_budget = check_int(trace_budget, "trace_budget", 1)
        history_budget = check_int(history_budget, "history_budget", 0)
        loaded = read_session(path)
        ctl = cls.__new__(cls)
        try:
            ctl._setup(loaded.state, trace_budget, history_budget)
        except ControllerError as exc:
            raise ControllerError(f"session {path}: {exc}") from None
        ctl._cursor = loaded.cursor_index
        ctl._breakpoints = frozenset(loaded.breakpoints)
        return ctl

    # ------------------------------------------------------------ memory
    @property
    def trace_cache_bytes(self) -> int:
        """Bytes of the arrays of the traces kept in the cache (the current one among them)."""
        return self._traces.bytes

    @property
    def history_bytes(self) -> int:
        """Bytes of the parameter tensors the undo/redo history keeps (each tensor once)."""
        return self._history.bytes

    @property
    def history_budget(self) -> int:
        """Bytes the undo/redo history may keep (the oldest steps go first)."""
        return self._history.budget

    @property
    def history_dropped(self) -> int:
        """Oldest undo steps dropped to stay within ``history_budget``."""
        return self._history.dropped

    @property
    def history_note(self) -> str | None:
        """A line for the History panel when old steps were dropped, else None."""
        return self._history.note

    # ------------------------------------------------------------ reading
    @property
    def state(self) -> ModelState:
        return self._state

    @property
    def config(self) -> Config:
        return self._state.config

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def steps(self) -> tuple[Step, ...]:
        return build_steps(self.config.context_length, self.config.cell)

    def snapshot(self, reasons: Iterable[str] = ()) -> Snapshot:
        if isinstance(reasons, str) or not isinstance(reasons, Iterable):
            raise ControllerError(f"reasons must be a set of 'cursor' and 'model', got {show(reasons)}")
        reasons = list(reasons)
        for reason in reasons:
            check_choice(reason, "reason", sorted(REASONS))
        return Snapshot(self._state, self._trace, self._cursor, frozenset(reasons))

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Hold notifications and send one at the end (a training run uses
        this so views redraw once per batch of iterations, not each one)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1
            if not self._quiet:
                reasons, self._pending = self._pending, set()
                history, self._pending_history = self._pending_history, False
                self._notify(reasons, history)

    def _emit(self, *reasons: str, history: bool = False) -> None:
        """Tell listeners; called only after a change is completely recorded."""
        if self._quiet:
            self._pending.update(reasons)
            self._pending_history = self._pending_history or history
        else:
            self._notify(set(reasons), history)

    def _notify(self, reasons: set[str], history: bool) -> None:
        """Send both signals even if a listener of the first one raises; then
        re-raise the first error. The change itself is already complete."""
        error: BaseException | None = None
        if reasons:
            try:
                self.changed.emit(self.snapshot(reasons))
            except Exception as exc:
                error = exc
        if history:
            try:
                self.history_changed.emit()
            except Exception as exc:
                error = error or exc
        if error is not None:
            raise error

    # ------------------------------------------------------------ navigation
    @property
    def last(self) -> int:
        return len(self.steps) - 1

    def can_step(self) -> bool:
        return self._cursor < self.last

    def can_step_back(self) -> bool:
        return bool(self._nav) or self._cursor > -1 or self._undoable_iteration() is not None

    def step(self) -> None:
        """One timestep inside the cell and backward phases, one phase elsewhere."""
        self._require_forward()
        self._move(step_target(self.steps, self._cursor))

    def step_into(self) -> None:
        """Like step, but stops at each gate sub-step of a cell timestep."""
        self._require_forward()
        self._move(self._cursor + 1)

    def step_out(self) -> None:
        """Finish the phase that runs next (or is running)."""
        self._require_forward()
        phase = self.steps[self._cursor + 1].phase
        self._move(max(i for i, s in enumerate(self.steps) if s.phase == phase))

    def run_to(self, phase: str, t: int | None = None) -> None:
        """Move to where ``phase`` (or its timestep ``t``) has just run; may go back."""
        check_choice(phase, "phase", PHASES)
        if t is not None:
            check_int(t, "t", 0, self.config.context_length - 1)
            t = int(t)
        try:
            target = find_step(self.steps, phase, t)
        except ValueError as exc:
            raise ControllerError(str(exc)) from None
        if target != self._cursor:
            self._move(target)

    def run_to_start(self) -> None:
        if self._cursor != -1:
            self._move(-1)

    def run_to_end(self) -> None:
        self._require_forward()
        self._move(self.last)

    def continue_(self) -> None:
        """Run to the next phase with a breakpoint, or to the end of the iteration."""
        self._require_forward()
        targets = [find_step(self.steps, p) for p in self._breakpoints]
        ahead = [i for i in targets if i > self._cursor]
        self._move(min(ahead) if ahead else self.last)

    def step_back(self) -> None:
        """Return exactly to where the cursor was before the last move."""
        if self._nav:
            target = self._nav.pop()
            self._set_cursor(target)
        elif self._cursor > -1:
            i = self._cursor - 1
            while i >= 0 and not is_coarse(self.steps[i]):
                i -= 1
            self._set_cursor(i)
        elif self._undoable_iteration() is not None:
            if self._history.undo[-1].kind == "group":
                self._history.split_group()
            self.undo()  # back over "next iteration" into the previous one
        else:
            raise ControllerError(self._why_not_back())

    def _why_not_back(self) -> str:
        """Why step back cannot go on from the start of this iteration, as it is."""
        it = self._state.iteration
        if it == 0:
            return "already at the start of the first iteration"
        where = f"at the start of iteration {it}"
        if self._history.group is not None:
            return f"{where}: step back cannot leave it while a group of changes is being recorded"
        top = self._history.top
        if top is not None:
            return (f"{where}: step back goes into iteration {it - 1} only from the state Next Iteration made, "
                    f"and this one was changed since ({top.text}); undo that change first")
        if self.history_dropped:
            return f"{where}: iteration {it - 1} was dropped from the undo history to save memory"
        return f"{where}: this session began here, so iteration {it - 1} is not in its undo history"

    def _require_forward(self) -> None:
        if not self.can_step():
            raise ControllerError("the iteration has finished: use next iteration, step back or reset")

    def _move(self, target: int) -> None:
        self._nav.append(self._cursor)
        self._set_cursor(target)

    def _set_cursor(self, target: int) -> None:
        self._cursor = target
        if not self._quiet and not self._work.roundoff_prepared(self._trace):  # first move here
            self._work.prepare_roundoff(self._trace)
        self._emit("cursor")

    def _undoable_iteration(self) -> Command | None:
        """The step back over "next iteration" (also out of a training run, into its last iteration)."""
        top = self._history.top
        if top is None or self._cursor != -1 or self._nav or self._history.group is not None:
            return None
        if top.kind == "iteration" or (top.kind == "group" and top.last is not None and top.last.after is top.after):
            return top
        return None

    # ------------------------------------------------------------ breakpoints
    @property
    def breakpoints(self) -> frozenset[str]:
        return self._breakpoints

    def toggle_breakpoint(self, phase: str) -> bool:
        check_choice(phase, "phase", PHASES)
        self._breakpoints = self._breakpoints ^ {phase}
        self.breakpoints_changed.emit(self._breakpoints)
        return phase in self._breakpoints

    # ------------------------------------------------------------ model changes
    def next_iteration(self) -> None:
        """The next batch through the weights this iteration's update produced."""
        try:
            after = next_iteration_state(self._state, self._trace)
        except _REFUSED as exc:
            raise ControllerError(str(exc)) from None
        self._commit(Command("Next iteration", self._state, after, kind="iteration", cursor_before=self._cursor,
                             nav_before=list(self._nav)))

    def reset(self) -> None:
        """Back to iteration 0 with freshly initialised weights (undoable)."""
        try:
            after = fresh_state(self.config, self._state.base_seed)
        except _REFUSED as exc:
            raise ControllerError(str(exc)) from None
        self._commit(Command("Reset", self._state, after, kind="reset", cursor_before=self._cursor,
                             nav_before=list(self._nav)))

    def set_param(self, name: str, index: Sequence[int], value: float, merge_key: Any = None) -> None:
        """Set one weight of the iteration's starting parameters."""
        check_choice(name, "parameter", PARAM_NAMES)
        index = check_index(index, name, tuple(self._state.params[name].shape))
        value = check_float32(value, f"{name}[{', '.join(map(str, index))}]")
        merge_key = check_merge_key(merge_key)
        self._edit(f"Set {name}[{', '.join(map(str, index))}] = {value:.6g}",
                   lambda s: with_param_cell(s, name, index, value), merge_key)

    def set_init(self, name: str, spec: Mapping[str, Any]) -> None:
        check_choice(name, "parameter", PARAM_NAMES)
        spec = check_spec(name, spec)
        self._edit(f"Initialise {name}: {spec['scheme']}", lambda s: with_init(s, name, spec))

    def set_inits(self, specs: Mapping[str, Mapping[str, Any]], text: str = "Initialise parameters") -> None:
        """Several schemes in one undo step (e.g. back to the notebook's)."""
        specs = check_specs(specs, PARAM_NAMES)
        text = check_str(text, "text")
        self._edit(text, lambda s: with_inits(s, specs))

    def reinitialise(self, names: Iterable[str] | None = None) -> None:
        chosen = list(PARAM_NAMES) if names is None else check_names(names, "parameters", PARAM_NAMES)
        label = "all parameters" if names is None else ", ".join(chosen)
        self._edit(f"Re-initialise {label}", lambda s: with_reinit(s, chosen))

    def set_seed(self, seed: int | None) -> None:
        if seed is not None:
            seed = check_int(seed, "seed", 0, 2**63 - 1)
        self._edit(f"Seed = {seed}", lambda s: with_seed(s, seed))

    def set_learning_rate(self, lr: float, merge_key: Any = None) -> None:
        lr = check_float32(lr, "learning rate")
        self.configure(f"Learning rate = {lr:.6g}", merge_key, learning_rate=lr)

    def set_dropout(self, p: float, merge_key: Any = None) -> None:
        p = check_float32(p, "dropout p")
        self.configure(f"Dropout p = {p:.6g}", merge_key, dropout=p)

    def set_train_mode(self, train: bool) -> None:
        train = check_bool(train, "train mode")
        self.configure("Train mode" if train else "Eval mode (no dropout)", train_mode=train)

    def set_corpus(self, texts: Sequence[str]) -> None:
        self.configure("Corpus", corpus=check_texts(texts))

    def set_tokenizer(self, num_merges: int, lowercase: bool) -> None:
        num_merges = check_int(num_merges, "num_merges", 0)
        lowercase = check_bool(lowercase, "lowercase")
        self.configure(f"Tokenizer: {num_merges} merges", num_merges=num_merges, lowercase=lowercase)

    def set_batch(self, batch_size: int, context_length: int, position: int | None = None) -> None:
        changes: dict[str, Any] = {"batch_size": check_int(batch_size, "batch size B", 1),
                                   "context_length": check_int(context_length, "context length T", 1)}
        if position is not None:
            changes["position"] = check_int(position, "position", 0)
        self.configure(f"Batch B={changes['batch_size']} T={changes['context_length']}", **changes)

    def set_position(self, position: int) -> None:
        position = check_int(position, "position", 0)
        self.configure(f"Position = {position}", position=position)

    def set_cell(self, cell: str) -> None:
        """Switch the recurrent cell (GRU, LSTM, RNN); x2g and h2g are drawn anew
        with their schemes (their shapes change), the other weights stay."""
        from ..model.cells import CELLS
        cell = check_str(cell, "cell")
        if cell not in CELLS:
            raise ControllerError(f"unknown cell {show(cell)}; cells are: {', '.join(CELLS)}")
        self.configure(f"Cell = {get_cell(cell).title}", cell=cell)

    def set_sizes(self, n_embd: int, hidden_size: int) -> None:
        n_embd, hidden_size = check_int(n_embd, "E", 1), check_int(hidden_size, "H", 1)
        self.configure(f"Sizes E={n_embd} H={hidden_size}", n_embd=n_embd, hidden_size=hidden_size)

    def import_weights(self, path: str | os.PathLike[str]) -> None:
        """Replace the six parameters with those of a weights file (``.safetensors``, or ``.pt`` / ``.pth`` /
        ``.bin`` read with weights_only), in this program's names or a plain PyTorch model's (see
        core/storage/weights_io); one undo step. Exporting: :meth:`export_weights`."""
        from ..storage.weights_io import import_weights, read_weights

        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ControllerError(f"path must name a weights file, got {show(path)}")
        try:
            tensors = read_weights(path)
        except _REFUSED as exc:
            raise ControllerError(str(exc)) from None
        self._edit(f"Import weights from {os.path.basename(path)}",
                   lambda s: import_weights(s, tensors, source=str(path)))

    def export_weights(self, path: str | os.PathLike[str], layout: str = "project") -> str:
        """Write the iteration's starting parameters to a ``.safetensors`` file, atomically; an existing
        file is replaced. ``layout``: "project" (this program's names) or "torch" (a plain model's)."""
        from ..storage.weights_io import LAYOUTS, export_weights

        if not isinstance(path, (str, os.PathLike)) or not str(path):
            raise ControllerError(f"path must name a .safetensors file, got {show(path)}")
        check_choice(layout, "layout", LAYOUTS)
        try:
            return str(export_weights(self._state, path, layout))
        except _REFUSED as exc:
            raise ControllerError(str(exc)) from None

    def configure(self, text: str = "Settings", merge_key: Any = None, **changes: Any) -> None:
        """Change any settings at once (see Config); one undo step."""
        text = check_str(text, "text")
        merge_key = check_merge_key(merge_key)
        if not changes:
            raise ControllerError("no settings given")
        if "corpus" in changes:
            changes["corpus"] = check_texts(changes["corpus"])
        self._edit(text, lambda s: with_config(s, **changes), merge_key)

    def use_config(self, config: Config, text: str = "Open config") -> None:
        """Switch to ``config`` as if the program had started with it: every setting, weights drawn
        from its schemes and seed, iteration 0 at its position. One undo step; the cursor keeps its step."""
        if not isinstance(config, Config):
            raise ControllerError(f"config must be a Config, got {show(config)}")
        text = check_str(text, "text")
        self._commit(Command(text, self._state, _fresh(config)))

    def _edit(self, text: str, make: Callable[[ModelState], ModelState], merge_key: Any = None) -> None:
        try:
            after = make(self._state)
        except ControllerError:
            raise
        except _REFUSED as exc:
            raise ControllerError(str(exc)) from None
        self._commit(Command(text, self._state, after, merge_key))

    # ------------------------------------------------------------ undo
    def can_undo(self) -> bool:
        return bool(self._history.undo)

    def can_redo(self) -> bool:
        return bool(self._history.redo)

    @property
    def undo_texts(self) -> list[str]:
        return [c.text for c in self._history.undo]

    @property
    def redo_texts(self) -> list[str]:
        return [c.text for c in reversed(self._history.redo)]

    def grouped(self, text: str, merge_key: Any = None) -> Group:
        """``with controller.grouped("Training run ({n} iterations)"):`` makes every
        change inside one undo step (``{n}`` becomes the number of changes); undo
        restores the state before the block, redo the state after it. With a
        ``merge_key`` equal to the previous group's, the two become one step."""
        text = check_str(text, "text")
        merge_key = check_merge_key(merge_key)
        return Group(text, merge_key, self._open_group, self._close_group)

    def _open_group(self, group: Group) -> None:
        self._history.open(group, self._state, self._cursor, self._nav)

    def _close_group(self, group: Group) -> None:
        if self._history.close(group, self._state):
            self._emit(history=True)

    def undo(self) -> None:
        cmd = self._history.to_undo()
        trace = self._prepare(cmd.before)
        self._install(cmd.before, trace, cmd.cursor_before if cmd.moves else None,
                      list(cmd.nav_before) if cmd.moves else None)
        self._history.undone()
        self._emit("model", "cursor", history=True)

    def redo(self) -> None:
        cmd = self._history.to_redo()
        trace = self._prepare(cmd.after)
        self._install(cmd.after, trace, -1 if cmd.moves else None, [] if cmd.moves else None)
        self._history.redone()
        self._emit("model", "cursor", history=True)

    def _commit(self, cmd: Command) -> None:
        """Record a change completely (state, cursor, undo and redo stacks), then
        tell listeners: a listener that raises cannot leave it half done."""
        trace = self._prepare(cmd.after)
        self._check_finite_update(cmd, trace)
        self._install(cmd.after, trace, -1 if cmd.moves else None, [] if cmd.moves else None)
        history = self._history.record(cmd)
        self._emit("model", "cursor", history=history)

    # ------------------------------------------------------------ traces and background work
    def _prepare(self, state: ModelState, now: bool = False) -> Trace:
        """Compute (or fetch) the trace of ``state``; on failure nothing has changed.
        An iteration that would not fit the trace budget is refused before it is computed."""
        try:
            if state not in self._traces:
                self._work.check_size(state, tokenize(state.config))
            return self._trace_for(state, now)
        except _REFUSED as exc:
            raise ControllerError(str(exc)) from None

    @staticmethod
    def _check_finite_update(cmd: Command, trace: Trace) -> None:
        """A new learning rate whose step overflows float32 is refused (not turned into Inf)."""
        if cmd.before.config.learning_rate == cmd.after.config.learning_rate:
            return
        for name in PARAM_NAMES:
            grad, step = trace.arrays.get(f"grad/{name}"), trace.arrays.get(f"update/{name}")
            if grad is not None and step is not None and np.isfinite(grad).all() and not np.isfinite(step).all():
                raise ControllerError(f"learning rate {cmd.after.config.learning_rate:g} times the gradient of "
                                      f"{name} overflows float32: choose a smaller learning rate")

    def _install(self, state: ModelState, trace: Trace, cursor: int | None, nav: list[int] | None) -> None:
        """Make ``state`` current (no notification). The cursor keeps its step
        (mapped if T changed) unless one is given."""
        old_steps, new_steps = self.steps, build_steps(state.config.context_length, state.config.cell)
        if cursor is None:
            cursor = self._map(self._cursor, old_steps, new_steps)
            nav = [self._map(c, old_steps, new_steps) for c in self._nav]
        self._state, self._trace, self._cursor, self._nav = state, trace, cursor, nav or []

    @staticmethod
    def _map(cursor: int, old: tuple[Step, ...], new: tuple[Step, ...]) -> int:
        return cursor if cursor < 0 or old is new else map_step(old[cursor], new)

    def _trace_for(self, state: ModelState, now: bool = False) -> Trace:
        """The trace of ``state``, from the cache or new (see :meth:`Background.trace_for`): its
        forward pass now, the rest on the worker from the next :meth:`poll` on. ``now`` and inside
        :meth:`batched` (training runs: the next step reads the update) everything is computed at once."""
        current = self._trace if len(self._traces) else None  # a new session has none yet
        return self._work.trace_for(state, lambda: tokenize(state.config), current, now or bool(self._quiet))

    @property
    def _jobs(self) -> HeldJobs | None:
        """The back-propagation jobs held until :meth:`poll` lets them go."""
        return self._work.jobs

    @property
    def computing(self) -> bool:
        """The current iteration's back-propagation and second pass are still being computed
        (on a worker thread; reading one of their arrays waits for it)."""
        return not self._trace.complete

    def poll(self) -> bool:
        """Call from time to time while :attr:`computing` (the window does, on a timer): once the
        background part is done, listeners hear a change (reason ``"computed"``: the look-ahead
        answers, e.g. the first NaN of the iteration, may now differ). Returns whether it is still
        computing. The first call after an edit lets the worker start on it (until then it waits)."""
        return self._work.poll(self._trace, lambda: self._emit("computed"))
