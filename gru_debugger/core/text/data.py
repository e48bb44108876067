"""Tokenized corpus and the batches cut from it."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..base.config import Config, ConfigError
from .tokenizer import BPETokenizer, encode_stream

Progress = Optional[Callable[[int, int], None]]
CACHE_SIZE = 16


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


# Tokenizing is the slow part of a settings change; undo and redo come back to the
# same corpora. Only finished results are stored, so a cancelled run leaves nothing.
_cache: OrderedDict[tuple[tuple[str, ...], int, bool], Corpus] = OrderedDict()


def _build(corpus: tuple[str, ...], num_merges: int, lowercase: bool, progress: Progress) -> Corpus:
    """Training reports 0..M merges and encoding M..2M, so one bar covers both."""
    total = 2 * max(num_merges, 1)

    def training(done: int, _total: int) -> None:
        progress(done, total)

    def encoding(done: int, steps: int) -> None:
        progress(total // 2 + done * (total // 2) // max(steps, 1), total)

    tok = BPETokenizer(num_merges=num_merges, lowercase=lowercase).train(
        corpus, training if progress else None)
    tokens = np.asarray(encode_stream(tok, corpus, encoding if progress else None), dtype=np.int64)
    tokens.flags.writeable = False
    return Corpus(tokens, tuple(tok.id_to_token), tuple(tok.merges), tok.eot_id)


def _tokenize(corpus: tuple[str, ...], num_merges: int, lowercase: bool, progress: Progress = None) -> Corpus:
    """Cached by the three settings (the callback is not part of the key).

    ``progress`` may raise ``TokenizeCancelled`` to stop; nothing is cached then."""
    key = (corpus, num_merges, lowercase)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    result = _build(corpus, num_merges, lowercase, progress)
    _cache[key] = result
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def is_tokenized(cfg: Config) -> bool:
    """True when ``tokenize(cfg)`` would answer from the cache at once."""
    return (cfg.corpus, cfg.num_merges, cfg.lowercase) in _cache


def tokenize(cfg: Config, progress: Progress = None) -> Corpus:
    return _tokenize(cfg.corpus, cfg.num_merges, cfg.lowercase, progress)


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
