"""The phases of one training iteration and the steps a cursor can stop at.

The cursor is an index into :func:`build_steps` (``-1``: nothing has run yet)
and always names the last step that has run. The recurrent phase is called
``cell``; its title, sub-steps and texts come from the chosen cell.

:data:`PHASE_FACTS` is the one home of what a person reads about a phase:
its title, short title, help line, walk-through caption and the panel that
shows it. ``{cell}`` in a text stands for the cell's title ("GRU").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .cells import get_cell

PHASES: tuple[str, ...] = (
    "tokenize",      # train the BPE tokenizer, encode the corpus
    "batch",         # cut x and y (B, T) from the token stream
    "embed",         # look up wte rows: (B, T, E)
    "dropout_in",    # multiply by the sampled input mask
    "cell",          # the recurrent cell, one timestep per step, sub-steps with step-into
    "stack",         # collect h_0..h_{T-1} into (B, T, H)
    "dropout_out",   # multiply by the sampled output mask
    "head",          # logits = h @ lm_head.weight^T: (B, T, V)
    "loss",          # softmax + cross-entropy against y
    "zero_grad",     # clear every parameter's gradient
    "backward",      # back-propagation through time, t = T-1 down to 0
    "update",        # SGD: p -= lr * grad
    "forward_after", # the same batch through the updated weights
)
TIMESTEP_PHASES = ("cell", "backward")


@dataclass(frozen=True)
class PhaseFacts:
    title: str        # timeline chip, status bar, headings
    short: str        # when the title does not fit
    help: str         # one line: the timeline's tooltip
    caption: str      # walk-through paragraph (timestep phases: see the cell's UI module)
    panel: str        # key of the panel that shows this phase


PHASE_FACTS: dict[str, PhaseFacts] = {
    "tokenize": PhaseFacts(
        "Tokenize", "Tok", "Learns the byte-pair merges from the corpus and encodes it into token ids.",
        "The byte-pair tokenizer starts from single characters, learns its merges from the corpus (each merge "
        "joins the most frequent adjacent pair into a new token; a tie goes to the pair that occurs first) and "
        "encodes the corpus into one stream of token ids. The texts are joined without a separator for "
        "learning the merges, and each text is encoded after an end-of-text token. The Tokenizer panel lists "
        "the merges in the order they were learned, the vocabulary with how often each token occurs, and the "
        "token stream with the first batch marked. The vocabulary size V is the number of rows of the "
        "embedding table and of the output head.", "tokenizer"),
    "batch": PhaseFacts(
        "Batch", "Batch", "Cuts the inputs x and their next-token targets y (B×T) from the token stream.",
        "The batch cuts B rows of T consecutive tokens out of the stream: those are the inputs `x`. The targets "
        "`y` are the same rows shifted by one token, so at every position the model has to predict the token "
        "that comes next. In the Input panel the rows of `wte.weight` that the selected batch row will look up "
        "are outlined; everything that depends on the embedding is still \"not computed yet\".", "input"),
    "embed": PhaseFacts(
        "Embed", "Emb", "Looks up each token's row of wte, giving (B, T, E).",
        "Each input token id picks its row of the embedding table `wte.weight`, giving a (B, T, E) tensor. In "
        "the Input panel `embedded` shows the selected batch row with time running left to right: one column "
        "of E numbers per token, and the same token always gets the same column.", "input"),
    "dropout_in": PhaseFacts(
        "Dropout (input)", "Drop in", "Zeroes random inputs and scales the rest by 1/(1−p).",
        "In train mode every embedding number is set to zero with probability p and the others are multiplied "
        "by 1/(1 − p), which keeps the expected input unchanged. Compare the mask with `embedded`: the zeros in "
        "`x`, the {cell}'s input, are features it does not see in this iteration. Each number of the mask is "
        "drawn on its own (a fresh mask per timestep, as nn.Dropout draws it; the variational dropout "
        "the notebook's text mentions would reuse one mask over time). The masks follow from the seed, the iteration and the shape, so stepping back and forth "
        "never redraws them, and the next iteration draws new ones.", "input"),
    "cell": PhaseFacts(
        "{cell}", "{cell}", "Runs the {cell} cell one timestep at a time, for all batch rows at once.",
        "The {cell} cell runs once per timestep, for all batch rows at once, from the input x_t and the "
        "previous state. The state starts at zero in every batch: nothing is carried from one batch to the "
        "next, so back-propagation through time stops at t = 0 (truncated at the batch's T steps).", "cell"),
    "stack": PhaseFacts(
        "Stack", "Stack", "Collects h_0 … h_{{T−1}} into one (B, T, H) tensor.",
        "The hidden states h_0 … h_(T−1) are collected into one (B, T, H) tensor so that the head can score "
        "every position at once; nothing new is computed. The Over time panel shows the state and the gates "
        "for the selected batch row with time running left to right: the best place to see how the state "
        "develops along the sequence.", "time"),
    "dropout_out": PhaseFacts(
        "Dropout (output)", "Drop out", "Zeroes random hidden units and scales the rest by 1/(1−p).",
        "The stacked hidden states get a dropout mask of their own before they reach the head: a dropped unit "
        "contributes nothing to that position's prediction, and the survivors are scaled by 1/(1 − p). This "
        "dropout sits off the recurrent path: the next timestep always sees the undropped h. The first "
        "heatmap of the Output panel is the head's input, h ⊙ mask.", "output"),
    "head": PhaseFacts(
        "Head (logits)", "Head", "Maps every hidden state to vocabulary logits with lm_head, giving (B, T, V).",
        "The output head, a linear layer without bias, turns each hidden state into one score (logit) per "
        "vocabulary token: logits = h_out · lm_head.weightᵀ, a (B, T, V) tensor. In the Output panel each column "
        "is a timestep of the selected batch row and each row a candidate next token; the outlined cells mark "
        "the tokens that really come next, whose logits training should raise.", "output"),
    "loss": PhaseFacts(
        "Loss", "Loss", "Softmax of the logits and the mean cross-entropy against the targets y.",
        "Softmax turns each column of logits into probabilities, and the loss at a position is −log of the "
        "probability given to the true next token; the loss L is the mean over all B·T positions. A model that "
        "guesses uniformly scores ln V, so compare the loss per position with that value, and look at how much "
        "probability the outlined target cells get.", "output"),
    "zero_grad": PhaseFacts(
        "Zero grad", "Zero", "Clears every parameter's gradient before back-propagation.",
        "Every parameter's gradient is cleared before back-propagation, because PyTorch adds new gradients to "
        "whatever is stored; without this step the gradients of an earlier batch would be mixed in. No other "
        "number changes; the Gradients panel comes up, still waiting for the backward pass.", "gradients"),
    "backward": PhaseFacts(
        "Backward", "Back", "Back-propagates through time from t = T−1 down to 0, filling in the gradients.",
        "Back-propagation through time runs from the last timestep down to the first; the parameter gradients "
        "add up over the timesteps.", "gradients"),
    "update": PhaseFacts(
        "Update", "SGD", "SGD step: every parameter moves by −lr × its gradient.",
        "Stochastic gradient descent: every parameter p becomes p − lr · ∂L/∂p. The Update panel shows one "
        "parameter before the step, its gradient, the step −lr · grad and the result (the parameter is chosen "
        "at the top of the panel). Weights whose gradient is zero, such as the embedding rows of tokens that do "
        "not occur in the batch, do not move.", "update"),
    "forward_after": PhaseFacts(
        "Forward after", "Fwd", "Runs the same batch through the updated weights to get the new loss.",
        "The same batch goes through the updated weights and gives the loss after the step, twice: with "
        "freshly drawn dropout masks (as the notebook does) and with the first pass's masks (the step's effect "
        "alone). The Output panel now shows the second pass (fresh masks). A lower loss on the same batch "
        "shows the step fitted this batch; it says nothing yet about text the model has not seen.", "output"),
}


def phase_title(phase: str, cell: str = "gru") -> str:
    return PHASE_FACTS[phase].title.format(cell=get_cell(cell).title)


def phase_fact(phase: str, field_name: str, cell: str = "gru") -> str:
    """One fact of a phase with the cell's title filled in."""
    return getattr(PHASE_FACTS[phase], field_name).format(cell=get_cell(cell).title)


# Backwards-compatible view of the titles (the recurrent phase reads "GRU").
PHASE_TITLES: dict[str, str] = {p: phase_title(p) for p in PHASES}


@dataclass(frozen=True)
class Step:
    phase: str
    t: int | None = None    # timestep, in the cell and backward phases
    sub: str | None = None  # cell sub-step, in the cell phase
    cell_title: str = field(default="GRU", compare=False)

    @property
    def label(self) -> str:
        text = PHASE_FACTS[self.phase].title.format(cell=self.cell_title)
        if self.t is not None:
            text += f" t={self.t}"
        if self.sub is not None and self.sub != "h":
            text += f" ({self.sub})"
        return text


@lru_cache(maxsize=64)
def build_steps(T: int, cell: str = "gru") -> tuple[Step, ...]:
    c = get_cell(cell)
    steps: list[Step] = []
    for phase in PHASES:
        if phase == "cell":
            steps.extend(Step("cell", t, sub, c.title) for t in range(T) for sub in c.substeps)
        elif phase == "backward":
            steps.extend(Step("backward", t, None, c.title) for t in reversed(range(T)))
        else:
            steps.append(Step(phase, None, None, c.title))
    return tuple(steps)


def is_coarse(step: Step) -> bool:
    """Steps that a plain Step (F10) stops at: whole timesteps and phases
    (every cell's last sub-step is "h")."""
    return step.sub is None or step.sub == "h"


def step_target(steps: tuple[Step, ...], cursor: int) -> int:
    """Where a plain Step from ``cursor`` stops: the next coarse step (the last step at the end)."""
    i, last = cursor + 1, len(steps) - 1
    while i < last and not is_coarse(steps[i]):
        i += 1
    return i


def find_step(steps: tuple[Step, ...], phase: str, t: int | None = None) -> int:
    """Index of the first step that completes ``phase`` (or its timestep ``t``)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; phases are: {', '.join(PHASES)}")
    if t is not None and (isinstance(t, bool) or not isinstance(t, int)):
        raise ValueError(f"a timestep must be a whole number, got {t!r}")
    for i, step in enumerate(steps):
        if step.phase != phase or not is_coarse(step):
            continue
        if t is None or step.t == t:
            return i
    raise ValueError(f"phase {phase} has no timestep {t!r}")


def map_step(step: Step, steps: tuple[Step, ...]) -> int:
    """Where ``step`` lands in another step list (after T or the cell changed):
    t is clamped, a sub-step the new cell lacks becomes the whole timestep."""
    if step.t is None:
        return steps.index(step)
    last_t = max(s.t for s in steps if s.phase == step.phase)
    target = Step(step.phase, min(step.t, last_t), step.sub)
    if target in steps:
        return steps.index(target)
    return steps.index(Step(step.phase, target.t, "h"))
