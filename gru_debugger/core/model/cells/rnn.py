"""The plain (Elman) recurrent cell, as PyTorch's ``nn.RNN`` with tanh computes it.

x2g and h2g have H rows each: h_t = tanh(x2g(x_t) + h2g(h_{t-1})).
"""
from __future__ import annotations

from typing import Mapping

import torch

from .base import Cell


class ElmanCell(Cell):
    def step(self, gx: torch.Tensor, gh: torch.Tensor, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {"h": torch.tanh(gx + gh)}                # (B, H)


CELL = ElmanCell(
    name="rnn", title="RNN", long_title="plain (Elman) recurrent network",
    blocks=("h",), gates=("h",), state=("h",), substeps=("x2g", "h2g", "h"), torch_block_order=("h",),
    equations=(
        "hx = x2g(x_t)                hh = h2g(h_{t-1})",
        "h_t = tanh(hx + hh)",
    ),
)
