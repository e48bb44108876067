"""Captions for the documentation screenshots: what runs at each stop and what to look at.

Plain text with a little Markdown (``code``). One paragraph per phase, a
template for the GRU and backward timesteps, and one per panel image. The
screenshot generator (``screenshots.py``) writes them into ``index.md``.
"""
from __future__ import annotations

from ...core.phases import PHASES, Step, phase_fact

START = (
    "Nothing has run yet. The timeline at the top lists the phases of one training iteration, with one cell "
    "per timestep in the GRU and backward phases. The network diagram on the left is greyed out, and the "
    "panels say \"not computed yet\" instead of showing zeros: an array exists only once the step that "
    "computes it has run. The Equation panel lists the equations of one GRU timestep that the walk fills "
    "with numbers."
)

GRU_TIMESTEP = (
    "GRU, timestep t = {t} (t runs from 0 to {last_t}). The cell reads x_{t}, the input at this position, and "
    "{prev_text}. x2g and h2g each give three pre-activations (rows z, r and n of their weights); "
    "z = σ(zx + zh) is the update gate, r = σ(rx + rh) the reset gate, n = tanh(nx + r ⊙ nh) the candidate, "
    "and h_{t} = (1 − z) ⊙ n + z ⊙ h_{prev} keeps a fraction z of the old state. In the GRU cell panel every "
    "heatmap holds this one timestep for all batch rows (b) and hidden units (j), with the weights on the "
    "right; the timeline marks the running timestep, and the Equation panel works the numbers out for one row "
    "and unit.{last}"
)
GRU_PREVIOUS = "h_{prev}, the hidden state the previous timestep produced"
GRU_FIRST = "the initial hidden state h_(−1) = 0, so the h2g terms are just h2g's bias"
GRU_LAST = " After this timestep every hidden state of the sequence exists."

BACKWARD_TIMESTEP = (
    "Backward, timestep t = {t} (time runs backwards, from t = {last_t} down to 0). The gradient reaching h_{t} "
    "is what comes from this position's prediction through the head{future}. It then splits into the gradients "
    "of z, r and n and of the pre-activations, and from those into the weights. In the Gradients panel "
    "dL/dh_t fills in from the right, the curve next to it shows its size per timestep on a log scale (a "
    "steady fall towards small t is a vanishing gradient), and the parameter gradients are sums over the "
    "timesteps done so far.{done}"
)
BACKWARD_FUTURE = " plus what comes from the future through h_{next}"
BACKWARD_NO_FUTURE = "; at the last timestep there is no future, so that is all"
BACKWARD_DONE = " With t = 0 done, every gradient is complete."

# Panel images: one paragraph each (the generator appends where the cursor was).
PANEL_CAPTIONS: dict[str, str] = {
    "network": (
        "The network diagram: the model's blocks from the tokens at the top to the loss at the bottom, with "
        "the GRU cell's gates inside its box. Blocks that have run are coloured, the running one is "
        "highlighted, and during back-propagation the gradient lane on the right shows how far the gradient "
        "has travelled back. Clicking a block raises its panel."
    ),
    "tokenizer": (
        "The tokenizer: the merges in the order they were learned, the vocabulary with each token's count, and "
        "the encoded token stream with the tokens of the current batch marked."
    ),
    "equation": (
        "The Equation panel: the equations of the current step with the numbers of one batch row b and one "
        "hidden unit j filled in (both chosen at the top). The line computed last is marked."
    ),
    "input": (
        "The Input panel: the embedded tokens, the input dropout mask and the masked input x of the selected "
        "batch row (columns are timesteps), above the embedding table `wte.weight` with the rows of the row's "
        "tokens outlined."
    ),
    "cell": (
        "The GRU cell panel: one timestep for all batch rows. Left, the pre-activations from the input (x2g); "
        "middle, those from the previous hidden state (h2g) and h_(t−1) itself; right of them the gates z and r, "
        "the candidate n and the new h; on the far right the two weight matrices with their z | r | n blocks."
    ),
    "time": (
        "The Over time panel: the hidden state and the gates of the selected batch row over all timesteps, "
        "one column per input token. Columns fill in as the GRU phase steps forward."
    ),
    "output": (
        "The Output panel: the head's input h ⊙ mask, the loss at every position, and the logits and "
        "probabilities over the whole vocabulary for the selected batch row (target tokens outlined), next to "
        "the head's weights `lm_head.weight`."
    ),
    "gradients": (
        "The Gradients panel: dL/dh_t through time with its size per timestep (log scale), and the gradient of "
        "every parameter. Values of 10⁻⁸ and below are float32 rounding noise around zero."
    ),
    "update": (
        "The Update panel for the chosen parameter: its values before the step, its gradient, the step "
        "−lr · grad and its values after. Before the update phase the step is a preview that follows the "
        "learning rate."
    ),
    "params": (
        "The Parameters panel: every weight of the model as it stands at the cursor, after the update once "
        "that phase has run. Double-clicking a cell edits that weight."
    ),
    "training": (
        "The Training panel after a short run of {n} iterations (each: forward, backward, update, then the next "
        "batch). The blue curve is each batch's loss before its update, the red one the same batch after it: "
        "the gap is what one step gains on the batch it saw, and the trend of the blue curve is what carries "
        "over to new batches."
    ),
}


def _sub(index: int | str) -> str:
    return f"{index}" if isinstance(index, int) and index >= 0 else f"({index})"


def stop_title(step: Step | None, cell: str = "gru") -> str:
    """Heading of one walk-through image: 'Start', 'Embed', 'GRU, t = 3'."""
    if step is None:
        return "Start"
    title = phase_fact(step.phase, "title", cell)
    return f"{title}, t = {step.t}" if step.t is not None else title


def stop_caption(step: Step | None, T: int, cell: str = "gru") -> str:
    """The caption of the window at a stop of the walk-through."""
    if step is None:
        return START
    if step.phase not in PHASES:
        raise ValueError(f"unknown phase {step.phase!r}")
    if step.phase == "cell" and step.t is not None:
        t = step.t
        prev = _sub(t - 1) if t > 0 else "(−1)"
        return GRU_TIMESTEP.format(t=t, last_t=T - 1, prev=prev,
                                   prev_text=GRU_PREVIOUS.format(prev=prev) if t > 0 else GRU_FIRST,
                                   last=GRU_LAST if t == T - 1 else "")
    if step.phase == "backward" and step.t is not None:
        t = step.t
        future = BACKWARD_NO_FUTURE if t == T - 1 else BACKWARD_FUTURE.format(next=t + 1)
        return BACKWARD_TIMESTEP.format(t=t, last_t=T - 1, future=future, done=BACKWARD_DONE if t == 0 else "")
    return phase_fact(step.phase, "caption", cell)


def panel_caption(key: str, training_iterations: int = 0) -> str:
    return PANEL_CAPTIONS[key].format(n=training_iterations)
