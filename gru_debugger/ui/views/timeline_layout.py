"""How wide each chip of the timeline is, and how its timesteps are numbered (no Qt):
plain arithmetic on the titles' and numbers' measured widths, so it can be tested alone."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

GUTTER = 11         # breakpoint margin at the left of each chip
PAD = 5             # text padding on the right of a chip
MIN_CELL = 5        # narrowest timestep cell before things get squeezed
MID_CELL = 12       # wide enough for its number
PREF_CELL = 24      # comfortable timestep cell width


@dataclass(frozen=True)
class ChipText:
    full: float               # the title on one line
    short: float              # the short title
    wrapped: float | None     # the wider of two lines when the title wraps (None: one word)
    timesteps: bool           # a chip with one cell per timestep


def chip_widths(available: float, chips: list[ChipText], T: int) -> list[float]:
    """Chip widths. Every chip starts at its minimum (short title, or T thin
    cells); the rest of the strip is given out in upgrades: timestep chips
    to numbered cells, then titles to two lines, then to one line (cheapest
    first, so as many titles as possible are whole), then wider cells.
    Whatever is left is shared, timestep chips getting more."""
    chrome = GUTTER + PAD + 2
    mins, wraps, fulls, weights = [], [], [], []
    for chip in chips:
        full = chip.full + chrome
        if chip.timesteps:
            lo = max(chrome + T * MIN_CELL, chip.short + chrome)
            mins.append(lo)
            wraps.append(max(lo, chrome + T * MID_CELL, full))
            fulls.append(max(wraps[-1], chrome + T * PREF_CELL))
            weights.append(max(2.0, T / 3))
        else:
            wrap = chip.wrapped + chrome if chip.wrapped is not None else full
            mins.append(min(chip.short + chrome, wrap))
            wraps.append(wrap)
            fulls.append(full)
            weights.append(1.0)
    widths = list(mins)
    budget = available - sum(widths)
    if budget < 0:
        scale = max(available, 0.0) / sum(mins)
        return [m * scale for m in mins]
    timestep = [i for i, p in enumerate(chips) if p.timesteps]
    normal = [i for i, p in enumerate(chips) if not p.timesteps]
    stages = [(timestep, wraps), (normal, wraps), (normal, fulls), (timestep, fulls)]
    finished = True
    for members, target in stages:
        if members is timestep:   # both grow together
            cost = sum(max(target[i] - widths[i], 0.0) for i in members)
            f = min(1.0, budget / cost) if cost > 0 else 1.0
            for i in members:
                grow = f * max(target[i] - widths[i], 0.0)
                widths[i] += grow
                budget -= grow
            if f < 1.0:
                finished = False
                break
            continue
        for i in sorted(members, key=lambda i: target[i] - widths[i]):
            cost = target[i] - widths[i]
            if cost <= 0:
                continue
            if cost > budget:
                finished = False
                break
            widths[i] += cost
            budget -= cost
        if not finished:
            break
    if not finished:
        weights = [1.0] * len(widths)
    return [w + budget * k / sum(weights) for w, k in zip(widths, weights)]


# ------------------------------------------------------------------ timestep numbers
LABEL_PT = 8.0                      # the timestep numbers' usual size
LABEL_SIZES = (8.0, 7.5, 7.0, 6.5)  # the sizes tried before the digits are stacked or grouped
GROUP_SIZES = (2, 4, 5, 8, 10, 16, 20, 25, 32, 50, 64, 100, 128, 256, 512, 1024, 2048, 4096)


@dataclass(frozen=True)
class CellLabel:
    first: int      # the first and last cell (in the order drawn, left to right) the label names
    last: int
    text: str
    pt: float
    stacked: bool = False   # the digits one above the other, in one cell


def cell_labels(order: Sequence[int], cell_w: float, cell_h: float,
                measure: Callable[[str, float], tuple[float, float]]) -> list[CellLabel]:
    """How the timesteps of a chip are numbered: every cell ``order[i]`` (``order``: the timesteps
    left to right) is named by exactly one label, never left out. ``measure(text, pt)`` -> (width,
    height of one line of digits) in px; a cell is ``cell_w`` x ``cell_h``.

    In this order of preference: each cell its number on one line (the usual size, then smaller);
    each cell its digits stacked (a tall thin cell); runs of cells named by a range, "16–23", as
    short runs as fit. When nothing fits, one label names the whole run (drawn elided)."""
    n = len(order)
    if n == 0:
        return []
    texts = [str(t) for t in order]
    widest = max(texts, key=len)
    for pt in LABEL_SIZES:
        w, h = measure(widest, pt)
        if w + 3 <= cell_w and h <= cell_h:
            return [CellLabel(i, i, texts[i], pt) for i in range(n)]
    for pt in LABEL_SIZES:
        w, h = measure("8", pt)
        if w + 2 <= cell_w and len(widest) * h + 2 <= cell_h:
            return [CellLabel(i, i, texts[i], pt, stacked=True) for i in range(n)]
    pt = LABEL_SIZES[-1]
    fitting = [(k, runs) for k in GROUP_SIZES if k < n for runs in [_runs(order, k, pt)]
               if all(measure(lab.text, pt)[0] + 4 <= (lab.last - lab.first + 1) * cell_w
                      and measure(lab.text, pt)[1] <= cell_h for lab in runs)]
    if fitting:  # the shortest runs that fit, or runs twice as long at most that divide the cells evenly
        shortest = fitting[0][0]
        even = [runs for k, runs in fitting if n % k == 0 and k <= 2 * shortest]
        return even[0] if even else fitting[0][1]
    return [CellLabel(0, n - 1, f"{order[0]}–{order[-1]}" if n > 1 else texts[0], pt)]


def _runs(order: Sequence[int], k: int, pt: float) -> list[CellLabel]:
    """Labels for runs of ``k`` cells; a shorter last run joins the one before it."""
    n = len(order)
    runs = [(i, min(i + k, n) - 1) for i in range(0, n, k)]
    if len(runs) > 1 and runs[-1][1] - runs[-1][0] + 1 < k:
        (a, _), (_, b) = runs[-2], runs[-1]
        runs[-2:] = [(a, b)]
    return [CellLabel(a, b, f"{order[a]}–{order[b]}", pt) for a, b in runs]
