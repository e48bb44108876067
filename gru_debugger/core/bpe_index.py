"""A token sequence with an index of where each adjacent pair occurs.

Merging a pair then costs time proportional to its occurrences, not to the
text: the sequence is a doubly linked list over character positions (a
token lives at the position of its first character) and ``occ`` maps a pair
key to the set of positions where that pair starts. Both the trainer and
the encoder drive it.
"""
from __future__ import annotations

from typing import Container, Sequence

import numpy as np

SHIFT = 32  # pair key = (left id << SHIFT) | right id


def pair_key(left: int, right: int) -> int:
    return (left << SHIFT) | right


class PairIndex:
    """Token ids per position, links, and pair occurrences.

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
        self.wanted = wanted
        cut = np.zeros(n, dtype=bool)  # cut[i]: no pair between i and i + 1
        pos = 0
        for length in lengths:
            if length:
                self.starts.append(pos)
                self.prv[pos] = -1
                self.nxt[pos + length - 1] = -1
                cut[pos + length - 1] = True
            pos += length
        self.occ: dict[int, set[int]] = self._initial_occurrences(np.asarray(ids, dtype=np.int64), cut)

    def _initial_occurrences(self, ids: np.ndarray, cut: np.ndarray) -> dict[int, set[int]]:
        """Group positions by pair with one sort instead of a loop over the text."""
        if len(ids) < 2:
            return {}
        keys = (ids[:-1] << SHIFT) | ids[1:]
        where = np.flatnonzero(~cut[:-1])
        keys = keys[where]
        if not len(keys):
            return {}
        order = np.argsort(keys, kind="stable")
        keys, where = keys[order], where[order]
        bounds = np.flatnonzero(np.diff(keys)) + 1
        starts = np.concatenate(([0], bounds)).tolist()
        ends = np.concatenate((bounds, [len(keys)])).tolist()
        occ: dict[int, set[int]] = {}
        wanted = self.wanted
        for s, e in zip(starts, ends):
            key = int(keys[s])
            if wanted is None or key in wanted:
                occ[key] = set(where[s:e].tolist())
        return occ

    def merge(self, key: int, new: int, touched: set[int]) -> int:
        """Replace the pair ``key`` by token ``new`` at every non-overlapping
        occurrence, left to right; add the keys whose occurrences changed
        (indexed ones) to ``touched``. Returns the number of replacements."""
        positions = self.occ.pop(key, None)
        if not positions:
            return 0
        left_id, right_id = key >> SHIFT, key & ((1 << SHIFT) - 1)
        tok, nxt, prv, occ, wanted = self.tok, self.nxt, self.prv, self.occ, self.wanted
        done = 0
        for i in sorted(positions):
            if tok[i] != left_id:  # eaten by the occurrence just before it ("aaa")
                continue
            j = nxt[i]
            r = nxt[j]
            left = prv[i]
            if left != -1:
                k = (tok[left] << SHIFT) | left_id
                s = occ.get(k)
                if s is not None:
                    s.discard(left)
                    touched.add(k)
                k = (tok[left] << SHIFT) | new
                if wanted is None or k in wanted:
                    s = occ.get(k)
                    if s is None:
                        occ[k] = {left}
                    else:
                        s.add(left)
                    touched.add(k)
            if r != -1:
                k = (right_id << SHIFT) | tok[r]
                s = occ.get(k)
                if s is not None:
                    s.discard(j)
                    touched.add(k)
                k = (new << SHIFT) | tok[r]
                if wanted is None or k in wanted:
                    s = occ.get(k)
                    if s is None:
                        occ[k] = {i}
                    else:
                        s.add(i)
                    touched.add(k)
                prv[r] = i
            tok[i] = new
            tok[j] = -1
            nxt[i] = r
            done += 1
        touched.discard(key)
        return done

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
