"""Background jobs that wait to be let go: the window repaints before the worker starts.

After an edit the controller computes the forward pass at once and hands
back-propagation, the update and the second pass to a worker thread. Started
at once, that thread takes turns with the window's thread for Python's global
interpreter lock while the window repaints the edit, and the repaint waits.
A :class:`HeldJobs` front takes the jobs and keeps them until :meth:`release`
(the controller's :meth:`~gru_debugger.core.control.controller.Controller.poll`, which
the window calls on a timer once it has painted). A job not let go yet can be
cancelled; whoever reads its arrays first then computes them on the reading
thread (``engine.PendingArrays``), so nothing ever waits for a release.

A cancelled job is let go of at once: it holds its trace's arrays, and a script
that drives the controller without a window may never call ``poll``.
"""
from __future__ import annotations

import threading
import weakref
from concurrent.futures import Future
from functools import partial
from typing import Any, Callable


class HeldJobs:
    """``submit`` like a ``concurrent.futures`` executor; the jobs go to ``executor`` on :meth:`release`."""

    def __init__(self, executor):
        self._executor = executor
        self._held: list[tuple[Future, Callable[..., Any], tuple, dict]] = []
        self._lock = threading.Lock()   # a reader on the worker thread may cancel a job

    def submit(self, fn: Callable[..., Any], *args, **kwargs) -> Future:
        future: Future = Future()
        with self._lock:
            self._held.append((future, fn, args, kwargs))
        future.add_done_callback(partial(_forget, weakref.ref(self)))  # cancelled: hold nothing of it
        return future

    @property
    def held(self) -> int:
        """Jobs waiting to be let go."""
        return len(self._held)

    def release(self) -> int:
        """Hand every held job that was not cancelled to the executor; returns how many."""
        with self._lock:
            held, self._held = self._held, []
        released = 0
        for future, fn, args, kwargs in held:
            if not future.cancelled():
                self._executor.submit(_run, future, fn, args, kwargs)
                released += 1
        return released


def _forget(jobs: "weakref.ref[HeldJobs]", future: Future) -> None:
    """A job is done or cancelled: if it is still held, let go of it (and of what it holds)."""
    owner = jobs()
    if owner is not None:
        with owner._lock:
            owner._held = [job for job in owner._held if job[0] is not future]


def _run(future: Future, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    if not future.set_running_or_notify_cancel():  # cancelled meanwhile: a reader computes it
        return
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # handed to whoever waits on the future
        future.set_exception(exc)
