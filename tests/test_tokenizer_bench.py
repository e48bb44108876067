"""The tokenizer benchmark helper: finding real text, and its report (no timings asserted)."""
from __future__ import annotations

import pytest

from gru_debugger.devtools import bench_bpe
from gru_debugger.devtools.bench_bpe import RealTextMissing, bpe_benchmark, find_real_text, large_corpus_text

PROSE = ("It was the best of times, it was the worst of times, it was the age of wisdom, "
         "it was the age of foolishness, it was the epoch of belief.\n")


def test_an_explicit_folder_is_read_and_joined(tmp_path):
    (tmp_path / "a.txt").write_text(PROSE, encoding="utf-8")
    (tmp_path / "b").write_text(PROSE.upper(), encoding="utf-8")
    (tmp_path / "b.dat").write_bytes(b"\x00\x01binary index")
    text, source = find_real_text(str(tmp_path), min_bytes=100)
    assert source == str(tmp_path)
    assert PROSE in text and PROSE.upper() in text and "binary" not in text


def test_too_little_text_says_how_to_get_some(tmp_path, monkeypatch):
    small = tmp_path / "small.txt"
    small.write_text("short", encoding="utf-8")
    with pytest.raises(RealTextMissing, match="apt-get install fortunes"):
        find_real_text(str(small), min_bytes=1000)
    monkeypatch.setattr(bench_bpe, "KNOWN_SOURCES", ((str(tmp_path / "nowhere"), "install x"),))
    with pytest.raises(RealTextMissing, match="install x"):
        large_corpus_text()


def test_benchmark_reports_its_fields(tmp_path):
    path = tmp_path / "book.txt"
    path.write_text(PROSE * 40, encoding="utf-8")
    result = bpe_benchmark(num_merges=40, path=str(path), size=4000)
    assert result["bpe_merges_match"] is True
    assert result["bpe_text_bytes"] == 4000 and result["bpe_text_source"] == str(path)
    assert isinstance(result["bpe_s"], float) and result["bpe_s"] > 0
