"""Memory soak: many training iterations at the large size, reporting memory.

``python main.py soak --iterations 500`` (under ``/usr/bin/time -v`` for the
peak RSS as the system sees it). The model is B=32, T=64, E=64, H=256 on a
real text with enough byte-pair merges for a vocabulary of about 2,000 tokens
(tokenizing takes a while: it happens once, before the iterations). Training
runs in chunks of ten iterations, each its own undo step (as the window's
training panel does), with an edit, an undo and a redo every 50 iterations,
so both the trace cache and the undo history fill up to their budgets.
"""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path
from typing import Sequence

# Plain-text files found on most Linux machines; the first that exist are used.
DEFAULT_TEXTS = ("/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/Apache-2.0",
                 "/usr/share/common-licenses/GFDL-1.3", "/usr/share/common-licenses/LGPL-3",
                 "/usr/share/common-licenses/MPL-2.0", "/usr/share/common-licenses/Artistic")
TEXT_CHARS = 60_000     # enough tokens for a batch of 32 x 64 after ~1,900 merges, and quick to tokenize
TARGET_VOCAB = 2_000


def rss_mb() -> float:
    """Resident memory now (Linux), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def read_texts(paths: Sequence[str], strict: bool = False) -> list[str]:
    """Up to TEXT_CHARS characters from the first of ``paths`` that are readable text files. A path
    that is missing, a folder or not a regular file (``/dev/zero`` would never end) is passed over;
    with ``strict`` (files a person named) it is refused. The error says what is wrong with each."""
    texts: list[str] = []
    problems: list[str] = []
    total = 0
    for name in paths:
        if total >= TEXT_CHARS and not strict:
            break
        text, problem = _read_start(name, max(TEXT_CHARS - total, 0))
        if problem is not None:
            if strict:
                raise ValueError(f"text file {name} {problem}")
            problems.append(f"{name} {problem}")
        elif total < TEXT_CHARS:
            texts.append(text)
            total += len(text)
    if not texts:
        raise ValueError(f"no text to train on: {'; '.join(problems)}; pass --text FILE with a text file")
    return texts


def _read_start(name: str, chars: int) -> tuple[str, str | None]:
    """The first ``chars`` characters of a file, or why it cannot be read (the rest of a sentence
    that starts with its name)."""
    from ..core.base.regular_files import regular_opener

    if not Path(name).exists():
        return "", "does not exist"
    try:
        with open(name, "rb", opener=regular_opener(2**63 - 1, "")) as fh:
            data = fh.read(4 * max(chars, 1))  # at most 4 bytes a character in UTF-8
    except OSError as exc:
        return "", _reason(exc)
    text = data.decode("utf-8", errors="replace")[:chars]
    return (text, None) if data.strip() else ("", "is empty")


def _reason(exc: OSError) -> str:
    """Why a path could not be read, as the rest of a sentence that starts with its name."""
    text = exc.strerror or str(exc)
    if text.startswith("it is a folder"):
        return "is a folder, not a file"
    if text.startswith("not a regular file"):
        return "exists but is not a regular file (a device, pipe or socket)"
    return f"cannot be read: {text}"


def soak(iterations: int, texts: Sequence[str] | None = None, chunk: int = 10, out=sys.stdout,
         threads: int = 1) -> dict[str, float]:
    import torch

    from ..core.base.config import PARAM_NAMES, Config
    from ..core.control.controller import Controller
    from ..core.control.training import train_iterations

    # One thread: on a machine whose cores are busy, PyTorch's thread pool spins and one
    # iteration at this size took 30 s instead of 0.2 s (measured on this project's machine).
    torch.set_num_threads(threads)
    corpus = read_texts(texts, strict=True) if texts else read_texts(DEFAULT_TEXTS)
    chars = len(set("".join(corpus).lower()))
    merges = max(0, TARGET_VOCAB - chars - 1)
    cfg = Config(corpus=corpus, num_merges=merges, batch_size=32, context_length=64, n_embd=64, hidden_size=256,
                 seed=0, learning_rate=0.5, init={n: {"scheme": "default"} for n in PARAM_NAMES})
    started = time.perf_counter()
    print(f"tokenizing {sum(map(len, corpus)):,} characters with {merges} merges ...", file=out, flush=True)
    ctl = Controller(cfg)
    trace = ctl.snapshot().trace
    size = sum(a.nbytes for a in trace.arrays.values())
    print(f"V={len(trace.corpus.vocab)}, {len(trace.corpus.tokens):,} tokens; one trace {size / 1e6:.0f} MB; "
          f"budgets: traces {ctl.trace_budget / 1e6:.0f} MB, history {ctl.history_budget / 1e6:.0f} MB; "
          f"set up in {time.perf_counter() - started:.0f} s; RSS {rss_mb():.0f} MB", file=out, flush=True)
    done, t0 = 0, time.perf_counter()
    while done < iterations:
        n = min(chunk, iterations - done)
        run = train_iterations(ctl, n)
        done += len(run)
        if run.stopped_at_fault:
            print(f"stopped at a numerical fault: {run.fault.message}", file=out)
            break
        if done % 50 == 0 or done >= iterations:
            ctl.set_param("h2g.weight", (0, 0), 0.5)
            ctl.undo()
            ctl.redo()
            print(f"iteration {done:4d}: loss {run[-1].loss:.3f}; trace cache {ctl.trace_cache_bytes / 1e6:.0f} MB; "
                  f"history {ctl.history_bytes / 1e6:.0f} MB ({len(ctl.undo_texts)} steps, "
                  f"{ctl.history_dropped} dropped); RSS {rss_mb():.0f} MB, peak {peak_rss_mb():.0f} MB; "
                  f"{(time.perf_counter() - t0) / done:.2f} s/iteration", file=out, flush=True)
    result = {"iterations": done, "peak_rss_mb": peak_rss_mb(), "rss_mb": rss_mb(),
              "trace_cache_mb": ctl.trace_cache_bytes / 1e6, "history_mb": ctl.history_bytes / 1e6}
    print(f"done: {done} iterations, peak RSS {result['peak_rss_mb']:.0f} MB", file=out, flush=True)
    return result
