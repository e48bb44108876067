"""Where the network diagram's blocks and the cell's gate boxes go (no Qt).

Plain arithmetic on sizes, so it can be tested alone; the widget turns the
rectangles into QRectF and paints.
"""
from __future__ import annotations

from dataclasses import dataclass, field

MARGIN = 8
LANE_W = 30          # the gradient lane on the right
MAX_BLOCK_W = 250
GAP_MIN, GAP_NOMINAL, GAP_MAX = 8, 16, 24
CELL_MIN, CELL_NOMINAL, CELL_MAX = 136, 150, 190   # the cell block's height with three rows of boxes
ROW_EXTRA = 34                                     # per row of boxes beyond three (the LSTM's cell state)
LOOP_ROOM = 18                                     # the recurrence arrow inside the cell block

# Diagram blocks, top to bottom: the phases each one shows.
BLOCKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("tokens", ("tokenize", "batch")),
    ("embed", ("embed",)),
    ("dropout_in", ("dropout_in",)),
    ("cell", ("cell",)),
    ("stack", ("stack",)),
    ("dropout_out", ("dropout_out",)),
    ("head", ("head",)),
    ("loss", ("loss",)),
)
SIDE_LABELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("update", ("update",)),
    ("forward_after", ("forward_after",)),
)


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px <= self.right and self.y <= py <= self.bottom


@dataclass
class Layout:
    blocks: dict[str, Rect] = field(default_factory=dict)   # BLOCKS and SIDE_LABELS by name
    gates: dict[str, Rect] = field(default_factory=dict)    # boxes inside the cell block
    rows: tuple[tuple[str, ...], ...] = ()                  # the boxes, row by row
    cell_title: Rect = Rect(0, 0, 0, 0)
    lane_x: float = 0.0
    lane: Rect = Rect(0, 0, 0, 0)                           # clickable gradient lane
    loop_x: float = 0.0                                      # recurrence, inside the cell


def cell_height(n_rows: int, target: float) -> float:
    return target + max(0, n_rows - 3) * ROW_EXTRA


def layout(width: float, height: float, line: float, forward_w: float,
           rows: tuple[tuple[str, ...], ...]) -> Layout:
    """Blocks stacked top to bottom in ``width`` × ``height`` with text lines of
    height ``line``; ``forward_w`` is the width the forward-after label needs
    on one line; ``rows`` are the cell's boxes (first row: x2g, h2g)."""
    single, double = line + 10, 2 * line + 12
    block_w = min(MAX_BLOCK_W, width - 2 * MARGIN - LANE_W - 4)
    fixed = 6 * single + double                                   # the plain blocks and the loss
    fwd_h = single if forward_w <= block_w else double
    side = single + 6 + fwd_h                                     # update and forward-after labels
    n_gaps = len(BLOCKS)                                          # 7 arrows + the gap before the side labels
    room = height - 2 * MARGIN - fixed - side
    lo, mid, hi = (cell_height(len(rows), v) for v in (CELL_MIN, CELL_NOMINAL, CELL_MAX))
    gap, cell_h = float(GAP_MIN), lo
    for target_gap, target_cell in ((GAP_NOMINAL, mid), (GAP_MAX, hi)):
        need = n_gaps * (target_gap - gap) + (target_cell - cell_h)
        spare = room - n_gaps * gap - cell_h
        f = max(0.0, min(1.0, spare / need)) if need > 0 else 1.0
        gap, cell_h = gap + f * (target_gap - gap), cell_h + f * (target_cell - cell_h)
        if f < 1.0:
            break
    content_w = block_w + 4 + LANE_W
    left = max(MARGIN, (width - content_w) / 2)
    out = Layout(rows=rows)
    y = float(MARGIN)
    for name, _ in BLOCKS:
        h = cell_h if name == "cell" else (double if name == "loss" else single)
        out.blocks[name] = Rect(left, round(y), block_w, round(h))
        y += h + gap
    out.blocks["update"] = Rect(left, round(y), block_w, single)
    y += single + 6
    out.blocks["forward_after"] = Rect(left, round(y), block_w, fwd_h)
    out.lane_x = left + block_w + 4 + LANE_W / 2
    _layout_cell(out, line, rows)
    top, bottom = out.blocks["embed"].y, out.blocks["loss"].bottom
    out.lane = Rect(out.lane_x - LANE_W / 2, top, LANE_W, bottom - top)
    return out


def _layout_cell(out: Layout, line: float, rows: tuple[tuple[str, ...], ...]) -> None:
    """Rows of boxes inside the cell block, spread evenly; each row centred."""
    cell = out.blocks["cell"]
    out.cell_title = Rect(cell.x + 8, cell.y + 3, cell.w - 16, line + 4)
    inner_left, inner_right = cell.x + 10, cell.right - 10 - LOOP_ROOM
    inner_w = inner_right - inner_left
    out.loop_x = cell.right - 10 - LOOP_ROOM / 2
    top = out.cell_title.bottom + 6
    box_h = min(line + 6, 22.0)
    n = len(rows)
    rows_h = cell.bottom - 8 - top
    row_gap = max((rows_h - n * box_h) / max(n - 1, 1), 8.0)
    for r, names in enumerate(rows):
        y = top + r * (box_h + row_gap)
        k = len(names)
        box_w = min(inner_w / 2 - 8, 56.0) if k == 2 and r == 0 else min((inner_w - 16) / max(k, 3), 40.0)
        for i, name in enumerate(names):
            cx = inner_left + inner_w * (2 * i + 1) / (2 * k)
            out.gates[name] = Rect(cx - box_w / 2, y, box_w, box_h)


def hit(lay: Layout, px: float, py: float) -> str | None:
    """The block (or "gradients") under a point."""
    for name, rect in lay.blocks.items():
        if rect.contains(px, py):
            return name
    return "gradients" if lay.lane.contains(px, py) else None
