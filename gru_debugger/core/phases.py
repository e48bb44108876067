"""The phases of one training iteration and the steps a cursor can stop at.

The cursor is an index into :func:`build_steps` (``-1``: nothing has run yet)
and always names the last step that has run.
"""
from __future__ import annotations

from dataclasses import dataclass

PHASES: tuple[str, ...] = (
    "tokenize",      # train the BPE tokenizer, encode the corpus
    "batch",         # cut x and y (B, T) from the token stream
    "embed",         # look up wte rows: (B, T, E)
    "dropout_in",    # multiply by the sampled input mask
    "gru",           # one timestep per step, gate sub-steps with step-into
    "stack",         # collect h_0..h_{T-1} into (B, T, H)
    "dropout_out",   # multiply by the sampled output mask
    "head",          # logits = h @ lm_head.weight^T: (B, T, V)
    "loss",          # softmax + cross-entropy against y
    "zero_grad",     # clear every parameter's gradient
    "backward",      # back-propagation through time, t = T-1 down to 0
    "update",        # SGD: p -= lr * grad
    "forward_after", # the same batch through the updated weights
)

PHASE_TITLES: dict[str, str] = {
    "tokenize": "Tokenize",
    "batch": "Batch",
    "embed": "Embed",
    "dropout_in": "Dropout (input)",
    "gru": "GRU",
    "stack": "Stack",
    "dropout_out": "Dropout (output)",
    "head": "Head (logits)",
    "loss": "Loss",
    "zero_grad": "Zero grad",
    "backward": "Backward",
    "update": "Update",
    "forward_after": "Forward after",
}

# Sub-steps of one GRU timestep, in the order they are computed.
GATE_SUBSTEPS: tuple[str, ...] = ("x2g", "h2g", "z", "r", "n", "h")


@dataclass(frozen=True)
class Step:
    phase: str
    t: int | None = None    # timestep, in the gru and backward phases
    sub: str | None = None  # gate sub-step, in the gru phase

    @property
    def label(self) -> str:
        text = PHASE_TITLES[self.phase]
        if self.t is not None:
            text += f" t={self.t}"
        if self.sub is not None and self.sub != "h":
            text += f" ({self.sub})"
        return text


def build_steps(T: int) -> tuple[Step, ...]:
    steps: list[Step] = []
    for phase in PHASES:
        if phase == "gru":
            steps.extend(Step("gru", t, sub) for t in range(T) for sub in GATE_SUBSTEPS)
        elif phase == "backward":
            steps.extend(Step("backward", t) for t in reversed(range(T)))
        else:
            steps.append(Step(phase))
    return tuple(steps)


def is_coarse(step: Step) -> bool:
    """Steps that a plain Step (F10) stops at: whole timesteps and phases."""
    return step.sub is None or step.sub == GATE_SUBSTEPS[-1]


def find_step(steps: tuple[Step, ...], phase: str, t: int | None = None) -> int:
    """Index of the first step that completes ``phase`` (or its timestep ``t``)."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; phases are: {', '.join(PHASES)}")
    for i, step in enumerate(steps):
        if step.phase != phase or not is_coarse(step):
            continue
        if t is None or step.t == t:
            return i
    raise ValueError(f"phase {phase} has no timestep {t!r}")


def map_step(step: Step, steps: tuple[Step, ...]) -> int:
    """Where ``step`` lands in another step list (after T changed): t is clamped."""
    if step.t is None:
        return steps.index(step)
    last_t = max(s.t for s in steps if s.phase == step.phase)
    return steps.index(Step(step.phase, min(step.t, last_t), step.sub))
