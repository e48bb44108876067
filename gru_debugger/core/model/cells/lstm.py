"""The long short-term memory cell, as PyTorch's ``nn.LSTM`` computes it.

Rows of x2g and h2g: i | f | g | o, the order ``nn.LSTM`` uses. Besides the
hidden state h the cell carries a cell state c; both start at zero.
"""
from __future__ import annotations

from typing import Mapping

import torch

from .base import Cell


class LSTMCell(Cell):
    def step(self, gx: torch.Tensor, gh: torch.Tensor, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        pre = gx + gh                                    # (B, 4H)
        ip, fp, gp, op = pre.chunk(4, dim=-1)            # (B, H) each
        i = torch.sigmoid(ip)                            # input gate
        f = torch.sigmoid(fp)                            # forget gate
        g = torch.tanh(gp)                               # candidate cell values
        o = torch.sigmoid(op)                            # output gate
        c = f * state["c"] + i * g                       # (B, H)
        h = o * torch.tanh(c)                            # (B, H)
        return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}


CELL = LSTMCell(
    name="lstm", title="LSTM", long_title="long short-term memory",
    blocks=("i", "f", "g", "o"), gates=("i", "f", "g", "o", "c", "h"), state=("h", "c"),
    substeps=("x2g", "h2g", "i", "f", "g", "o", "c", "h"), torch_block_order=("i", "f", "g", "o"), keep_gate="f",
    equations=(
        "ix, fx, g_x, ox = x2g(x_t)   ih, fh, g_h, oh = h2g(h_{t-1})",
        "i = σ(ix + ih)               input gate",
        "f = σ(fx + fh)               forget gate",
        "g = tanh(g_x + g_h)          candidate",
        "o = σ(ox + oh)               output gate",
        "c_t = f ⊙ c_{t−1} + i ⊙ g",
        "h_t = o ⊙ tanh(c_t)",
    ),
)
