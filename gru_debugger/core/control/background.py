"""The controller's background work: new traces, their jobs, the round-off check, freed memory.

A new trace has its forward pass now and the rest (back-propagation, the update,
the second pass) on one worker thread (``engine.start_trace``), handed to it from
the next :meth:`Background.poll` on (``held_jobs``: the window repaints before
the worker takes turns with it). Every job gets what it reads handed to it: the
state, and the trace's corpus and dropout masks (``engine.Inputs``), so that no
job reaches the tokenizer's cache, which the window's thread changes. The
round-off check (a float64 recomputation, with the precision check) is queued
behind it on the first move of the cursor; once a trace is complete, freed heap
pages go back to the system (``memory.release_free_memory``), on the worker.

:meth:`Background.poll` is what the window's clock calls (through the
controller): it lets held jobs go, and says once when the current trace is done.
"""
from __future__ import annotations

import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from ..text.data import Corpus
from ..model.edits import check_trace_size, trace_array_bytes
from ..model.engine import ModelState, Trace, compute_trace, start_trace
from .held_jobs import HeldJobs
from .memory import release_free_memory
from ..analysis.roundoff import prepare as prepare_roundoff
from .trace_cache import TraceCache

__all__ = ["Background", "worker"]

_WORKER: ThreadPoolExecutor | None = None  # one worker thread for every controller


def worker() -> ThreadPoolExecutor:
    """The worker that computes the part of an iteration after its forward pass (created on first use)."""
    global _WORKER
    if _WORKER is None:
        _WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gru-debugger-backward")
    return _WORKER


def _none() -> Trace | None:
    return None


class Background:
    """The jobs of one controller's traces, kept in ``traces`` (a :class:`TraceCache`)."""

    def __init__(self, traces: TraceCache):
        self.traces = traces
        self.jobs: HeldJobs | None = None       # back-propagation jobs, let go by poll()
        self._roundoff_jobs: list[Future] = []   # the queued round-off check
        self._roundoff_for: Callable[[], Trace | None] = _none  # weak: a dropped trace is freed
        self._announced: Callable[[], Trace | None] = _none     # weak: the last trace poll() announced

    # ------------------------------------------------------------ traces
    def check_size(self, state: ModelState, corpus: Corpus) -> None:
        """Refuse an iteration that would not fit the trace budget, before it is computed."""
        check_trace_size(state.config, corpus.vocab_size, len(corpus.tokens), self.traces.budget)

    def trace_for(self, state: ModelState, corpus: Callable[[], Corpus], current: Trace | None,
                  now: bool) -> Trace:
        """The trace of ``state``, from the cache or new (``current`` stays kept while it is made;
        ``corpus`` is asked for only then). New: computed at once if ``now``, else its forward
        pass now and the rest held for the worker.
        Jobs of other kept traces still queued are dropped (a trace whose job was dropped computes
        it when read, the same numbers, or gets it back when it becomes current again)."""
        kept = self.traces.get(state)
        self._drop_jobs(but=kept)
        if kept is not None:
            if self.jobs is not None:
                kept.resume(self.jobs)
            return kept
        self._cancel_roundoff()  # a queued check of the old iteration: not now
        tokens = corpus()
        size = trace_array_bytes(state.config, tokens.vocab_size, len(tokens.tokens))
        # room first, so the budget holds while the new one is computed
        self.traces.make_room(size, keep=current)
        if now:
            trace = compute_trace(state)
        else:
            if self.jobs is None:
                self.jobs = HeldJobs(worker())
            trace = start_trace(state, self.jobs)
        self.traces.add(state, trace, size)
        return trace

    def _drop_jobs(self, but: Trace | None) -> None:
        for older in self.traces.traces():
            if older is not but and not older.complete:
                older.arrays.cancel()  # type: ignore[attr-defined]

    # ------------------------------------------------------------ round-off
    def roundoff_prepared(self, trace: Trace) -> bool:
        """Whether the round-off check of ``trace`` was queued already."""
        return self._roundoff_for() is trace

    def prepare_roundoff(self, trace: Trace) -> None:
        """Queue the round-off and precision checks of ``trace`` on the worker, after its
        back-propagation (a queued check of an older trace that has not started is dropped). Only a
        weak reference is handed over: a trace the cache drops is freed, not held for its check."""
        self._cancel_roundoff()
        self._roundoff_for = weakref.ref(trace)
        self._roundoff_jobs = [worker().submit(prepare_roundoff, self._roundoff_for)]

    def _cancel_roundoff(self) -> None:
        for job in self._roundoff_jobs:
            job.cancel()

    # ------------------------------------------------------------ poll
    def poll(self, trace: Trace, announce: Callable[[], None]) -> bool:
        """Let the held jobs go (the job of ``trace``, the current one, handed over again if it was
        dropped); once ``trace`` is complete call ``announce`` (once per trace) and hand freed memory
        back. Returns whether ``trace`` is still being computed."""
        if self.jobs is not None:
            trace.resume(self.jobs)
            self.jobs.release()
        if not trace.complete:
            return True
        if self._announced() is not trace:
            self._announced = weakref.ref(trace)
            announce()
            # Traces dropped while this one was computed (a value edited again and again) leave
            # freed heap pages with the process: hand them back, on the worker.
            worker().submit(release_free_memory)
        return False
