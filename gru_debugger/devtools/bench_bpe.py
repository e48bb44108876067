"""Byte-pair tokenizer benchmark on real text, for ``python main.py bench``.

Real prose matters: random text has flat pair counts and few long merges,
so it would time a different workload. Nothing is downloaded at run time;
the text comes from a Debian package installed beforehand (see
:func:`find_real_text`).
"""
from __future__ import annotations

import glob
import os
import time
from pathlib import Path
from typing import Callable

from ..core.text.bpe_reference import reference_tokenize
from ..core.base.config import default_corpus
from ..core.text.tokenizer import BPETokenizer, encode_stream

MIN_BYTES = 1_000_000
SIZE = 1 << 20  # characters timed: 1 MiB, at least 1 MB of bytes

# (where, how to get it): the first that exists wins
KNOWN_SOURCES: tuple[tuple[str, str], ...] = (
    ("/usr/share/games/fortunes", "apt-get install fortunes   (about 2.5 MB of quotations and prose)"),
    ("/usr/share/vim/vim*/doc", "apt-get install vim-runtime   (about 9 MB of Vim's help text)"),
)


class RealTextMissing(RuntimeError):
    """No real text of the wanted size was found on this machine."""


def _read_files(files: list[str]) -> str:
    parts = []
    for name in sorted(files):
        if os.path.isfile(name) and not os.path.islink(name) and not name.endswith((".dat", ".u8")):
            parts.append(Path(name).read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def _read_source(where: str) -> str:
    if os.path.isfile(where):
        return _read_files([where])
    folders = sorted(glob.glob(where))
    return _read_files([f for d in folders for f in glob.glob(os.path.join(d, "*"))])


def find_real_text(path: str | None = None, min_bytes: int = MIN_BYTES) -> tuple[str, str]:
    """(text, where it came from): a file or folder of text files.

    ``path`` (a file, or a folder whose files are joined) wins; otherwise the
    first of ``KNOWN_SOURCES`` with at least ``min_bytes`` of UTF-8 text.
    To get one: ``apt-get install fortunes`` (Debian's fortune cookie files,
    read from /usr/share/games/fortunes) or ``apt-get install vim-runtime``
    (Vim's help files, /usr/share/vim/vim*/doc).
    """
    candidates = [(path, "the path given")] if path else list(KNOWN_SOURCES)
    for where, _how in candidates:
        text = _read_source(where)
        if len(text.encode("utf-8")) >= min_bytes:
            return text, where
    hint = "; ".join(f"{how} -> {where}" for where, how in KNOWN_SOURCES)
    raise RealTextMissing(f"no real text of {min_bytes:,}+ bytes found "
                          f"({'at ' + path if path else 'in the known places'}); install one: {hint}; "
                          f"or pass a path to a text file or a folder of them")


def large_corpus_text(path: str | None = None, min_bytes: int = MIN_BYTES) -> str:
    """A real text of at least ``min_bytes`` (1 MB), whole, for the large benchmark
    configuration; see :func:`find_real_text` for where it comes from."""
    return find_real_text(path, min_bytes)[0]


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _matches_reference(texts: tuple[str, ...], num_merges: int) -> bool:
    merges, vocab, stream = reference_tokenize(texts, num_merges, True)
    tok = BPETokenizer(num_merges=num_merges, lowercase=True).train(texts)
    fast_stream = encode_stream(tok, texts)
    return tok.merges == merges and tok.vocab == vocab and fast_stream == stream


def bpe_benchmark(num_merges: int = 2000, path: str | None = None, size: int = SIZE) -> dict[str, object]:
    """Time ``num_merges`` merges plus encoding the stream on the first ``size``
    characters (1 MiB) of a real text, and check the fast tokenizer against the
    literal algorithm on test-size input (the app's default corpus with 30
    merges, a 20 KB slice of the text with 50).

    The text: ``path`` (a file or a folder of text files), else Debian's
    fortune files (``apt-get install fortunes``), else Vim's help files
    (``apt-get install vim-runtime``); see :func:`find_real_text`.
    """
    text, source = find_real_text(path, min_bytes=size)
    text = text[:size]
    corpus = (text,)

    def run() -> None:
        tok = BPETokenizer(num_merges=num_merges, lowercase=True).train(corpus)
        encode_stream(tok, corpus)

    seconds = _timed(run)
    start = len(text) // 3
    match = (_matches_reference(default_corpus(), 30)
             and _matches_reference((text[start:start + 20_000],), 50))
    return {"bpe_s": seconds, "bpe_merges_match": match,
            "bpe_text_bytes": len(text.encode("utf-8")), "bpe_text_source": source}
