"""The gated recurrent unit, as PyTorch's ``nn.GRU`` computes it.

Rows of x2g and h2g: z | r | n (``nn.GRU`` stores r | z | n). The reset gate
multiplies h2g's candidate block *after* the matrix product, as PyTorch does:
n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). Some textbooks put r inside
(W_hn (r ⊙ h)); that variant gives other numbers.
"""
from __future__ import annotations

from typing import Mapping

import torch

from .base import Cell


class GRUCell(Cell):
    def step(self, gx: torch.Tensor, gh: torch.Tensor, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        zx, rx, nx = gx.chunk(3, dim=-1)                 # (B, H) each
        zh, rh, nh = gh.chunk(3, dim=-1)
        z = torch.sigmoid(zx + zh)                       # update gate
        r = torch.sigmoid(rx + rh)                       # reset gate
        n = torch.tanh(nx + r * nh)                      # candidate
        h = (1 - z) * n + z * state["h"]                 # (B, H)
        return {"z": z, "r": r, "n": n, "h": h}


CELL = GRUCell(
    name="gru", title="GRU", long_title="gated recurrent unit",
    blocks=("z", "r", "n"), gates=("z", "r", "n", "h"), state=("h",),
    substeps=("x2g", "h2g", "z", "r", "n", "h"), split_keys=True, torch_block_order=("r", "z", "n"),
    keep_gate="z",
    equations=(
        "zx, rx, nx = x2g(x_t)        zh, rh, nh = h2g(h_{t-1})",
        "z = σ(zx + zh)               update gate",
        "r = σ(rx + rh)               reset gate",
        "n = tanh(nx + r ⊙ nh)        candidate",
        "h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}",
    ),
)
