"""Captions for the documentation screenshots: what runs at each stop and what to look at.

Plain text with a little Markdown (``code``). Phase captions come from the
phase facts (``core.phases.PHASE_FACTS``), timestep captions from the chosen
cell's UI module (``ui/cells``), panel captions from the panel registry.
The screenshot generator writes them into ``index.md``.
"""
from __future__ import annotations

import html
import re
from typing import Any

from ...core.model.cells import get_cell
from ...core.model.phases import PHASES, Step, phase_fact
from ..cells import cell_view
from ..registry import panel

START = (
    "Nothing has run yet. The timeline at the top lists the phases of one training iteration, with one cell "
    "per timestep in the {cell} and backward phases. The network diagram on the left is greyed out, and the "
    "panels say \"not computed yet\" instead of showing zeros: an array exists only once the step that "
    "computes it has run. The Equation panel lists the equations of one {cell} timestep that the walk fills "
    "with numbers."
)
CELL_PANEL_NOTE = (" In the cell panel every heatmap holds this one timestep for all batch rows (b) and hidden units "
                   "(j), with the weights on the right; the Equation panel works the numbers out for one row and "
                   "unit.")
BACKWARD_PANEL_NOTE = (" In the Gradients panel dL/dh_t fills in from the right and the parameter gradients are sums "
                       "over the timesteps done so far. Its curves show sizes per timestep on a log scale: T · dL/dh_t "
                       "(the gradient of the sum of the T positions' losses, so that both curves meet at t = T − 1) "
                       "gets a fresh term from every position's own prediction, so it does not show vanishing; the "
                       "gradient of the last position's loss alone does.")


def stop_title(step: Step | None, cell: str = "gru") -> str:
    """Heading of one walk-through image: 'Start', 'Embed', 'GRU, t = 3'."""
    if step is None:
        return "Start"
    title = phase_fact(step.phase, "title", cell)
    if step.sub is not None:
        view = cell_view(cell)
        return f"{title}, t = {step.t}, Step Into: {view.gate_names.get(step.sub, step.sub)} {step.sub}"
    return f"{title}, t = {step.t}" if step.t is not None else title


def plain(text: str) -> str:
    """Caption text from the equation panel's HTML: x<sub>t</sub> becomes x_t, h<sub>t−1</sub> h_(t−1),
    other tags go."""
    text = re.sub(r"<sub>(.*?)</sub>", lambda m: f"_{m[1]}" if len(m[1]) == 1 else f"_({m[1]})", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def substep_caption(step: Step, cell: str = "gru", s: Any = None, b: int = 0, j: int = 0) -> str:
    """What one Step Into sub-step computes, where it stands in its timestep and (with the snapshot ``s``
    at that stop) the numbers it computed for row b, unit j."""
    view = cell_view(cell)
    subs = get_cell(cell).substeps
    k = subs.index(step.sub)
    done = " and ".join(subs[:k]) if k < 3 else ", ".join(subs[:k - 1]) + f" and {subs[k - 1]}"
    formula = view.gate_titles.get(step.sub, step.sub)
    numbers = f" {plain(view.substep_facts(s, b, j, step.t, step.sub))}" if s is not None else ""
    return (f"A look inside timestep t = {step.t} with Step Into (F11), which stops after each part of the "
            f"timestep: sub-step {k + 1} of {len(subs)}. {done} have run; this stop computes `{formula}` for every "
            f"batch row and hidden unit, and {', '.join(subs[k + 1:])} are still not computed yet (dashed boxes in "
            f"the cell panel). {plain(view.substep_text.get(step.sub, ''))}{numbers}").rstrip()


def stop_caption(step: Step | None, T: int, cell: str = "gru", s: Any = None, b: int = 0, j: int = 0) -> str:
    """The caption of the window at a stop of the walk-through. A timestep's caption says what that
    timestep did with its numbers: ``s`` is the snapshot at the stop, (b, j) the Equation panel's row
    and unit."""
    view = cell_view(cell)
    if step is None:
        return START.format(cell=view.title)
    if step.phase not in PHASES:
        raise ValueError(f"unknown phase {step.phase!r}")
    if step.t is not None and step.sub in (None, "h"):
        here = None if s is None or s.step is None else (s.step.phase, s.step.t, s.config.cell)
        if here != (step.phase, step.t, cell):
            raise ValueError(f"the caption of {step.label} needs the snapshot at that step")
        if step.phase == "cell":
            return plain(view.timestep_caption(s, b, j)) + CELL_PANEL_NOTE
        return plain(view.backward_caption(s, b, j)) + BACKWARD_PANEL_NOTE
    if step.phase == "cell" and step.sub is not None:
        return substep_caption(step, cell, s, b, j)
    return phase_fact(step.phase, "caption", cell)


def panel_caption(key: str, training_iterations: int = 0) -> str:
    shot = panel(key).shot
    if shot is None:
        raise KeyError(f"panel {key!r} has no screenshot")
    return shot.caption.format(n=training_iterations)
