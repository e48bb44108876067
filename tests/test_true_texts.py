"""Every text a learner reads names the chosen cell, says true things, and a timestep's caption says
what that timestep did with its own numbers."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6 import QtGui, QtWidgets

from gru_debugger.core.model.cells import CELLS
from gru_debugger.core.base.config import Config
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.phases import PHASE_FACTS, PHASES, build_steps, phase_fact
from gru_debugger.ui.cells import VIEWS
from gru_debugger.ui.docs.captions import plain, stop_caption
from gru_debugger.ui.docs.screenshots import walk_steps
from gru_debugger.ui.registry import PANELS
from gru_debugger.ui.widgets.equation_format import fmt
from gru_debugger.ui.views.equation_pages import build_page

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "resources" / "examples"
RANDOM_INIT = str(EXAMPLES / "random-init.json")
# Texts that name every cell on purpose: the program's name, the import of PyTorch's layers.
ALLOWED = ("GRU Debugger", "nn.GRU/LSTM/RNN", "nn.GRU / nn.LSTM / nn.RNN")
# Parts of the window whose job is to name all three cells (Compare cells, the cell chooser, the examples).
ALL_CELLS_PANELS = ("compare",)


def _letters(cell: str) -> set[str]:
    c = CELLS[cell]
    return set(c.gates) | set(c.blocks)


def foreign_letters(cell: str) -> set[str]:
    """Gate letters of the other cells that the chosen cell does not have ("z", "r", "n" in an LSTM)."""
    others = set().union(*(_letters(n) for n in CELLS if n != cell))
    return others - _letters(cell) - {"x", "h"}


def _strip(text: str) -> str:
    text = re.sub(r"<[^>]+>", " ", text)
    for allowed in ALLOWED:
        text = text.replace(allowed, "")
    return text


def names_other_cell(text: str, cell: str) -> bool:
    upper = _strip(text)
    return any(re.search(rf"\b{CELLS[n].title}\b", upper) for n in CELLS if n != cell)


def letter_tokens(text: str) -> set[str]:
    """Single-letter words: the gate names a tooltip or a title lists."""
    return set(re.findall(r"(?<![\w.'/])([a-z])(?![\w'(])", _strip(text)))


def walk(ctl: Controller):
    """Every step of an iteration, Step Into by Step Into; yields the snapshot at each."""
    ctl.run_to_start()
    while ctl.can_step():
        ctl.step_into()
        yield ctl.snapshot()


def tensor_texts(snap, window) -> list[str]:
    """Titles of every heatmap and plot, the panels' captions and intros (for the panels that show one cell)."""
    cell = snap.config.cell
    texts = []
    for p in PANELS:
        if not p.tensor or p.key in ALL_CELLS_PANELS:
            continue
        texts += [p.title_for(cell), p.intro_for(cell)]
        if p.caption is not None:
            texts.append(p.caption(snap, window.view_state))
        for spec in p.specs(cell):
            data = spec.build(snap, window.view_state)
            texts.append(getattr(data, "title", "") or "")
    return texts


def widget_texts(window) -> list[str]:
    """Tooltips, status tips, labels, titles of the window's widgets and actions, outside the panels
    whose job is to name every cell."""
    skip = [window.panels[k] for k in ALL_CELLS_PANELS if k in window.panels]
    skip += [w for w in window.findChildren(QtWidgets.QComboBox) if "gru" in [w.itemData(i) for i in range(w.count())]
             or "GRU" in [w.itemText(i) for i in range(w.count())]]
    skip.append(window.examples_menu)

    def inside(obj) -> bool:
        while obj is not None:
            if any(obj is s for s in skip):
                return True
            obj = obj.parent()
        return False

    texts = []
    for action in window.findChildren(QtGui.QAction):
        if not inside(action):
            texts += [action.text(), action.toolTip(), action.statusTip()]
    for widget in window.findChildren(QtWidgets.QWidget):
        if inside(widget):
            continue
        texts += [widget.toolTip(), widget.windowTitle()]
        if isinstance(widget, QtWidgets.QLabel):
            texts.append(widget.text())
        if isinstance(widget, QtWidgets.QGroupBox):
            texts.append(widget.title())
    return texts


@pytest.mark.parametrize("cell", ["lstm", "rnn", "gru"])
def test_no_text_of_a_session_names_another_cell(qtbot, cell):
    from gru_debugger.ui.main_window import MainWindow

    ctl = Controller(load_config(RANDOM_INIT).with_changes(cell=cell))
    window = MainWindow(ctl, settings=None)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    T = ctl.config.context_length
    view = VIEWS[cell]
    found: list[tuple[str, str]] = []
    tips_and_titles: list[tuple[str, str]] = []

    def check(where: str, texts, letters: bool = False) -> None:
        for text in texts:
            if text and names_other_cell(text, cell):
                found.append((where, text))
            if text and letters:
                tips_and_titles.append((where, text))

    check("start", widget_texts(window), letters=False)
    check("start", [a.toolTip() for a in window.debug.actions.values()], letters=True)
    check("phase facts", [phase_fact(p, f, cell) for p in PHASES for f in PHASE_FACTS[p].__dataclass_fields__])
    check("cell texts", [view.block_help, view.panel_intro, view.backward_text, view.variant_note,
                         *view.substep_text.values(), *view.gate_titles.values()], letters=True)
    steps = {(s.phase, s.t): s for s in walk_steps(T, cell) if s is not None}
    for snap in walk(ctl):
        step = snap.step
        where = step.label
        for b, j in ((0, 0), (1, 1)):
            page = build_page(snap, b, j)
            check(where, [page.title, page.explanation] + [line.html for line in page.lines])
            check(where, [page.title] + [line.label for line in page.lines], letters=True)
        check(where, tensor_texts(snap, window), letters=True)
        check(where, [window.status.where.text(), window.status.batch.text(), window.status.loss.text()])
        if step.sub in (None, "h") and (step.phase, step.t) in steps:
            check(where, [stop_caption(steps[(step.phase, step.t)], T, cell, snap, 1, 0)])
    check("end", widget_texts(window))
    assert not found, found[:5]
    bad = [(where, text) for where, text in tips_and_titles if letter_tokens(text) & foreign_letters(cell)]
    assert not bad, bad[:5]
    # The Step Into tooltip lists exactly this cell's stops.
    tip = window.debug["step_into"].toolTip()
    assert ", ".join(CELLS[cell].substeps) in tip and CELLS[cell].title in tip


def test_the_step_tooltips_follow_a_cell_switch(qtbot):
    from gru_debugger.ui.main_window import MainWindow

    ctl = Controller(Config(seed=0))
    window = MainWindow(ctl, settings=None)
    qtbot.addWidget(window)
    assert "GRU" in window.debug["step"].toolTip() and "z, r, n" in window.debug["step_into"].toolTip()
    ctl.set_cell("lstm")
    tips = window.debug["step"].toolTip() + window.debug["step_into"].toolTip()
    assert "GRU" not in tips and "x2g, h2g, i, f, g, o, c, h" in tips and "LSTM" in tips
    assert "GRU" not in window.debug["step_into"].statusTip()


def test_letter_check_would_catch_the_old_tooltip():
    old = "Into a GRU timestep: x2g, h2g, z, r, n, h one by one"
    assert names_other_cell(old, "lstm") and letter_tokens(old) & foreign_letters("lstm") == {"z", "r", "n"}
    assert not names_other_cell("GRU Debugger sessions", "lstm")


# ---------------------------------------------------------------- captions from the numbers
INDEX = re.compile(r"(?<!\d)(?<!\d\.)\d+(?!\d|\.\d)")   # whole numbers, not the digits of a decimal


def masked(text: str) -> str:
    """The text with every whole number (timestep indices and counts, rows, units) replaced by '#'."""
    return INDEX.sub("#", text)


def walk_captions(config: Config) -> list[str]:
    """The caption of every stop of the walk-through, with the snapshot at that stop."""
    ctl = Controller(config)
    T, cell = config.context_length, config.cell
    out = []
    for step in walk_steps(T, cell):
        if step is None:
            out.append(stop_caption(None, T, cell))
            continue
        if step.sub is not None:
            ctl.run_to("cell", step.t - 1) if step.t else ctl.run_to("dropout_in")
            for _ in range(CELLS[cell].substeps.index(step.sub) + 1):
                ctl.step_into()
        else:
            ctl.run_to(step.phase, step.t)
        out.append(stop_caption(step, T, cell, ctl.snapshot(), 1, 1))
    return out


def step_helps(config: Config, b: int = 1, j: int = 1) -> list[str]:
    """The window's step help (the Equation panel's explanation) at every step of an iteration."""
    ctl = Controller(config)
    return [build_page(snap, b, j).explanation for snap in walk(ctl)]


def duplicates(texts: list[str]) -> list[str]:
    """Texts equal to another once masked, except a Step Into stop that says it repeats an earlier
    timestep's numbers (x2g on the same input gives the same numbers: checked where it is said)."""
    seen: dict[str, int] = {}
    for text in texts:
        if "These are the numbers of t = " not in text:
            seen[masked(text)] = seen.get(masked(text), 0) + 1
    return [t for t, n in seen.items() if n > 1]


def test_a_step_help_that_says_it_repeats_an_earlier_timestep_is_right():
    # one row, no dropout, 16 tokens: some token comes twice, so x2g sees the same input twice
    config = load_config(RANDOM_INIT).with_changes(batch_size=1, dropout=0.0, context_length=16)
    ctl = Controller(config)
    said, helps = 0, []
    for snap in walk(ctl):
        page = build_page(snap, 0, 1)
        helps.append(page.explanation)
        m = re.search(r"These are the numbers of t = (\d+) again", page.explanation)
        if m:
            said += 1
            k, t = int(m[1]), snap.step.t
            if snap.step.sub == "x2g":
                np.testing.assert_array_equal(snap.get("x_in")[:, k], snap.get("x_in")[:, t])
                np.testing.assert_allclose(snap.get("gx")[:, k], snap.get("gx")[:, t], rtol=1e-6, atol=1e-7)
            else:
                np.testing.assert_array_equal(snap.get("h")[:, k - 1], snap.get("h")[:, t - 1])
    assert said  # this batch repeats an input ...
    assert not duplicates(helps)  # ... and every other step help is its own


CONFIGS = {
    "gru": [RANDOM_INIT],
    "lstm": [str(EXAMPLES / "lstm.json"), RANDOM_INIT],
    "rnn": [str(EXAMPLES / "rnn-vanishing.json"), RANDOM_INIT],
}


@pytest.mark.parametrize("cell,path", [(c, p) for c, paths in CONFIGS.items() for p in paths])
def test_no_two_captions_or_step_helps_of_a_walk_are_equal_but_for_the_indices(cell, path):
    config = load_config(path).with_changes(cell=cell)
    captions = walk_captions(config)
    assert len(captions) == len(walk_steps(config.context_length, cell))
    assert not duplicates(captions), duplicates(captions)[:2]
    helps = step_helps(config)
    assert len(helps) == len(build_steps(config.context_length, cell))
    assert not duplicates(helps), duplicates(helps)[:2]


def test_the_masking_would_catch_the_old_captions():
    old = [f"GRU, timestep t = {t} of 0…7. The cell reads x_{t} and h_{t - 1}." for t in range(1, 7)]
    assert len({masked(c) for c in old}) == 1
    assert masked("z = 0.6130 at t = 3.") == "z = 0.6130 at t = #."


@pytest.mark.parametrize("cell", list(CELLS))
def test_the_notebook_walk_forward_captions_differ_and_round_off_is_never_quoted(cell):
    """The default config (constant weights): every gradient behind the head is round-off. Its forward
    captions still differ by their numbers; its backward captions say round-off and quote no digit of it."""
    config = Config(seed=0, cell=cell)
    captions = walk_captions(config)
    steps = walk_steps(config.context_length, cell)
    forward = [c for c, s in zip(captions, steps) if s is not None and s.phase == "cell"]
    assert not duplicates(forward), duplicates(forward)[:2]
    ctl = Controller(config)
    for t in range(config.context_length):
        ctl.run_to("backward", t)
        snap = ctl.snapshot()
        text = stop_caption(steps[[i for i, s in enumerate(steps) if s and (s.phase, s.t) == ("backward", t)][0]],
                            config.context_length, cell, snap, 1, 1)
        assert "round-off" in text
        noise = snap.get("grad/h")[:, t]
        assert np.abs(noise).max() > 0  # float32 does leave noise here ...
        for value in noise.ravel():
            assert value == 0 or fmt(value) not in text  # ... and no caption quotes it


def _config(cell: str) -> Config:
    return load_config(RANDOM_INIT).with_changes(cell=cell)


def _numbers(text: str) -> list[float]:
    return [float(x.replace("−", "-")) for x in re.findall(r"−?\d+\.\d+(?:e[+−-]?\d+)?", text)]


@pytest.mark.parametrize("cell", list(CELLS))
def test_a_timestep_caption_quotes_its_own_numbers(cell):
    config = _config(cell)
    ctl = Controller(config)
    t, b, j = 3, 1, 0
    ctl.run_to("cell", t)
    snap = ctl.snapshot()
    step = [s for s in walk_steps(8, cell) if s is not None and (s.phase, s.t) == ("cell", t)][0]
    text = stop_caption(step, 8, cell, snap, b, j)
    for gate in CELLS[cell].gates:
        assert fmt(snap.get(gate)[b, t, j]) in text, gate
    h = snap.get("h").astype(np.float64)
    assert fmt(abs(h[b, t, j] - h[b, t - 1, j])) in text
    key = "c" if cell == "lstm" else "h"
    state = snap.get(key).astype(np.float64)
    r, k = np.unravel_index(int(np.argmax(np.abs(state[:, t] - state[:, t - 1]))), state[:, t].shape)
    assert f"moved most at row {r}, unit {k}: by {fmt(abs(state[r, t, k] - state[r, t - 1, k]))}" in text
    assert "(t−1)" not in text and "t+1" not in text and "t + 1" not in text  # concrete indices only


@pytest.mark.parametrize("cell", list(CELLS))
def test_a_backward_caption_splits_dl_dh_into_own_loss_and_future_as_autograd_does(cell):
    """The own-loss part is checked against autograd in float64 with h as a leaf (no recurrence: what
    reaches h_t from position t's own loss alone); the future part is the rest of the recorded dL/dh_t."""
    config = _config(cell)
    ctl = Controller(config)
    t, b, j = 4, 1, 0
    ctl.run_to("backward", t)
    snap = ctl.snapshot()
    step = [s for s in walk_steps(8, cell) if s is not None and (s.phase, s.t) == ("backward", t)][0]
    text = stop_caption(step, 8, cell, snap, b, j)
    h = torch.tensor(snap.get("h"), dtype=torch.float64, requires_grad=True)
    mask = torch.tensor(snap.get("dropout_out_mask"), dtype=torch.float64)
    W = torch.tensor(snap.param("lm_head.weight"), dtype=torch.float64)
    y = torch.tensor(snap.get("y"), dtype=torch.long)
    logits = (h * mask) @ W.T
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    loss.backward()
    own = h.grad[:, t].numpy()
    total = snap.get("grad/h")[:, t].astype(np.float64)
    future = total - own
    m = re.search(r"∂L/∂h_4 = (\S+): (\S+) from this position's own loss .* and (\S+) from the future", text)
    assert m, text
    quoted = [float(v.replace("−", "-")) for v in m.groups()]
    np.testing.assert_allclose(quoted, [total[b, j], own[b, j], future[b, j]], atol=1.5e-4)
    norms = re.search(r"‖∂L/∂h_4‖ = (\S+): the own-loss part has norm (\S+), the part from the future (\S+)\.",
                      text)
    assert norms, text
    np.testing.assert_allclose([float(v.replace("−", "-")) for v in norms.groups()],
                               [np.linalg.norm(total), np.linalg.norm(own), np.linalg.norm(future)], atol=1.5e-4)


def test_the_lstm_says_the_next_timestep_gets_c_and_the_diag_f_path_is_only_the_direct_one():
    view = VIEWS["lstm"]
    assert "not c" not in plain(view.substep_text["h"]) and "c_t (through its forget gate" in plain(
        view.substep_text["h"]).replace("c_t+1", "c_(t+1)")
    assert "what the head and the next timestep see" not in view.block_help
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "∂c_t/∂c_{t−1} = diag(f)" not in readme and "direct path from c_{t−1} to c_t is diag(f)" in readme
    # gx / gh name x2g's and h2g's whole outputs; the candidate's blocks have other names
    assert "gx + gh" not in view.gate_titles["g"] and "gx + gh" not in " ".join(CELLS["lstm"].equations)


def test_the_dropout_help_says_the_masks_change_every_iteration(qtbot):
    from gru_debugger.ui.editors.hyper_panel import HyperPanel

    ctl = Controller(Config(seed=0))
    panel = HyperPanel(ctl)
    qtbot.addWidget(panel)
    texts = " ".join(w.text() for w in panel.findChildren(QtWidgets.QLabel))
    assert "stay fixed until the seed" not in texts and "every new iteration draws new ones" in texts
    # ... which is what happens
    first = ctl.snapshot().trace["dropout_in_mask"].copy()
    ctl.run_to_end()
    ctl.next_iteration()
    assert not np.array_equal(first, ctl.snapshot().trace["dropout_in_mask"])


def test_the_training_curve_after_the_update_keeps_the_dropout_masks(qtbot):
    """What one step gains: the red curve is the loss after the update with the first pass's masks."""
    from gru_debugger.ui.editors.training_panel import TrainingPanel

    ctl = Controller(load_config(RANDOM_INIT))
    panel = TrainingPanel(ctl)
    qtbot.addWidget(panel)
    expected = []
    probe = Controller(load_config(RANDOM_INIT))
    for _ in range(3):
        expected.append(float(probe.snapshot().trace["loss_after_same_masks"]))
        probe.run_to_end()
        probe.next_iteration()
    panel.run_now(3)
    _, ys = panel.after_curve.getData()
    np.testing.assert_allclose(ys, expected)
    fresh = [p.loss_after for p in panel.points]
    assert not np.allclose(ys, fresh)  # with dropout the two differ: the curve is not the fresh-mask one
    assert "same dropout masks" in panel.status.text()


def test_a_future_part_that_is_zero_in_exact_arithmetic_is_not_quoted_as_a_number():
    """h2g.weight = 0 in a plain RNN: nothing reaches h_t from the future. The split computed from the
    float32 trace leaves rounding there; the caption says ≈0 (round-off) instead of quoting it."""
    config = _config("rnn").with_changes(init={"h2g.weight": {"scheme": "zeros"}})
    ctl = Controller(config)
    ctl.run_to("backward", 3)
    snap = ctl.snapshot()
    step = [s for s in walk_steps(8, "rnn") if s is not None and (s.phase, s.t) == ("backward", 3)][0]
    text = stop_caption(step, 8, "rnn", snap, 0, 0)
    assert "the part from the future ≈0 (round-off)" in text or "the part from the future 0.0000" in text, text
    assert re.search(r"and (≈0 \(round-off\)|0\.0000) from the future", text), text


@pytest.mark.parametrize("cell", list(CELLS))
def test_the_timelines_step_help_says_what_each_timestep_did(qtbot, cell):
    """The timeline's tooltip over a timestep that has run carries that timestep's numbers (the same as
    its caption, also when read after the update changed the weights); no two are alike once masked."""
    from gru_debugger.ui.views.timeline import TimelineView

    ctl = Controller(_config(cell))
    timeline = TimelineView(ctl, selection=lambda: (1, 0))
    qtbot.addWidget(timeline)
    T = ctl.config.context_length
    pending = timeline.help_text("cell", 3)
    ctl.run_to("backward", 2)
    at_step = VIEWS[cell].backward_facts(ctl.snapshot(), 1, 0, 2)
    ctl.run_to_end()
    helps = [timeline.help_text(phase, t) for phase in ("cell", "backward") for t in range(T)]
    assert not duplicates(helps), duplicates(helps)[:2]
    assert at_step in timeline.help_text("backward", 2)  # the weights backward used, not the updated ones
    assert "For row 1, unit 0" in helps[3] and "For row 1, unit 0" not in pending  # not before it has run
