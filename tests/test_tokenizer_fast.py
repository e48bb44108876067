"""The fast trainer and encoder against the literal algorithm in bpe_reference."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from gru_debugger.core.text.bpe_encode import encode_segments
from gru_debugger.core.text.bpe_reference import (reference_encode, reference_tokenize, reference_train,
                                            reference_vocab)
from gru_debugger.core.text.bpe_train import train_merges
from gru_debugger.core.base.config import Config
from gru_debugger.core.text.tokenizer import EOT, BPETokenizer, TokenizeCancelled, encode_stream

texts_small = st.lists(st.text(alphabet="ab ", max_size=40), min_size=1, max_size=4)
texts_mixed = st.lists(st.text(alphabet="aAbc .", max_size=60), min_size=1, max_size=3)


def fast_tokenize(texts, num_merges, lowercase):
    tok = BPETokenizer(num_merges=num_merges, lowercase=lowercase).train(texts)
    vocab_after_training = dict(tok.vocab)
    stream = encode_stream(tok, texts)
    return tok, vocab_after_training, stream


def assert_same_as_reference(texts, num_merges, lowercase):
    merges, vocab, stream = reference_tokenize(texts, num_merges, lowercase)
    tok, trained_vocab, fast_stream = fast_tokenize(texts, num_merges, lowercase)
    assert tok.merges == merges
    assert fast_stream == stream
    assert tok.vocab == vocab  # including characters added while encoding, in the same order
    assert list(tok.vocab) == list(vocab)
    assert list(trained_vocab) == list(vocab)[:len(trained_vocab)]


@settings(max_examples=300, deadline=None)
@given(texts=texts_small, merges=st.integers(0, 30), lowercase=st.booleans())
def test_small_alphabet_matches_reference(texts, merges, lowercase):
    assert_same_as_reference(texts, merges, lowercase)


@settings(max_examples=150, deadline=None)
@given(texts=texts_mixed, merges=st.integers(0, 60), lowercase=st.booleans())
def test_mixed_case_matches_reference(texts, merges, lowercase):
    assert_same_as_reference(texts, merges, lowercase)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet="abc", max_size=80), merges=st.integers(0, 40))
def test_train_merges_matches_reference(text, merges):
    assert train_merges(text, merges) == reference_train(text, merges)


@settings(max_examples=100, deadline=None)
@given(train=texts_small, other=st.text(alphabet="abxy Z", max_size=40), merges=st.integers(0, 20))
def test_encoding_unseen_text_matches_reference(train, other, merges):
    tok = BPETokenizer(num_merges=merges).train(train)
    ref_vocab = dict(tok.vocab)
    for ch in dict.fromkeys(other.lower()):
        ref_vocab.setdefault(ch, len(ref_vocab))
    expected = [ref_vocab[t] for t in reference_encode(other.lower(), tok.merges)] + [ref_vocab[EOT]]
    assert tok.encode(other) == expected
    assert tok.vocab == ref_vocab


@pytest.mark.parametrize("text", ["aaaa", "aaaaa", "abababab", "aaabaaab", "ab" * 7 + "aaa"])
def test_overlapping_runs(text):
    assert_same_as_reference([text], 10, True)
    assert_same_as_reference([text[:3], text[3:]], 10, True)


def test_more_merges_than_possible_stops_early():
    merges, _, _ = reference_tokenize(["abcab"], 50, True)
    tok = BPETokenizer(num_merges=50).train(["abcab"])
    assert tok.merges == merges and len(merges) == 3  # ab, abc, abcab: one token left


@st.composite
def merge_lists(draw, alphabet="abc"):
    """Any merge list over the alphabet, repeats and odd ranks included."""
    pool = list(alphabet)
    merges = []
    for _ in range(draw(st.integers(0, 12))):
        a, b = draw(st.sampled_from(pool)), draw(st.sampled_from(pool))
        merges.append((a, b))
        pool.append(a + b)
    return merges


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(alphabet="abc", max_size=40), min_size=1, max_size=3), merges=merge_lists())
def test_encoder_matches_reference_for_any_merge_list(texts, merges):
    vocab = reference_vocab("abc", merges)
    names = {i: t for t, i in vocab.items()}
    got = encode_segments(texts, merges, vocab)
    assert [[names[i] for i in ids] for ids in got] == [reference_encode(t, merges) for t in texts]


def test_repeated_pair_uses_its_last_rank():
    # "abc" built twice ("ab"+"c", "a"+"bc"); ("abc", "d") listed twice
    merges = [("a", "b"), ("ab", "c"), ("abc", "d"), ("b", "c"), ("a", "bc"), ("abc", "d")]
    vocab = reference_vocab("abcd", merges)
    names = {i: t for t, i in vocab.items()}
    for text in ["abcd", "abcdabcd", "xbcd"[1:], "abcabcd"]:
        got = [names[i] for i in encode_segments([text], merges, vocab)[0]]
        assert got == reference_encode(text, merges)


def test_end_of_text_inside_a_text_is_dropped_when_encoding():
    assert_same_as_reference(["ab" + EOT + "ab", "b<|endo" + EOT + "ftext|>"], 12, False)


def test_progress_reports_every_merge():
    seen = []
    BPETokenizer(num_merges=4).train(["aaabdaaabac"], progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_cancel_during_training_leaves_tokenizer_unchanged():
    tok = BPETokenizer(num_merges=3).train(["the cat sat on the mat"])
    merges, vocab = list(tok.merges), dict(tok.vocab)

    def cancel(done, total):
        if done == 2:
            raise TokenizeCancelled

    tok.num_merges = 6
    with pytest.raises(TokenizeCancelled):
        tok.train(["a completely different text"], progress=cancel)
    assert tok.merges == merges and tok.vocab == vocab


def test_cancel_during_encoding_adds_no_characters():
    tok = BPETokenizer(num_merges=3).train(["the cat sat on the mat"])
    vocab = dict(tok.vocab)

    def cancel(done, total):
        raise TokenizeCancelled

    with pytest.raises(TokenizeCancelled):
        encode_stream(tok, ["the zebra sat"], progress=cancel)
    assert tok.vocab == vocab and "z" not in tok.vocab
    assert encode_stream(tok, ["the zebra sat"])  # still usable afterwards
    assert "z" in tok.vocab


def test_notebook_corpus_matches_reference():
    cfg = Config()
    assert_same_as_reference(list(cfg.corpus), cfg.num_merges, cfg.lowercase)
    assert_same_as_reference(list(cfg.corpus), 80, cfg.lowercase)


def test_reusing_the_training_tokens_equals_encoding_again():
    texts = ["the cat sat on the mat, the cat ate the rat"]
    tok = BPETokenizer(num_merges=20).train(texts)
    assert tok._trained is not None  # the shortcut is taken here
    reused = encode_stream(tok, texts)
    tok._trained = None
    assert encode_stream(tok, texts) == reused


def test_changed_merges_are_not_answered_from_the_training_run():
    texts = ["abab abab"]
    tok = BPETokenizer(num_merges=3).train(texts)
    tok.merges = tok.merges[:1]
    _, vocab, expected = reference_tokenize(texts, 1, True)
    names = {i: t for t, i in vocab.items()}
    assert [tok.id_to_token[i] for i in encode_stream(tok, texts)] == [names[i] for i in expected]


def test_stream_progress_counts_up_to_its_total():
    tok = BPETokenizer(num_merges=6).train(["the cat sat on the mat"])
    seen = []
    encode_stream(tok, ["the mat sat", "on the cat"], progress=lambda d, t: seen.append((d, t)))
    assert seen and [d for d, _ in seen] == list(range(1, len(seen) + 1))
    assert all(d <= t == seen[0][1] for d, t in seen)


def test_tokenize_with_progress_caches_only_finished_results():
    from gru_debugger.core.text import data

    cfg = Config(corpus=("some text that nobody else tokenizes, some text",), num_merges=7)

    def cancel(done, total):
        raise TokenizeCancelled

    with pytest.raises(TokenizeCancelled):
        data.tokenize(cfg, progress=cancel)
    seen = []
    first = data.tokenize(cfg, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] <= seen[-1][1] and seen[0] == (1, 14)
    assert data.tokenize(cfg, progress=cancel) is first  # from the cache: no callback
    assert data.tokenize(cfg) is first
