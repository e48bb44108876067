from hypothesis import given, strategies as st

from gru_debugger.core.base.config import Config
from gru_debugger.core.text.data import batch_at, next_position, tokenize
from gru_debugger.core.text.tokenizer import EOT, BPETokenizer, encode_stream


def test_notebook_merges_vocab_and_stream():
    corpus = tokenize(Config())
    assert corpus.merges == ((" ", "a"), ("a", "t"), ("i", "n"), (" ", "m"), ("i", "o"))
    assert corpus.vocab_size == 36
    assert corpus.vocab[:5] == (" ", "(", ")", ",", ".")
    assert corpus.vocab[30:] == (" a", "at", "in", " m", "io", EOT)
    assert len(corpus.tokens) == 520
    assert corpus.tokens[:17].tolist() == [35, 15, 32, 9, 5, 20, 30, 15, 11, 9, 6, 20, 5, 0, 13, 21, 0]


def test_notebook_batch():
    tokens = tokenize(Config()).tokens
    x, y = batch_at(tokens, 0, 2, 8)
    assert x.tolist() == [[35, 15, 32, 9, 5, 20, 30, 15], [11, 9, 6, 20, 5, 0, 13, 21]]
    assert y.tolist() == [[15, 32, 9, 5, 20, 30, 15, 11], [9, 6, 20, 5, 0, 13, 21, 0]]


def test_next_position_wraps_when_a_batch_no_longer_fits():
    assert next_position(0, 520, 2, 8) == 16
    assert next_position(16 * 31, 520, 2, 8) == 0  # 512 + 17 > 520
    assert next_position(16 * 30, 520, 2, 8) == 496


def test_tie_goes_to_the_pair_seen_first():
    tok = BPETokenizer(num_merges=1).train(["abcd"])  # every pair occurs once
    assert tok.merges == [("a", "b")]


def test_unseen_characters_join_the_vocabulary():
    tok = BPETokenizer(num_merges=2).train(["abab"])
    size = len(tok.vocab)
    ids = tok.encode("abz")
    assert len(tok.vocab) == size + 1 and tok.vocab["z"] == size
    assert ids[-1] == tok.eot_id


def test_lowercase_off_keeps_case():
    tok = BPETokenizer(num_merges=0, lowercase=False).train(["Ab"])
    assert "A" in tok.vocab and "a" not in tok.vocab


@given(texts=st.lists(st.text(alphabet="abc de.", min_size=1, max_size=40), min_size=1, max_size=3),
       merges=st.integers(0, 8))
def test_decode_inverts_encode(texts, merges):
    tok = BPETokenizer(num_merges=merges).train(texts)
    for text in texts:
        assert tok.decode(tok.encode(text)) == text.lower()
    stream = encode_stream(tok, texts)
    assert tok.decode(stream) == "".join(texts).lower()
    assert stream[0] == tok.eot_id
