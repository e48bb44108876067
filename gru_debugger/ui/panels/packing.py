"""How big each plot of a panel is drawn: cells capped and nearly square, grid rows packed.

Pure arithmetic (no Qt), so the rules can be read and tested on their own:

* **Cap.** A heatmap cell is never drawn larger than ``CAP`` px on a side.
* **Aspect.** A cell is at most ``ASPECT`` times as wide as tall (or as tall as
  wide): a plot whose room is long and flat is drawn narrower, not stretched.
  A 1×N vector is therefore a strip of N nearly square cells.
* **Packing.** The grid rows of a panel share its height, its columns its
  width: each line of the grid gets at least its minimum and never more than
  its plots can use (their cap), and the rest is handed out in proportion to
  the square root of the number of cells the line's plots have along that
  direction (a 36-row matrix gets more height than a 2-row one, but not 18
  times as much). When the aspect rule makes a plot smaller than its line, the
  line shrinks to it and its room goes to the other lines.
* **Minimum.** A heatmap's view is never shorter than ``MIN_VIEW`` px (about
  three text lines) or ``MIN_CELL`` px a row (whichever is more, but no more
  than ``MIN_VIEW_LARGE`` for that reason, nor more than its cap); when the
  panel is shorter than that the panel scrolls. Widths likewise.

Plots are drawn at the top left of their grid cell (titles line up along a
row, axes along a column); the grid itself sits at the top left of the panel.
"""
from __future__ import annotations

from dataclasses import dataclass

CAP = 64.0          # px: the largest a cell is drawn
ASPECT = 2.5        # the most a cell's width and height may differ by (as a ratio)
MIN_CELL = 4.0      # px: the smallest a cell is drawn along a direction
MIN_VIEW = 40.0     # px: the smallest a heatmap's view is drawn (about three text lines), up to its cap
MIN_VIEW_LARGE = 120.0   # px: ... and the most MIN_CELL a row asks for (hundreds of rows still fit the room)
CURVE_CELLS = 2    # a line plot counts as a matrix of this many cells each way when sharing room
CURVE_MIN = (160.0, 80.0)     # px: a line plot's smallest view
CURVE_MAX = (520.0, 260.0)    # px: its largest, next to heatmaps (alone in a panel it takes the room it gets)
UNBOUNDED = 1.0e6
WEIGHT_POWER = 0.75   # a line's share of the room grows as (its plots' cells along it) to this power


@dataclass
class Box:
    """One plot in the panel's grid. ``rows``/``cols``: its matrix's cells (0 for a line plot).
    ``decor_w``/``decor_h``: px around its view (axes, title, colour bar). ``min_w``: the
    narrowest the whole plot can be (its title)."""
    row: int
    col: int
    rowspan: int
    colspan: int
    rows: int
    cols: int
    decor_w: float
    decor_h: float
    min_w: float = 0.0
    inner_w: float = 0.0   # the part of decor_w left of the view (the rest is right of it)

    @property
    def curve(self) -> bool:
        return self.rows <= 0 or self.cols <= 0


@dataclass
class Placed:
    """The size of a plot's view (px) and of its cells."""
    view_w: float
    view_h: float
    cell_w: float
    cell_h: float


def view_limits(box: Box, curves_alone: bool = False) -> tuple[tuple[float, float], tuple[float, float]]:
    """((min w, min h), (max w, max h)) of a plot's view."""
    if box.curve:
        top = (UNBOUNDED, UNBOUNDED) if curves_alone else CURVE_MAX
        return CURVE_MIN, top
    lo_w = min(box.cols * CAP, max(MIN_VIEW, min(box.cols * MIN_CELL, MIN_VIEW_LARGE)))
    lo_h = min(box.rows * CAP, max(MIN_VIEW, min(box.rows * MIN_CELL, MIN_VIEW_LARGE)))
    return (lo_w, lo_h), (box.cols * CAP, box.rows * CAP)


def share(total: float, lows: list[float], highs: list[float], bases: list[float], weights: list[float]) -> list[float]:
    """Sizes of the lines of one direction: each ``clamp(base + λ·weight, low, high)``, with λ chosen
    so that they add up to ``total`` (all at ``low`` when that is already too much, all at ``high``
    when even that leaves room)."""
    n = len(lows)
    highs = [max(h, lo) for h, lo in zip(highs, lows)]
    if not n:
        return []
    if sum(lows) >= total:
        return list(lows)
    if sum(highs) <= total:
        return list(highs)

    def sizes(lam: float) -> list[float]:
        return [min(hi, max(lo, b + lam * w)) for lo, hi, b, w in zip(lows, highs, bases, weights)]

    low, high = 0.0, 1.0
    while sum(sizes(high)) < total and high < 1e9:
        high *= 2
    for _ in range(60):
        mid = (low + high) / 2
        if sum(sizes(mid)) < total:
            low = mid
        else:
            high = mid
    return sizes(low)


def _lines(boxes: list[Box], count: int, horizontal: bool, lims, caps, spacing: float):
    """(lows, highs, bases, weights) of the grid lines of one direction from the plots on them.
    A plot over several lines needs its minimum from them together (a share on each); it sets
    their cap and their share of the room only where no plot lies on that line alone."""
    lows, highs, bases, weights = [0.0] * count, [0.0] * count, [0.0] * count, [0.0] * count
    alone = [False] * count
    for box in boxes:
        start, span = (box.col, box.colspan) if horizontal else (box.row, box.rowspan)
        if span == 1 and start < count:
            alone[start] = True
    for box, (lo, hi), cap in zip(boxes, lims, caps):
        start, span = (box.col, box.colspan) if horizontal else (box.row, box.rowspan)
        decor = box.decor_w if horizontal else box.decor_h
        cells = (CURVE_CELLS if box.curve else (box.cols if horizontal else box.rows))
        k = 0 if horizontal else 1
        low = decor + lo[k]
        if horizontal:
            low = max(low, box.min_w)
        high = max(low, decor + min(hi[k], cap))
        gaps = spacing * (span - 1)
        for i in range(start, min(start + span, count)):
            lows[i] = max(lows[i], (low - gaps) / span)
            if span == 1 or not alone[i]:
                highs[i] = max(highs[i], (high - gaps) / span)
                bases[i] = max(bases[i], (decor - gaps) / span)
                weights[i] = max(weights[i], cells ** WEIGHT_POWER / span)
    return lows, highs, bases, weights


@dataclass
class Packing:
    placed: list[Placed]      # per box
    widths: list[float]       # px of each grid column
    heights: list[float]      # px of each grid row
    need_w: float             # the least width and height the grid needs (gaps included)
    need_h: float


def fit_lines(boxes: list[Box], sizes: list[float], count: int, horizontal: bool, spacing: float) -> list[float]:
    """The grid lines of one direction just large enough for the plots drawn on them."""
    lines = [0.0] * count
    spanning = []
    for box, size in zip(boxes, sizes):
        start, span = (box.col, box.colspan) if horizontal else (box.row, box.rowspan)
        if span == 1:
            lines[start] = max(lines[start], size)
        else:
            spanning.append((start, span, size))
    for start, span, size in sorted(spanning, key=lambda s: s[1]):
        have = sum(lines[start:start + span]) + spacing * (span - 1)
        if size > have:
            for i in range(start, start + span):
                lines[i] += (size - have) / span
    return lines


def pack(boxes: list[Box], width: float, height: float, spacing_w: float, spacing_h: float) -> Packing:
    """Each plot's view size for a grid of ``width``×``height`` px (gaps between lines included),
    the grid's line sizes, and the least height and width the grid needs (more than ``height``:
    the panel scrolls)."""
    if not boxes:
        return Packing([], [], [], 0.0, 0.0)
    n_rows = max(b.row + b.rowspan for b in boxes)
    n_cols = max(b.col + b.colspan for b in boxes)
    alone = all(b.curve for b in boxes)
    lims = [view_limits(b, alone) for b in boxes]
    room_w = width - spacing_w * (n_cols - 1)
    room_h = height - spacing_h * (n_rows - 1)
    caps_w = [hi[0] for _, hi in lims]
    caps_h = [hi[1] for _, hi in lims]
    placed: list[Placed] = []
    need_w = need_h = 0.0
    for _ in range(5):   # the aspect rule and the sharing settle in a few rounds
        cols = _lines(boxes, n_cols, True, lims, caps_w, spacing_w)
        rows = _lines(boxes, n_rows, False, lims, caps_h, spacing_h)
        need_w, need_h = sum(cols[0]), sum(rows[0])
        widths = share(room_w, *cols)
        heights = share(room_h, *rows)
        placed = []
        new_w, new_h = [], []
        for box, (lo, hi) in zip(boxes, lims):
            area_w = sum(widths[box.col:box.col + box.colspan]) + spacing_w * (box.colspan - 1) - box.decor_w
            area_h = sum(heights[box.row:box.row + box.rowspan]) + spacing_h * (box.rowspan - 1) - box.decor_h
            area_w = min(max(area_w, lo[0]), hi[0])
            area_h = min(max(area_h, lo[1]), hi[1])
            if box.curve:
                placed.append(Placed(area_w, area_h, 0.0, 0.0))
                new_w.append(hi[0])
                new_h.append(hi[1])
                continue
            cw, ch = area_w / box.cols, area_h / box.rows
            cw, ch = min(cw, ASPECT * ch), min(ch, ASPECT * cw)
            placed.append(Placed(cw * box.cols, ch * box.rows, cw, ch))
            # what this plot could use next round: as much as the aspect rule allows given the other side
            new_w.append(min(hi[0], box.cols * min(CAP, ASPECT * area_h / box.rows)))
            new_h.append(min(hi[1], box.rows * min(CAP, ASPECT * area_w / box.cols)))
        if new_w == caps_w and new_h == caps_h:
            break
        caps_w, caps_h = new_w, new_h
    widths = fit_lines(boxes, [max(b.min_w, b.decor_w + p.view_w) for b, p in zip(boxes, placed)], n_cols, True,
                       spacing_w)
    heights = fit_lines(boxes, [b.decor_h + p.view_h for b, p in zip(boxes, placed)], n_rows, False, spacing_h)
    return Packing(placed, widths, heights, need_w + spacing_w * (n_cols - 1), need_h + spacing_h * (n_rows - 1))
