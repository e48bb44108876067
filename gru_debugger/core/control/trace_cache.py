"""The controller's computed traces, for instant undo and redo, bounded by the bytes of their arrays.

Least recently used traces go first; the newest always stays. The bound also holds while a new
trace is computed: :meth:`TraceCache.make_room` drops old traces *before* the computation, so
that it never runs next to a full cache (at the large sizes a trace is 170 MB: the budget of
400 MB then keeps two, and a third was held while the next one was computed, e.g. when a weight
is dragged).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

from ..model.engine import ModelState, Trace


class TraceCache:
    def __init__(self, budget: int):
        self.budget = budget
        self._entries: OrderedDict[int, tuple[ModelState, Trace, int]] = OrderedDict()  # by id(state)
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, state: ModelState) -> bool:
        return id(state) in self._entries

    def traces(self) -> Iterator[Trace]:
        return (trace for _, trace, _ in self._entries.values())

    def get(self, state: ModelState) -> Trace | None:
        """The trace of ``state`` if kept (it becomes the most recently used)."""
        entry = self._entries.get(id(state))
        if entry is None:
            return None
        self._entries.move_to_end(id(state))
        return entry[1]

    def make_room(self, size: int, keep: Trace | None) -> None:
        """Drop the oldest traces (not ``keep``, the one in use) until one of ``size`` bytes fits."""
        for key in [k for k, (_, trace, _) in self._entries.items() if trace is not keep]:
            if self.bytes + size <= self.budget:
                return
            self.bytes -= self._entries.pop(key)[2]

    def add(self, state: ModelState, trace: Trace, size: int) -> None:
        """Keep ``trace`` (the state too, so that its id stays unique), then drop the oldest ones
        over the budget; the newest always stays."""
        self._entries[id(state)] = (state, trace, size)
        self.bytes += size
        while self.bytes > self.budget and len(self._entries) > 1:
            _, (_, _, dropped) = self._entries.popitem(last=False)
            self.bytes -= dropped
