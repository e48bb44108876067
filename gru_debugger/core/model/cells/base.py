"""What every recurrent cell declares, so the engine, phases, snapshot and
export can ask the chosen cell instead of knowing its facts.

A cell sees the two affine maps the model owns, ``gx = x2g(x_t)`` (B, nH)
and ``gh = h2g(h_{t-1})`` (B, nH), whose rows are split into the cell's
``blocks`` (H rows each), and turns them plus its previous state into the
values of one timestep.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import torch


@dataclass(frozen=True)
class Cell:
    name: str                        # config value: "gru", "lstm", "rnn"
    title: str                       # what a person reads: "GRU"
    long_title: str                  # "gated recurrent unit"
    blocks: tuple[str, ...]          # row blocks of x2g / h2g, in order
    gates: tuple[str, ...]           # per-timestep values recorded and exported, in computation order
    state: tuple[str, ...]           # carried from one timestep to the next; starts at zero
    substeps: tuple[str, ...]        # Step Into stops of one timestep; the last one is always "h"
    split_keys: bool = False         # also record "zx" … "nh" (block slices of gx, gh) by name
    equations: tuple[str, ...] = ()  # plain text, one line per equation, in computation order
    # ``blocks`` in the order PyTorch's own layer (nn.GRU, nn.LSTM, nn.RNN) stores its rows;
    # core/storage/weights_io converts with it. () if PyTorch has no such layer.
    torch_block_order: tuple[str, ...] = ()
    # The block whose gate keeps the memory from one timestep to the next (LSTM f, GRU z), or None:
    # the init scheme ``forget_bias`` sets its rows.
    keep_gate: str | None = None

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    def step(self, gx: torch.Tensor, gh: torch.Tensor, state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One timestep: every name of ``gates`` (which include the new state)."""
        raise NotImplementedError

    def block(self, values: torch.Tensor, name: str) -> torch.Tensor:
        """The H columns of a (…, nH) pre-activation that belong to block ``name``."""
        H = values.shape[-1] // self.n_blocks
        i = self.blocks.index(name)
        return values[..., i * H:(i + 1) * H]

    def keep_rows(self, hidden_size: int) -> slice | None:
        """The rows of x2g / h2g that belong to ``keep_gate`` (None without one)."""
        if self.keep_gate is None:
            return None
        i = self.blocks.index(self.keep_gate)
        return slice(i * hidden_size, (i + 1) * hidden_size)

    @property
    def split_names(self) -> tuple[str, ...]:
        """Names of the recorded block slices ("zx", "rx", …, "nh"), or ()."""
        if not self.split_keys:
            return ()
        return tuple(f"{b}{src}" for src in ("x", "h") for b in self.blocks)

    @property
    def writes(self) -> dict[str, str]:
        """Per-timestep array -> the sub-step that writes it."""
        out = {"gx": "x2g", "gh": "h2g"}
        for key in self.split_names:
            out[key] = "x2g" if key.endswith("x") else "h2g"
        out.update({g: g for g in self.gates})
        return out

    @property
    def grad_keys(self) -> tuple[str, ...]:
        """Per-timestep gradients recorded during backward."""
        return tuple(f"grad/{g}" for g in self.gates) + ("grad/gx", "grad/gh") + self.last_keys

    @property
    def last_keys(self) -> tuple[str, ...]:
        """Gradients of the last position's loss alone, per timestep: with respect to what carries
        memory (h, and the LSTM's c) and to gx (what reaches x2g at t). Their fall back in time is the
        long-range measure; the total gradients get a fresh term from every position's own loss."""
        return tuple(f"grad/{s}_last" for s in self.state) + ("grad/gx_last",)
