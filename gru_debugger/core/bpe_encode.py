"""Fast byte-pair encoding: same tokens as ``bpe_reference.reference_encode``.

The reference repeatedly applies the lowest-rank pair present. Here a
``PairIndex`` indexes only pairs that have a rank and a min-heap holds
(rank, key) for pairs that gained an occurrence; a popped pair with no
occurrence left is skipped. Several texts are encoded in one pass as
segments that never pair across their borders: the lowest rank present
overall is, in each text that has it, the lowest rank present there.
"""
from __future__ import annotations

import heapq
from typing import Callable, Optional, Sequence

from .bpe_index import PairIndex, pair_key

Pair = tuple[str, str]
Progress = Optional[Callable[[int, int], None]]


def encode_segments(texts: Sequence[str], merges: Sequence[Pair], vocab: dict[str, int],
                    progress: Progress = None) -> list[list[int]]:
    """Vocabulary ids of each (prepared) text; every character must be in ``vocab``.

    ``progress(done, total)`` is called after each applied merge (total is
    the number of distinct merges, a bound that is only passed in
    pathological cases where a merged pair reappears).
    """
    ranks: dict[int, int] = {}
    for rank, (a, b) in enumerate(merges):
        ranks[pair_key(vocab[a], vocab[b])] = rank  # a repeated pair keeps its last rank
    joined_ids = {pair_key(vocab[a], vocab[b]): vocab[a + b] for a, b in merges}
    index = PairIndex([vocab[ch] for text in texts for ch in text], [len(t) for t in texts], wanted=ranks)
    heap = [(ranks[key], key) for key in index.occ]
    heapq.heapify(heap)
    occ = index.occ
    total = len(ranks)
    done = 0
    while heap:
        _, key = heapq.heappop(heap)
        if not occ.get(key):
            continue
        touched: set[int] = set()
        index.merge(key, joined_ids[key], touched)
        for k in touched:
            if occ[k]:
                heapq.heappush(heap, (ranks[k], k))
        done += 1
        if progress is not None:
            progress(done, max(total, done))
    return _segment_tokens(index, texts)


def _segment_tokens(index: PairIndex, texts: Sequence[str]) -> list[list[int]]:
    """One list per text, empty texts included."""
    filled = iter(index.tokens())
    return [next(filled) if text else [] for text in texts]

