"""The straightforward byte-pair algorithm, kept as the spec the fast one must match.

It recounts every bigram each round, so it is slow (minutes for 2,000 merges
on 300 KB); tests and the benchmark compare the fast trainer with it.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

EOT = "<|endoftext|>"

Pair = tuple[str, str]


def apply_merge(seq: list[str], pair: Pair) -> list[str]:
    """Replace every non-overlapping occurrence of ``pair`` (left to right)."""
    first, second = pair
    out: list[str] = []
    i = 0
    while i < len(seq):
        if i + 1 < len(seq) and seq[i] == first and seq[i + 1] == second:
            out.append(first + second)
            i += 2
        else:
            out.append(seq[i])
            i += 1
    return out


def reference_train(text: str, num_merges: int) -> list[Pair]:
    """Merges learned from ``text`` (already joined and lowercased as wanted).

    Each round counts overlapping bigrams; ``most_common`` keeps insertion
    order among equal counts, so a tie goes to the pair seen first.
    """
    seq = list(text)
    merges: list[Pair] = []
    for _ in range(num_merges):
        counts = Counter(zip(seq, seq[1:]))
        if not counts:
            break
        best, _count = counts.most_common(1)[0]
        merges.append(best)
        seq = apply_merge(seq, best)
    return merges


def reference_vocab(text: str, merges: Sequence[Pair]) -> dict[str, int]:
    """Sorted characters, then merged tokens in merge order, then end-of-text."""
    vocab: dict[str, int] = {}
    for token in [*sorted(set(text)), *(a + b for a, b in merges), EOT]:
        vocab.setdefault(token, len(vocab))
    return vocab


def reference_encode(text: str, merges: Sequence[Pair]) -> list[str]:
    """Token strings of ``text`` (already prepared): lowest-rank pair present, repeatedly."""
    seq = list(text)
    ranks = {pair: rank for rank, pair in enumerate(merges)}
    while True:
        ranked = [(ranks[p], p) for p in zip(seq, seq[1:]) if p in ranks]
        if not ranked:
            return seq
        seq = apply_merge(seq, min(ranked)[1])


def reference_tokenize(texts: Sequence[str], num_merges: int, lowercase: bool
                       ) -> tuple[list[Pair], dict[str, int], list[int]]:
    """Merges, vocabulary and training stream, exactly as the app defines them."""
    prepare = str.lower if lowercase else str
    merges = reference_train(prepare("".join(texts)), num_merges)
    vocab = reference_vocab(prepare("".join(texts)), merges)
    eot = vocab[EOT]
    stream: list[int] = []
    for text in texts:
        seq = list(prepare(text.replace(EOT, "")))
        for ch in dict.fromkeys(seq):
            vocab.setdefault(ch, len(vocab))
        ids = [vocab[t] for t in reference_encode("".join(seq), merges)]
        if not ids or ids[-1] != eot:
            ids.append(eot)
        stream += [eot, *ids]
    return merges, vocab, stream
