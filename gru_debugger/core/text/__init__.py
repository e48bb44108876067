"""Text into tokens: the byte-pair tokenizer and the batches cut from the tokenized corpus.

The tokenizer (with the fast training and encoding in bpe_train, bpe_encode and bpe_index, and
bpe_reference as the plain specification they must match) and data, which tokenizes a config's
corpus once and cuts batches from it.
"""
