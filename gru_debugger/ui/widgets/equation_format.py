"""How the Equation panel writes numbers and equations (no Qt: testable alone).

A page is a title, lines (label, rich-text equation, whether this step just
computed it) and an explanation; :mod:`equation_pages` builds them from a
snapshot, the cells' UI modules add the lines of their timesteps.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

EOT = "<|endoftext|>"
MINUS = "\u2212"
MAX_TERMS = 6        # terms of a written-out sum before it is elided
MAX_VECTOR = 8       # elements of a written-out vector before it is elided
MAX_LINES = 12       # per-timestep lines before the rest are elided



# A number that is only round-off (0 in exact arithmetic: core/analysis/roundoff) reads as the heatmaps
# print it, "≈0", said to be round-off and greyed: never as a bold live number.
ROUNDOFF_TEXT = "≈0 (round-off)"
ROUNDOFF_COLOUR = "#8c8c8c"   # mid grey: reads on the light and the dark theme


def noise() -> str:
    """The rich text of a round-off number."""
    return f'<span style="color:{ROUNDOFF_COLOUR}; font-weight:normal;">{ROUNDOFF_TEXT}</span>'


def fmt(value: float, roundoff: bool = False) -> str:
    """A number as the equations show it: 4 decimals, scientific when tiny or huge,
    a proper minus sign; a non-zero ``roundoff`` value as :func:`noise`."""
    v = float(value)
    if roundoff and v != 0.0 and math.isfinite(v):
        return noise()
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "∞" if v > 0 else f"{MINUS}∞"
    if v == 0.0:
        return "0.0000"
    text = f"{v:.4f}" if 1e-3 <= abs(v) < 1e5 else f"{v:.3e}"
    return text.replace("-", MINUS)


def factor(value: float, roundoff: bool = False) -> str:
    """A number inside a product: negative ones in parentheses."""
    text = fmt(value, roundoff)
    return f"({text})" if text.startswith(MINUS) else text


def signed(value: float, roundoff: bool = False) -> str:
    """' + 0.1234' or ' − 0.1234', to continue a sum."""
    text = fmt(value, roundoff)
    return f" {MINUS} {text[1:]}" if text.startswith(MINUS) else f" + {text}"


def bold(value: float, roundoff: bool = False) -> str:
    """The result of an equation: bold, unless it is round-off (grey, as :func:`noise`)."""
    text = fmt(value, roundoff)
    return text if text == noise() else f"<b>{text}</b>"


def within_rounding(value: float, terms: Sequence[float] | np.ndarray, eps: float) -> bool:
    """Is ``value``, a sum of ``terms`` that the page adds up itself, no larger than the rounding
    error the terms carry (n · eps · Σ|terms|, the worst case of n roundings of unit ``eps``)? Such
    a sum cannot be told from 0: the equations print it as round-off (a non-zero value only)."""
    parts = np.abs(np.asarray(terms, dtype=np.float64).ravel())
    return float(value) != 0.0 and abs(float(value)) <= parts.size * eps * float(parts.sum())


def vector(values: Sequence[float] | np.ndarray) -> str:
    vals = [float(v) for v in np.asarray(values).ravel()]
    shown = [fmt(v) for v in vals[:MAX_VECTOR]]
    if len(vals) > MAX_VECTOR:
        shown.append(f"… ({len(vals) - MAX_VECTOR} more)")
    return "[" + ", ".join(shown) + "]"


def dot_terms(weights: np.ndarray, inputs: np.ndarray) -> str:
    """'w0·x0 + w1·x1 + …' for a weighted sum, elided after MAX_TERMS."""
    w = np.asarray(weights).ravel()
    x = np.asarray(inputs).ravel()
    terms = [f"{factor(w[i])}·{factor(x[i])}" for i in range(min(len(w), MAX_TERMS))]
    text = " + ".join(terms)
    if len(w) > MAX_TERMS:
        text += f" + … ({len(w) - MAX_TERMS} more terms)"
    return text


def visible(token: str) -> str:
    if token == EOT:
        return "⟨eot⟩"
    return token.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def sub(name: str, index: str) -> str:
    return f"{name}<sub>{index}</sub>"


@dataclass
class Line:
    label: str            # short name in the left column ("z", "x2g", "t=3"), rich text
    html: str             # the equation, as rich text
    current: bool = False # what this step just computed


@dataclass
class Page:
    title: str
    lines: list[Line]
    explanation: str      # rich text
    uses_j: bool = False  # whether the numbers depend on the selected unit j
    uses_b: bool = True   # whether they depend on the selected batch row b




def tok(s, token_id: int) -> str:
    """A token of the snapshot's vocabulary, quoted, with visible spaces."""
    vocab = s.vocab
    text = vocab[token_id] if 0 <= token_id < len(vocab) else "?"
    return f"'{esc(visible(text))}'"


def elide(lines: list[Line], total: int) -> list[Line]:
    if total > MAX_LINES:
        kept = lines[:MAX_LINES]
        kept.append(Line("…", f"{total - MAX_LINES} more timesteps not shown"))
        return kept
    return lines
