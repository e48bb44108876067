"""How wide each chip of the timeline is (no Qt): plain arithmetic on the
titles' measured widths, so it can be tested alone."""
from __future__ import annotations

from dataclasses import dataclass

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
