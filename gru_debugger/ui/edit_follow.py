"""Follow the Cursor, for edits: which panel shows what an edit changed.

A move brings up the panel of the current phase (``core.phases.PHASE_FACTS``).
An edit keeps the cursor where it is, so that rule would bring nothing up, or
worse, pull the user away from the panel they edited in (a weight set in
Parameters at the GRU phase raised the GRU cell panel). Instead an edit brings
up a panel that shows the edited thing or its effect (registry ``SHOWS``): the
one in front if it does, else the current phase's panel if it does, else the
panel that shows most of what changed (a new learning rate: the Update panel,
whose step follows it; new texts: the Tokenizer). No Qt here.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Iterable

import torch

from ..core.model.engine import ModelState
from .registry import PANELS, SHOWS


def changed_names(before: ModelState, after: ModelState) -> tuple[frozenset[str], frozenset[str]]:
    """(the Config fields, the parameters) that differ between two states of one iteration."""
    settings = frozenset(f.name for f in fields(before.config)
                         if getattr(before.config, f.name) != getattr(after.config, f.name))
    params = frozenset(name for name, a in after.params.items() if not _same(before.params.get(name), a))
    if before.position != after.position:
        settings |= {"position"}
    return settings, params


def _same(a: torch.Tensor | None, b: torch.Tensor) -> bool:
    return a is b or (a is not None and a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b)))


def edited_panel(before: ModelState, after: ModelState, front: Iterable[str], phase: str | None) -> str | None:
    """The key of the panel to bring up after an edit from ``before`` to ``after`` (None: leave the
    panels as they are). ``front``: the keys of the tensor panels on screen; ``phase``: the current
    phase's panel. The settings an edit changed decide; its weights only when no setting changed
    (a weight set by hand, drawn again, imported; a new seed or cell redraws them too)."""
    settings, params = changed_names(before, after)
    changed = settings or params
    if not changed:
        return None
    showing = [key for key in PANELS_IN_ORDER if set(SHOWS.get(key, ())) & changed]
    if not showing or any(key in showing for key in front):
        return None
    if phase in showing:
        return phase
    return max(showing, key=lambda key: len(set(SHOWS[key]) & changed))  # ties: the first in the registry


PANELS_IN_ORDER: tuple[str, ...] = tuple(p.key for p in PANELS)
