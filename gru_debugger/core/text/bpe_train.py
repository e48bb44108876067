"""Fast byte-pair training: same merges as ``bpe_reference.reference_train``.

Instead of recounting all bigrams each round, exact pair counts live beside
a ``PairIndex`` and a lazy max-heap holds (-count, key) entries. A merge
pushes a fresh entry for each pair it formed; a pair whose count fell keeps
its old, too-high entry until that is popped and pushed again with the
true count, so every live pair always has an entry at least its count and
the top valid entry is the most frequent pair. Among pairs with that count
the one whose first occurrence comes first wins, as ``Counter.most_common``
does for the reference.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Callable, Optional

from .bpe_index import MASK, SHIFT, PairIndex, gc_paused

Pair = tuple[str, str]
Progress = Optional[Callable[[int, int], None]]


@dataclass
class Training:
    """The merges, and the final sequence for reuse by the encoder."""

    merges: list[Pair]
    tokens: list[str]  # the text after all merges
    # True unless a pair formed again after it was merged (possible in theory when
    # one string is built two ways); then encoding the training text gives `tokens`.
    no_merged_pair_came_back: bool


def _pop_best(heap: list[tuple[int, int]], index: PairIndex) -> int | None:
    """The key with the highest count, ties to the earliest first occurrence."""
    counts = index.counts
    while heap:
        negc, key = heap[0]
        count = counts.get(key, 0)
        if count and count == -negc:
            break
        heapq.heappop(heap)
        if 0 < count < -negc:
            heapq.heappush(heap, (-count, key))
    else:
        return None
    tied: list[int] = []
    while heap and heap[0][0] == negc:
        _, key = heapq.heappop(heap)
        count = counts.get(key, 0)
        if count and count == -negc:
            if key not in tied:
                tied.append(key)
        elif count:
            heapq.heappush(heap, (-count, key))
    best = min(tied, key=index.first_position) if len(tied) > 1 else tied[0]
    for key in tied:
        if key != best:
            heapq.heappush(heap, (negc, key))
    return best


def _merge(index: PairIndex, key: int, new: int, formed: set[int]) -> None:
    """Replace ``key`` by ``new`` left to right, updating counts; the keys of
    pairs formed go into ``formed``. Hot loop: locals only."""
    a, b = key >> SHIFT, key & MASK
    tok, nxt, prv, occ, counts = index.tok, index.nxt, index.prv, index.occ, index.counts
    positions = occ.pop(key)
    positions.sort()
    for i in positions:
        if tok[i] != a:
            continue
        j = nxt[i]
        if j == -1 or tok[j] != b:
            continue
        left = prv[i]
        r = nxt[j]
        if left != -1:
            tl = tok[left] << SHIFT
            counts[tl | a] -= 1
            k = tl | new
            if k in occ:
                counts[k] += 1
                occ[k].append(left)
            else:
                counts[k] = 1
                occ[k] = [left]
            formed.add(k)
        if r != -1:
            tr = tok[r]
            counts[(b << SHIFT) | tr] -= 1
            k = (new << SHIFT) | tr
            if k in occ:
                counts[k] += 1
                occ[k].append(i)
            else:
                counts[k] = 1
                occ[k] = [i]
            formed.add(k)
            prv[r] = i
        tok[i] = new
        tok[j] = -1
        nxt[i] = r
    del counts[key]


def train(text: str, num_merges: int, progress: Progress = None) -> Training:
    """Learn up to ``num_merges`` merges from ``text`` (already prepared).

    ``progress(done, num_merges)`` is called after each merge; an exception
    it raises stops training and propagates.
    """
    with gc_paused():
        return _train(text, num_merges, progress)


def _train(text: str, num_merges: int, progress: Progress) -> Training:
    names = sorted(set(text))
    ids = {name: i for i, name in enumerate(names)}
    index = PairIndex([ids[ch] for ch in text])
    heap = [(-count, key) for key, count in index.counts.items()]
    heapq.heapify(heap)
    merges: list[Pair] = []
    merged: set[int] = set()
    clean = True
    while len(merges) < num_merges:
        key = _pop_best(heap, index)
        if key is None:
            break
        first, second = names[key >> SHIFT], names[key & MASK]
        new = ids.get(first + second)
        if new is None:
            new = ids[first + second] = len(names)
            names.append(first + second)
        formed: set[int] = set()
        _merge(index, key, new, formed)
        merged.add(key)
        if clean and not formed.isdisjoint(merged):
            clean = False
        counts = index.counts
        for k in formed:
            if counts[k]:
                heapq.heappush(heap, (-counts[k], k))
        merges.append((first, second))
        if progress is not None:
            progress(len(merges), num_merges)
    tokens = [names[t] for seg in index.tokens() for t in seg]
    return Training(merges, tokens, clean)


def train_merges(text: str, num_merges: int, progress: Progress = None) -> list[Pair]:
    """Just the merges (see :func:`train`)."""
    return train(text, num_merges, progress).merges
