"""A tiny byte-pair tokenizer, small enough to show every merge on screen.

Behaviour (the spec the rest of the app relies on; ``bpe_reference`` is the
literal version of it, this module the fast one with identical output):
- training joins the texts, optionally lowercases them, and merges the most
  frequent adjacent pair ``num_merges`` times; a tie goes to the pair that
  occurs first in the current sequence;
- the vocabulary is the sorted unique characters, then the merged pairs in
  merge order, then the end-of-text token;
- encoding applies merges by rank (lowest first), adds characters it has not
  seen to the vocabulary and ends with the end-of-text id.

Training and stream encoding take an optional ``progress(done, total)``
callback; raising :class:`TokenizeCancelled` from it cancels, and the
tokenizer is left as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from .bpe_encode import encode_segments
from .bpe_reference import EOT, Pair
from .bpe_train import train as train_bpe

Progress = Optional[Callable[[int, int], None]]

__all__ = ["EOT", "Pair", "BPETokenizer", "TokenizeCancelled", "encode_stream"]


class TokenizeCancelled(Exception):
    """Raised by a progress callback to stop training or encoding."""


@dataclass
class BPETokenizer:
    num_merges: int = 5
    lowercase: bool = True
    merges: list[Pair] = field(default_factory=list)
    vocab: dict[str, int] = field(default_factory=dict)
    # (training text, merges, its tokens after all merges) when encoding that same
    # text is known to give those tokens: encode_stream then skips the work
    _trained: tuple[str, list[Pair], list[str]] | None = field(default=None, init=False, repr=False,
                                                                compare=False)

    @property
    def eot_id(self) -> int:
        return self.vocab[EOT]

    def _prepare(self, text: str) -> str:
        return text.lower() if self.lowercase else text

    def train(self, texts: Sequence[str], progress: Progress = None) -> "BPETokenizer":
        """Learn merges and vocabulary; on cancel nothing is changed."""
        text = self._prepare("".join(texts))
        result = train_bpe(text, self.num_merges, progress)
        merges = result.merges
        vocab: dict[str, int] = {}
        for token in [*sorted(set(text)), *(a + b for a, b in merges), EOT]:
            vocab.setdefault(token, len(vocab))
        self.merges, self.vocab = merges, vocab
        self._trained = (text, list(merges), result.tokens) if result.no_merged_pair_came_back else None
        return self

    def encode(self, text: str) -> list[int]:
        """Ids of one text, ending with end-of-text; unseen characters join the vocabulary."""
        return encode_stream(self, [text])[1:]

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


def encode_stream(tokenizer: BPETokenizer, texts: Sequence[str], progress: Progress = None) -> list[int]:
    """The training stream: per text, an end-of-text id, then the encoded text.

    Characters not seen in training join the vocabulary (in order of first
    appearance), but only once encoding has finished.
    """
    prepared = [tokenizer._prepare(text.replace(EOT, "")) for text in texts]
    vocab = dict(tokenizer.vocab)
    for ch in dict.fromkeys("".join(prepared)):
        vocab.setdefault(ch, len(vocab))
    eot = vocab[EOT]
    stream: list[int] = []
    encoded = _known_tokens(tokenizer, prepared, vocab)
    if encoded is None:
        encoded = encode_segments(prepared, tokenizer.merges, vocab, progress)
    for ids in encoded:
        stream.append(eot)
        stream.extend(ids)
        if not ids or ids[-1] != eot:
            stream.append(eot)
    tokenizer.vocab.update(vocab)
    return stream


def _known_tokens(tokenizer: BPETokenizer, prepared: list[str], vocab: dict[str, int]) -> list[list[int]] | None:
    """The training run's final tokens, when the stream is that one text with the same merges."""
    trained = tokenizer._trained
    if trained is None or len(prepared) != 1 or trained[0] != prepared[0] or trained[1] != tokenizer.merges:
        return None
    return [[vocab[t] for t in trained[2]]] if prepared[0] else [[]]
