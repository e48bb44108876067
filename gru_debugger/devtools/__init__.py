"""Developer tools, not part of the app: the benchmark (``main.py bench``), the tokenizer's
benchmark (bench_bpe) and the memory soak (``main.py soak``); the command line imports them only
when asked for.
"""
