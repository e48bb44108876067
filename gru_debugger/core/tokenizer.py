"""A tiny byte-pair tokenizer, small enough to show every merge on screen.

Behaviour (the spec the rest of the app relies on):
- training joins the texts, optionally lowercases them, and merges the most
  frequent adjacent pair ``num_merges`` times; a tie goes to the pair that
  occurs first in the current sequence;
- the vocabulary is the sorted unique characters, then the merged pairs in
  merge order, then the end-of-text token;
- encoding applies merges by rank (lowest first), adds characters it has not
  seen to the vocabulary and ends with the end-of-text id.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

EOT = "<|endoftext|>"

Pair = tuple[str, str]


def _pairs(seq: Sequence[str]) -> Iterable[Pair]:
    return zip(seq, seq[1:])


def _apply_merge(seq: list[str], pair: Pair) -> list[str]:
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


@dataclass
class BPETokenizer:
    num_merges: int = 5
    lowercase: bool = True
    merges: list[Pair] = field(default_factory=list)
    vocab: dict[str, int] = field(default_factory=dict)

    @property
    def eot_id(self) -> int:
        return self.vocab[EOT]

    def _prepare(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def _add(self, token: str) -> int:
        return self.vocab.setdefault(token, len(self.vocab))

    def train(self, texts: Sequence[str]) -> "BPETokenizer":
        text = self._prepare("".join(texts))
        seq = list(text)
        self.merges = []
        for _ in range(self.num_merges):
            counts = Counter(_pairs(seq))
            if not counts:
                break
            # Counter.most_common keeps insertion order among equal counts,
            # so ties go to the pair seen first in the current sequence.
            best, _count = counts.most_common(1)[0]
            self.merges.append(best)
            seq = _apply_merge(seq, best)
        self.vocab = {}
        for ch in sorted(set(text)):
            self._add(ch)
        for first, second in self.merges:
            self._add(first + second)
        self._add(EOT)
        return self

    def encode(self, text: str) -> list[int]:
        seq = list(self._prepare(text.replace(EOT, "")))
        for ch in dict.fromkeys(seq):  # unseen characters join the vocabulary
            self._add(ch)
        ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        while True:
            ranked = [(ranks[p], p) for p in _pairs(seq) if p in ranks]
            if not ranked:
                break
            seq = _apply_merge(seq, min(ranked)[1])
        ids = [self.vocab[tok] for tok in seq]
        if not ids or ids[-1] != self.eot_id:
            ids.append(self.eot_id)
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Inverse of :func:`encode_stream` / :meth:`encode`: end-of-text ids vanish."""
        tokens = self.id_to_token
        return "".join(tokens[i] for i in ids if i != self.eot_id)

    @property
    def id_to_token(self) -> list[str]:
        out = [""] * len(self.vocab)
        for tok, i in self.vocab.items():
            out[i] = tok
        return out


def encode_stream(tokenizer: BPETokenizer, texts: Sequence[str]) -> list[int]:
    """The training stream: per text, an end-of-text id, then the encoded text."""
    stream: list[int] = []
    for text in texts:
        stream.append(tokenizer.eot_id)
        stream.extend(tokenizer.encode(text))
    return stream
