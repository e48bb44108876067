"""Fast byte-pair encoding: same tokens as ``bpe_reference.reference_encode``.

The reference repeatedly applies the lowest-rank pair present. Here a
``PairIndex`` indexes only pairs that have a rank and a min-heap holds
(rank, key) for pairs that formed; a popped pair with no occurrence left is
a no-op. Several texts are encoded in one pass as segments that never pair
across their borders: the lowest rank present overall is, in each text that
has it, the lowest rank present there.
"""
from __future__ import annotations

import heapq
from typing import Callable, Optional, Sequence

from .bpe_index import MASK, SHIFT, PairIndex, gc_paused, pair_key

Pair = tuple[str, str]
Progress = Optional[Callable[[int, int], None]]


def _merge(index: PairIndex, key: int, new: int, ranks: dict[int, int], formed: set[int]) -> int:
    """Replace ``key`` by ``new`` left to right; ranked pairs formed go into
    ``formed``. Returns the number of replacements. Hot loop: locals only."""
    a, b = key >> SHIFT, key & MASK
    tok, nxt, prv, occ = index.tok, index.nxt, index.prv, index.occ
    positions = occ.pop(key)
    positions.sort()
    done = 0
    for i in positions:
        if tok[i] != a:
            continue
        j = nxt[i]
        if j == -1 or tok[j] != b:
            continue
        left = prv[i]
        r = nxt[j]
        if left != -1:
            k = (tok[left] << SHIFT) | new
            if k in ranks:
                if k in occ:
                    occ[k].append(left)
                else:
                    occ[k] = [left]
                formed.add(k)
        if r != -1:
            k = (new << SHIFT) | tok[r]
            if k in ranks:
                if k in occ:
                    occ[k].append(i)
                else:
                    occ[k] = [i]
                formed.add(k)
            prv[r] = i
        tok[i] = new
        tok[j] = -1
        nxt[i] = r
        done += 1
    return done


def encode_segments(texts: Sequence[str], merges: Sequence[Pair], vocab: dict[str, int],
                    progress: Progress = None) -> list[list[int]]:
    """Vocabulary ids of each (prepared) text; every character must be in ``vocab``.

    ``progress(done, total)`` is called after each merge that changed
    something (total: the number of distinct merges).
    """
    with gc_paused():
        return _encode(texts, merges, vocab, progress)


def _encode(texts: Sequence[str], merges: Sequence[Pair], vocab: dict[str, int],
            progress: Progress) -> list[list[int]]:
    ranks: dict[int, int] = {}
    for rank, (a, b) in enumerate(merges):
        ranks[pair_key(vocab[a], vocab[b])] = rank  # a repeated pair keeps its last rank
    joined = {pair_key(vocab[a], vocab[b]): vocab[a + b] for a, b in merges}
    index = PairIndex([vocab[ch] for text in texts for ch in text], [len(t) for t in texts], wanted=ranks)
    heap = [(ranks[key], key) for key in index.occ]
    heapq.heapify(heap)
    occ = index.occ
    done = 0
    while heap:
        _, key = heapq.heappop(heap)
        if key not in occ:
            continue
        formed: set[int] = set()
        if _merge(index, key, joined[key], ranks, formed):
            done += 1
            if progress is not None:
                progress(done, max(len(ranks), done))
        for k in formed:
            if k != key:
                heapq.heappush(heap, (ranks[k], k))
    filled = iter(index.tokens())
    return [next(filled) if text else [] for text in texts]
