"""Background jobs that wait to be let go: the window repaints before the worker starts.

After an edit the controller computes the forward pass at once and hands
back-propagation, the update and the second pass to a worker thread. Started
at once, that thread takes turns with the window's thread for Python's global
interpreter lock while the window repaints the edit, and the repaint waits.
A :class:`HeldJobs` front takes the jobs and keeps them until :meth:`release`
(the controller's :meth:`~gru_debugger.core.controller.Controller.poll`, which
the window calls on a timer once it has painted). A job not let go yet can be
cancelled; whoever reads its arrays first then computes them on the reading
thread (``engine.PendingArrays``), so nothing ever waits for a release.
"""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Callable


class HeldJobs:
    """``submit`` like a ``concurrent.futures`` executor; the jobs go to ``executor`` on :meth:`release`."""

    def __init__(self, executor):
        self._executor = executor
        self._held: list[tuple[Future, Callable[..., Any], tuple, dict]] = []

    def submit(self, fn: Callable[..., Any], *args, **kwargs) -> Future:
        future: Future = Future()
        self._held.append((future, fn, args, kwargs))
        return future

    @property
    def held(self) -> int:
        """Jobs waiting to be let go (cancelled ones included until the next release)."""
        return len(self._held)

    def release(self) -> int:
        """Hand every held job that was not cancelled to the executor; returns how many."""
        held, self._held = self._held, []
        released = 0
        for future, fn, args, kwargs in held:
            if not future.cancelled():
                self._executor.submit(_run, future, fn, args, kwargs)
                released += 1
        return released


def _run(future: Future, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    if not future.set_running_or_notify_cancel():  # cancelled meanwhile: a reader computes it
        return
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # handed to whoever waits on the future
        future.set_exception(exc)
