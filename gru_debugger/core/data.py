"""Tokenized corpus and the batches cut from it."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .config import Config, ConfigError
from .tokenizer import BPETokenizer, encode_stream


@dataclass(frozen=True)
class Corpus:
    """The token stream and the tokenizer's tables, as read-only arrays."""

    tokens: np.ndarray          # (N,) int64
    vocab: tuple[str, ...]      # token string by id
    merges: tuple[tuple[str, str], ...]
    eot_id: int

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)


@lru_cache(maxsize=16)
def _tokenize(corpus: tuple[str, ...], num_merges: int, lowercase: bool) -> Corpus:
    tok = BPETokenizer(num_merges=num_merges, lowercase=lowercase).train(corpus)
    tokens = np.asarray(encode_stream(tok, corpus), dtype=np.int64)
    tokens.flags.writeable = False
    return Corpus(tokens, tuple(tok.id_to_token), tuple(tok.merges), tok.eot_id)


def tokenize(cfg: Config) -> Corpus:
    return _tokenize(cfg.corpus, cfg.num_merges, cfg.lowercase)


def check_fits(n_tokens: int, position: int, B: int, T: int) -> None:
    need = B * T + 1
    if n_tokens < need:
        raise ConfigError(
            f"the corpus has {n_tokens} tokens but B*T+1 = {need} are needed: add text or shrink B or T"
        )
    if position + need > n_tokens:
        raise ConfigError(f"position {position} is too late: a batch needs tokens up to {position + need - 1}, "
                          f"the corpus ends at {n_tokens - 1} (last valid position {n_tokens - need})")


def batch_at(tokens: np.ndarray, position: int, B: int, T: int) -> tuple[np.ndarray, np.ndarray]:
    """x = tokens[position : position+B*T] as (B, T); y is the same shifted by one."""
    check_fits(len(tokens), position, B, T)
    window = tokens[position : position + B * T + 1]
    return window[:-1].reshape(B, T), window[1:].reshape(B, T)


def next_position(position: int, n_tokens: int, B: int, T: int) -> int:
    """Advance by B*T; wrap to 0 when fewer than B*T+1 tokens remain."""
    position += B * T
    return 0 if position + B * T + 1 > n_tokens else position
