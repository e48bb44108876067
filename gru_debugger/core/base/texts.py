"""Reading a person's text files for the corpus: UTF-8 only, with a size limit.

Used by the ``corpus_files`` config key and by the window's "Open Text File…";
every refusal is a :class:`~gru_debugger.core.base.errors.ConfigError` that names
the file as the person gave it.
"""
from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any, Sequence

from .errors import ConfigError

MAX_TEXT_BYTES = 20 * 1024 * 1024  # per file: 20 MB


def _mb(size: int) -> str:
    return f"{size / 1024**2:.1f} MB"


def read_text_file(path: str | os.PathLike[str], base: str | os.PathLike[str] | None = None,
                   limit: int = MAX_TEXT_BYTES) -> str:
    """The text of one UTF-8 file; a relative ``path`` is taken from ``base`` (if given).

    Raises ConfigError, naming ``path`` as given, for a file that is missing,
    not a regular file, unreadable, larger than ``limit`` bytes, empty, or not
    UTF-8 text. A UTF-8 byte-order mark is dropped.
    """
    shown = os.fspath(path)
    full = Path(shown).expanduser()
    if base is not None and not full.is_absolute():
        full = Path(base) / full
    where = shown if str(full) == shown else f"{shown} ({full})"
    if not full.exists():
        raise ConfigError(f"text file {where} does not exist")
    if full.is_dir():
        raise ConfigError(f"text file {where} is a folder, not a file")
    if not full.is_file():
        raise ConfigError(f"text file {where} is not a regular file")
    try:
        size = full.stat().st_size
        if size > limit:
            raise ConfigError(f"text file {where} is {_mb(size)}; the limit is {_mb(limit)} per file")
        with full.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read text file {where}: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew while we looked
        raise ConfigError(f"text file {where} is over the limit of {_mb(limit)} per file")
    if b"\x00" in data:
        raise ConfigError(f"{where} is not UTF-8 text: it holds NUL bytes (a binary file?)")
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where} is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
                          f"is not valid UTF-8 (save it as UTF-8, or is it a binary file?)") from None
    if not text.strip():
        raise ConfigError(f"text file {where} is empty")
    return text


def read_corpus_files(paths: Any, base: str | os.PathLike[str] | None = None) -> list[str]:
    """The texts of the files a config's ``corpus_files`` lists, in order."""
    if (not isinstance(paths, Sequence) or isinstance(paths, str) or not paths
            or not all(isinstance(p, str) and p for p in paths)):
        raise ConfigError(f"corpus_files must be a non-empty list of file paths, got {paths!r}")
    return [read_text_file(p, base) for p in paths]
