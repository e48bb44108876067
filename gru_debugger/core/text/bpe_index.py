"""A token sequence with an index of where each adjacent pair occurs.

Merging a pair then costs time proportional to its occurrences, not to the
text. The sequence is a doubly linked list over character positions (a
token lives at the position of its first character, a token swallowed by
the one before it gets id -1). ``occ`` maps a pair key to the positions
where that pair was formed; entries go stale when a neighbour merges and
are checked with :meth:`PairIndex.holds` rather than removed, which is
cheaper in Python than keeping exact sets. A pair forms at a position at
most once (tokens there only grow), so a list never repeats a position.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Container, Iterator, Sequence

import numpy as np

SHIFT = 32  # pair key = (left id << SHIFT) | right id
MASK = (1 << SHIFT) - 1


def pair_key(left: int, right: int) -> int:
    return (left << SHIFT) | right


@contextmanager
def gc_paused() -> Iterator[None]:
    """The index makes many small lists; cyclic collection passes over them
    cost about a tenth of the run and can never free anything here."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class PairIndex:
    """Token ids per position, links, pair occurrences and their counts.

    ``segments`` are the lengths of runs that never pair across their border
    (one per text when encoding a stream). With ``wanted`` only those pair
    keys are indexed (the encoder needs no others).
    """

    def __init__(self, ids: Sequence[int], segments: Sequence[int] | None = None,
                 wanted: Container[int] | None = None) -> None:
        n = len(ids)
        lengths = list(segments) if segments is not None else [n]
        if sum(lengths) != n:
            raise ValueError("segment lengths must add up to the sequence length")
        self.tok: list[int] = list(ids)
        self.nxt: list[int] = list(range(1, n + 1))
        self.prv: list[int] = list(range(-1, n - 1))
        self.starts: list[int] = []
        cut = np.zeros(n, dtype=bool)  # cut[i]: no pair between i and i + 1
        pos = 0
        for length in lengths:
            if length:
                self.starts.append(pos)
                self.prv[pos] = -1
                self.nxt[pos + length - 1] = -1
                cut[pos + length - 1] = True
            pos += length
        self.occ: dict[int, list[int]] = {}
        self.counts: dict[int, int] = {}
        self._index(np.asarray(ids, dtype=np.int64), cut, wanted)

    def _index(self, ids: np.ndarray, cut: np.ndarray, wanted: Container[int] | None) -> None:
        """Group positions by pair with one sort instead of a loop over the text."""
        if len(ids) < 2:
            return
        where = np.flatnonzero(~cut[:-1])
        keys = ((ids[:-1] << SHIFT) | ids[1:])[where]
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        keys, where = keys[order], where[order]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        starts = [0, *bounds.tolist()]
        ends = [*bounds.tolist(), len(keys)]
        for s, e, key in zip(starts, ends, keys[starts].tolist()):
            if wanted is None or key in wanted:
                self.occ[key] = where[s:e].tolist()
                self.counts[key] = e - s

    def holds(self, key: int, i: int) -> bool:
        """Whether the pair ``key`` still starts at position ``i``."""
        tok = self.tok
        if tok[i] != key >> SHIFT:
            return False
        j = self.nxt[i]
        return j != -1 and tok[j] == key & MASK

    def first_position(self, key: int) -> int:
        """Earliest position where ``key`` occurs now (``len(tok)`` if nowhere).

        Sorts the list (cheap in C, it is nearly sorted) and drops the stale
        entries in front, so repeated ties do not rescan them.
        """
        positions = self.occ.get(key)
        if not positions:
            return len(self.tok)
        positions.sort()
        for n, i in enumerate(positions):
            if self.holds(key, i):
                del positions[:n]
                return i
        positions.clear()
        return len(self.tok)

    def tokens(self) -> list[list[int]]:
        """The token ids of each non-empty segment, in order."""
        out: list[list[int]] = []
        tok, nxt = self.tok, self.nxt
        for i in self.starts:
            seg: list[int] = []
            while i != -1:
                seg.append(tok[i])
                i = nxt[i]
            out.append(seg)
        return out
