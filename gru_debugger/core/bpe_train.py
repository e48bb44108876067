"""Fast byte-pair training: same merges as ``bpe_reference.reference_train``.

Instead of recounting all bigrams each round, pair counts live in a
``PairIndex`` and a lazy max-heap of (-count, key) entries: an entry is
stale when the pair's count has changed since it was pushed (a fresh entry
is pushed whenever a merge touches a pair). Among pairs with the top count
the one whose first occurrence comes first wins, as ``Counter.most_common``
does for the reference.
"""
from __future__ import annotations

import heapq
from typing import Callable, Optional

from .bpe_index import SHIFT, PairIndex

Pair = tuple[str, str]
Progress = Optional[Callable[[int, int], None]]


def _pop_best(heap: list[tuple[int, int]], occ: dict[int, set[int]]) -> int | None:
    """The key with the highest count, ties to the earliest first occurrence."""
    while heap:
        negc, key = heap[0]
        s = occ.get(key)
        if s is not None and len(s) == -negc:
            break
        heapq.heappop(heap)
    else:
        return None
    tied: list[int] = []
    while heap and heap[0][0] == negc:
        _, key = heapq.heappop(heap)
        s = occ.get(key)
        if s is not None and len(s) == -negc and key not in tied:
            tied.append(key)
    best = min(tied, key=lambda k: min(occ[k])) if len(tied) > 1 else tied[0]
    for key in tied:
        if key != best:
            heapq.heappush(heap, (negc, key))
    return best


def train_merges(text: str, num_merges: int, progress: Progress = None) -> list[Pair]:
    """The merges the reference learns from ``text`` (already prepared).

    ``progress(done, num_merges)`` is called after each merge; an exception
    it raises stops training and propagates.
    """
    names = sorted(set(text))
    ids = {name: i for i, name in enumerate(names)}
    index = PairIndex([ids[ch] for ch in text])
    occ = index.occ
    heap = [(-len(s), key) for key, s in occ.items()]
    heapq.heapify(heap)
    merges: list[Pair] = []
    mask = (1 << SHIFT) - 1
    while len(merges) < num_merges:
        key = _pop_best(heap, occ)
        if key is None:
            break
        first, second = names[key >> SHIFT], names[key & mask]
        joined = first + second
        new = ids.get(joined)
        if new is None:
            new = ids[joined] = len(names)
            names.append(joined)
        touched: set[int] = set()
        index.merge(key, new, touched)
        for k in touched:
            count = len(occ[k])
            if count:
                heapq.heappush(heap, (-count, k))
            else:
                del occ[k]
        merges.append((first, second))
        if progress is not None:
            progress(len(merges), num_merges)
    return merges
