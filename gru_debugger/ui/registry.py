"""The one list of the window's panels.

Docks, the View menu, follow-the-cursor (with each phase's ``panel`` in
``core.phases.PHASE_FACTS``), File → Export View, the screenshot
generator's panel images and the diagram's click targets all derive from
:data:`PANELS`. Adding a panel is one entry here (and its module).
No widgets are built on import: ``make`` and ``specs`` are called by the window.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..core.model.cells import get_cell
from ..core.model.phases import Step
from .panels import cell as cell_panel
from .panels import compare, gradients, input as input_panel, output, params, time as time_panel, update
from .panels.spec_helpers import batch_row_caption

# Where a dock goes: the top strip, the left column, the big tab group in the
# middle, the equation column on the right, or the editing tab group under it.
TOP, LEFT, MAIN, SIDE, EDIT = "top", "left", "main", "side", "edit"


@dataclass(frozen=True)
class Shot:
    """A panel image of the walk-through: file stem, heading, caption and where the cursor stands."""
    stem: str
    heading: str
    caption: str
    where: Callable[[int], Step | None]   # T -> step (None: after the short training run)


@dataclass(frozen=True)
class PanelSpec:
    key: str
    title: str                                   # "{cell}" stands for the cell's title
    area: str
    specs: Callable[[str], Sequence[Any]] | None = None   # tensor panels: heatmap specs for a cell name
    intro: Callable[[str], str] | str = ""
    caption: Callable[..., str] | None = None    # bold line above the heatmaps (snapshot, view state)
    header: str | None = None                    # "update": the parameter chooser
    make: str | None = None                      # other panels: the window's factory method
    blocks: tuple[str, ...] = ()                 # diagram blocks whose click shows this panel
    shot: Shot | None = None
    notice: Callable[..., Any] | None = None     # tensor panels: snapshot -> (text, fix or None) or None

    def title_for(self, cell: str) -> str:
        return self.title.format(cell=get_cell(cell).title)

    def intro_for(self, cell: str) -> str:
        return self.intro(cell) if callable(self.intro) else self.intro

    @property
    def tensor(self) -> bool:
        return self.specs is not None


def _mid(T: int) -> int:
    return max(0, T // 2 - 1)


def _fixed(specs: Sequence[Any]) -> Callable[[str], Sequence[Any]]:
    return lambda cell: specs


PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("timeline", "Timeline", TOP, make="make_timeline"),
    PanelSpec("diagram", "Network", LEFT, make="make_diagram", shot=Shot(
        "panel-network", "Network diagram",
        "The network diagram: the model's blocks from the tokens at the top to the loss at the bottom, with the "
        "cell's gates inside its box. Blocks that have run are coloured, the running one is highlighted, and "
        "during back-propagation the gradient lane on the right shows how far the gradient has travelled back. "
        "Clicking a block raises its panel.", lambda T: Step("backward", _mid(T)))),
    PanelSpec("input", "Input", MAIN, _fixed(input_panel.INPUT_SPECS), input_panel.INTRO, batch_row_caption,
              blocks=("embed", "dropout_in"), shot=Shot(
                  "panel-input", "Input",
                  "The Input panel: the embedded tokens, the input dropout mask and the masked input x of the "
                  "selected batch row (columns are timesteps), above the embedding table `wte.weight` with the rows "
                  "of the row's tokens outlined.", lambda T: Step("dropout_in"))),
    PanelSpec("cell", "{cell} cell", MAIN, cell_panel.cell_specs, cell_panel.intro, cell_panel.caption,
              blocks=("cell", "stack"), shot=Shot(
                  "panel-cell", "Cell",
                  "The cell panel: one timestep for all batch rows. Left, the pre-activations from the input "
                  "(x2g), one row per block of its rows; middle, those from the previous hidden state (h2g); right, "
                  "the gates they make, then the state the timestep starts from and ends with; on the far right the "
                  "two weight matrices with their blocks separated.", lambda T: Step("cell", _mid(T)))),
    PanelSpec("time", "Over time", MAIN, time_panel.time_specs, time_panel.INTRO, batch_row_caption, shot=Shot(
        "panel-over-time", "Over time",
        "The Over time panel: the state and the gates of the selected batch row over all timesteps, one column "
        "per input token. Columns fill in as the cell phase steps forward.", lambda T: Step("stack"))),
    PanelSpec("output", "Output", MAIN, _fixed(output.OUTPUT_SPECS), output.INTRO, batch_row_caption,
              blocks=("dropout_out", "head", "loss", "forward_after"), shot=Shot(
                  "panel-output", "Output",
                  "The Output panel: the head's input h ⊙ mask, the loss at every position, and the logits and "
                  "probabilities over the whole vocabulary for the selected batch row (target tokens outlined), "
                  "next to the head's weights `lm_head.weight`.", lambda T: Step("loss"))),
    PanelSpec("gradients", "Gradients", MAIN, _fixed(gradients.GRADIENT_SPECS), gradients.INTRO, batch_row_caption,
              blocks=("gradients",), shot=Shot(
                  "panel-gradients", "Gradients",
                  "The Gradients panel: dL/dh_t through time, its size per timestep on a log scale (times T, the "
                  "sum of the positions' losses) next to the size of the last position's gradient alone, and the "
                  "gradient of every parameter.",
                  lambda T: Step("backward", 0)), notice=gradients.notice),
    PanelSpec("update", "Update", MAIN, _fixed(update.UPDATE_SPECS), update.INTRO, header="update",
              blocks=("update",), shot=Shot(
                  "panel-update", "Update",
                  "The Update panel for the chosen parameter: its values before the step, its gradient, the step "
                  "−lr · grad and its values after. Before the update phase the step is a preview that follows the "
                  "learning rate.", lambda T: Step("update")), notice=update.notice),
    PanelSpec("params", "Parameters", MAIN, _fixed(params.PARAM_SPECS), params.INTRO, shot=Shot(
        "panel-parameters", "Parameters",
        "The Parameters panel: every weight of the model as it stands at the cursor, after the update once that "
        "phase has run. Double-clicking a cell edits that weight.", lambda T: Step("forward_after"))),
    PanelSpec("compare", "Compare cells", MAIN, _fixed(compare.SPECS), compare.INTRO, compare.caption,
              notice=compare.notice, shot=Shot(
        "panel-compare", "Compare cells",
        "The Compare cells panel: the same batch through the GRU, the LSTM and the plain RNN. The left plot is the "
        "size of the last position's gradient at every earlier timestep, with respect to what carries each cell's "
        "memory (h, and the LSTM's cell state c, dashed): the measure that shows a vanishing or exploding "
        "gradient.", lambda T: Step("forward_after"))),
    PanelSpec("tokenizer", "Tokenizer", MAIN, make="make_tokenizer", blocks=("tokens",), shot=Shot(
        "panel-tokenizer", "Tokenizer",
        "The tokenizer: the merges in the order they were learned, the vocabulary with each token's count, and "
        "the encoded token stream with the tokens of the current batch marked.", lambda T: Step("batch"))),
    PanelSpec("training", "Training", MAIN, make="make_training", shot=Shot(
        "panel-training", "Training",
        "The Training panel after a short run of {n} iterations (each: forward, backward, update, then the next "
        "batch). The blue curve is each batch's loss before its update, the red one the same batch after it, "
        "with the same dropout masks: the gap is what one step gains on the batch it saw (fresh masks would add "
        "the change of dropout noise to it), and the trend of the blue curve is what carries over to new "
        "batches.", lambda T: None)),
    PanelSpec("equations", "Equation", SIDE, make="make_equations", shot=Shot(
        "panel-equation", "Equation",
        "The Equation panel: the equations of the current step with the numbers of one batch row b and one hidden "
        "unit j filled in (both chosen at the top). The line computed last is marked.",
        lambda T: Step("cell", min(1, T - 1)))),
    PanelSpec("hyper", "Hyperparameters", EDIT, make="make_hyper"),
    PanelSpec("inputs", "Inputs", EDIT, make="make_inputs"),
    PanelSpec("init", "Initialisation", EDIT, make="make_init"),
    PanelSpec("history", "History", EDIT, make="make_history"),
)

BY_KEY: dict[str, PanelSpec] = {p.key: p for p in PANELS}

_WEIGHTS = ("wte.weight", "x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias", "lm_head.weight")
# Follow the Cursor, for edits (ui/edit_follow.py): the settings (Config fields) and parameters each
# tensor panel shows, or shows the effect of. An edit brings up a panel that shows what it changed.
SHOWS: dict[str, tuple[str, ...]] = {
    "input": ("wte.weight", "batch_size", "context_length", "position", "dropout", "train_mode"),
    "cell": ("x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias", "cell", "hidden_size", "n_embd"),
    "output": ("lm_head.weight", "dropout", "train_mode"),
    "update": ("learning_rate",) + _WEIGHTS,
    "params": _WEIGHTS + ("init", "seed", "dtype", "n_embd", "hidden_size"),
    "tokenizer": ("corpus", "num_merges", "lowercase"),
}


def panel(key: str) -> PanelSpec:
    return BY_KEY[key]


def main_tab_keys() -> tuple[str, ...]:
    """The big views in the middle tab group (File → Export View looks there)."""
    return tuple(p.key for p in PANELS if p.area == MAIN)


def diagram_targets() -> dict[str, str]:
    """Diagram block -> the panel a click on it shows."""
    return {block: p.key for p in PANELS for block in p.blocks}


def shots() -> tuple[PanelSpec, ...]:
    return tuple(p for p in PANELS if p.shot is not None)
