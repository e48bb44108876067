"""The tokenizer panel and the equation panel, against the controller's numbers."""
from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from PySide6 import QtCore

from gru_debugger.core.base.config import PARAM_NAMES, Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.phases import Step
from gru_debugger.ui.widgets import theme
from gru_debugger.ui.views.equation_view import EquationView, fmt
from gru_debugger.ui.widgets.equation_format import ROUNDOFF_TEXT
from gru_debugger.ui.views.tokenizer_view import MAX_RENDERED_TOKENS, NOT_RUN_NOTE, TokenizerView
from gru_debugger.ui.widgets.view_state import ViewState


@pytest.fixture
def ctl():
    return Controller(Config(seed=0))


@pytest.fixture
def tok_view(qtbot, ctl):
    theme.apply(dark=False)
    view = TokenizerView(ctl)
    qtbot.addWidget(view)
    view.resize(900, 500)
    return view


@pytest.fixture
def state():
    return ViewState()


@pytest.fixture
def eq_view(qtbot, ctl, state):
    theme.apply(dark=False)
    view = EquationView(ctl, state)
    qtbot.addWidget(view)
    view.resize(760, 420)
    return view


# ---------------------------------------------------------------- tokenizer view
def test_tokenizer_shows_note_before_tokenize(tok_view, ctl):
    assert tok_view.showing_note()
    assert tok_view.note_text() == NOT_RUN_NOTE
    ctl.run_to("tokenize")
    assert not tok_view.showing_note()
    ctl.run_to_start()
    assert tok_view.showing_note()


def test_tokenizer_two_tints_a_batch_band_and_underlined_merges(tok_view, ctl):
    ctl.run_to("batch")
    chips = re.findall(r'<span title="id (\d+):[^"]*" style="([^"]*)">', tok_view.stream_html())
    first, _ = tok_view.rendered_range()
    marked = set(tok_view.marked_indices())
    vocab = ctl.snapshot().corpus.vocab
    assert len(chips) == len(range(*tok_view.rendered_range()))
    outside, inside = set(), set()
    for k, (tid, style) in enumerate(chips):
        bg = re.search(r"background-color: (#[0-9a-f]{6})", style).group(1)
        (inside if first + k in marked else outside).add(bg)
        token = vocab[int(tid)]
        assert ("underline" in style) == (len(token) > 1 and token != "<|endoftext|>"), token
    assert len(outside) == 2 and len(inside) == 2 and not outside & inside   # two tints; the band its own two
    # neighbours never share a tint: every boundary shows
    tints = [re.search(r"background-color: (#[0-9a-f]{6})", style).group(1) for _, style in chips]
    assert all(a != b for a, b in zip(tints, tints[1:]) if a in outside and b in outside)


def test_tokenizer_lists_merges_vocab_and_marks_batch(tok_view, ctl):
    ctl.run_to("tokenize")
    corpus = ctl.snapshot().trace.corpus
    cfg = ctl.config
    B, T = cfg.batch_size, cfg.context_length

    merges = tok_view.merge_lines()
    assert len(merges) == 5 == len(corpus.merges)
    assert merges[0].startswith("1. '␣' + 'a' → '␣a'")
    assert all(line.startswith(f"{k}. ") for k, line in enumerate(merges, start=1))

    model = tok_view.vocab_model()
    assert tok_view.vocab_rows() == 36 == len(corpus.vocab)
    assert model.data(model.index(0, 1)) == "␣"
    assert model.data(model.index(corpus.eot_id, 1)) == "⟨eot⟩"
    counts = np.bincount(corpus.tokens, minlength=36)
    assert model.data(model.index(5, 2)) == str(counts[5])

    marked = tok_view.marked_indices()
    assert len(marked) == B * T + 1 == 17
    assert marked == list(range(0, 17))
    assert tok_view.batch_window() == (0, 17)
    html = tok_view.stream_html()
    assert html.count("batch row b=") == B * T
    assert html.count("last target y[") == 1
    assert "b=0" in html and "b=1" in html
    # every token of the (short) corpus is drawn, end-of-text as a small chip
    assert tok_view.rendered_range() == (0, len(corpus.tokens))
    assert html.count("⟨eot⟩") == int(np.sum(corpus.tokens == corpus.eot_id))
    text = tok_view.stream_text()
    assert "linear␣algebra" in text.replace("\u200b", "")


def test_tokenizer_tooltips_name_id_string_and_index(tok_view, ctl):
    ctl.run_to("tokenize")
    corpus = ctl.snapshot().trace.corpus
    tid = int(corpus.tokens[2])
    tip = tok_view.tooltip_for(2)
    assert f"id {tid}" in tip and repr(corpus.vocab[tid]) in tip and "stream index 2" in tip
    assert "batch row b=0, t=2" in tip
    assert "last target" in tok_view.tooltip_for(16)
    assert "batch" not in tok_view.tooltip_for(17)
    # the title attribute carries the same text into the document
    assert f'title="id {tid}: ' in tok_view.stream_html()


def test_tokenizer_rebuilds_only_when_batch_changes(tok_view, ctl):
    ctl.run_to("tokenize")
    html = tok_view.stream_html()
    ctl.step()
    ctl.run_to("loss")
    assert tok_view.stream_html() is html       # cursor moves do not rebuild
    ctl.set_position(16)
    assert tok_view.batch_window() == (16, 33)
    assert tok_view.marked_indices() == list(range(16, 33))
    assert tok_view.stream_html() is not html
    ctl.set_batch(3, 4)
    assert len(tok_view.marked_indices()) == 3 * 4 + 1
    assert tok_view.stream_html().count("batch row b=2") == 4


def test_tokenizer_long_corpus_renders_a_window(tok_view, ctl):
    ctl.set_corpus(list(ctl.config.corpus) * 8)
    ctl.set_position(2000)
    ctl.run_to("tokenize")
    n = len(ctl.snapshot().trace.corpus.tokens)
    first, last = tok_view.rendered_range()
    assert n > MAX_RENDERED_TOKENS
    assert last - first == MAX_RENDERED_TOKENS
    assert first <= 2000 and 2017 <= last
    assert tok_view.marked_indices() == list(range(2000, 2017))
    assert f"{first} tokens before" in tok_view.stream_html()
    assert f"showing tokens {first}…{last - 1} of {n}" in tok_view._stream_title.text()


def test_tokenizer_vocab_stays_a_model_with_many_tokens(qtbot):
    text = "".join(chr(0x4E00 + i) for i in range(2100)) * 2   # 2,100 distinct characters
    ctl = Controller(Config(seed=0, corpus=(text,), num_merges=20))
    view = TokenizerView(ctl)
    qtbot.addWidget(view)
    ctl.run_to("tokenize")
    corpus = ctl.snapshot().trace.corpus
    assert view.vocab_rows() == len(corpus.vocab) > 2000
    assert len(view.merge_lines()) == len(corpus.merges)
    assert len(view.findChildren(QtCore.QObject)) < 200   # no widget per token


# ---------------------------------------------------------------- equation view
def walk_to(ctl: Controller, step: Step) -> None:
    ctl.run_to_start()
    while ctl.snapshot().step != step:
        ctl.step_into()


def test_equation_shows_start_and_every_gru_substep(eq_view, ctl, state):
    assert "nothing has run yet" in eq_view.plain_text()
    state.select(batch_row=1, unit=1)
    b, j, t = 1, 1, 3
    walk_to(ctl, Step("cell", t, "x2g"))
    s = ctl.snapshot()
    for g in ("zx", "rx", "nx"):
        assert f"= {fmt(s.get(g)[b, t, j])}" in eq_view.plain_text()
    ctl.step_into()
    s = ctl.snapshot()
    for g in ("zh", "rh", "nh"):
        assert f"= {fmt(s.get(g)[b, t, j])}" in eq_view.plain_text()
    ctl.step_into()
    s = ctl.snapshot()
    assert s.step == Step("cell", t, "z")
    z, zx, zh = (float(s.get(k)[b, t, j]) for k in ("z", "zx", "zh"))
    text = eq_view.plain_text()
    assert f"z = σ(zx + zh) = σ({zx:.4f} + {zh:.4f}) = {z:.4f}" in text
    assert "r = σ" not in text            # later sub-steps are not shown yet
    ctl.step_into()
    s = ctl.snapshot()
    assert f"= {fmt(s.get('r')[b, t, j])}" in eq_view.plain_text()
    ctl.step_into()
    s = ctl.snapshot()
    assert f"= {fmt(s.get('n')[b, t, j])}" in eq_view.plain_text()
    ctl.step_into()
    s = ctl.snapshot()
    text = eq_view.plain_text()
    for k in ("z", "r", "n", "h"):                # the plain step shows them all
        assert f"= {fmt(s.get(k)[b, t, j])}" in text
    h_prev = s.get("h")[b, t - 1, j]
    assert f"{fmt(s.get('z')[b, t, j])}·{fmt(h_prev)}" in text


def test_run_to_gru_shows_the_timestep_numbers(eq_view, ctl, state):
    ctl.run_to("cell", 3)
    s = ctl.snapshot()
    b, j = state.batch_row, state.unit
    z = s.get("z")[b, 3, j]
    assert f"= {z:.4f}" in eq_view.plain_text()
    assert f"= {fmt(s.get('h')[b, 3, j])}" in eq_view.plain_text()


def test_spin_boxes_drive_the_view_state_without_echo(qtbot):
    # random weights: with the default constant ones every unit has the same numbers
    ctl = Controller(Config(seed=2, init={n: {"scheme": "normal", "mean": 0.0, "std": 0.5} for n in PARAM_NAMES}))
    state = ViewState()
    eq_view = EquationView(ctl, state)
    qtbot.addWidget(eq_view)
    ctl.run_to("cell", 3)
    s = ctl.snapshot()
    emitted = []
    state.changed.connect(lambda: emitted.append(1))
    spin_j = eq_view._j_spin
    assert (spin_j.minimum(), spin_j.maximum()) == (0, ctl.config.hidden_size - 1)
    assert (eq_view._b_spin.minimum(), eq_view._b_spin.maximum()) == (0, ctl.config.batch_size - 1)
    before = eq_view.plain_text()
    spin_j.setValue(1)
    assert state.unit == 1 and len(emitted) == 1
    text = eq_view.plain_text()
    assert text != before
    assert "row b = 0, unit j = 1" in text
    assert f"= {fmt(s.get('z')[0, 3, 1])}" in text
    assert f"= {fmt(s.get('z')[0, 3, 1])}" not in before
    assert f"x2g.weight[{ctl.config.hidden_size + 1}]" not in before
    eq_view._b_spin.setValue(1)
    assert state.batch_row == 1 and len(emitted) == 2
    assert f"= {fmt(s.get('h')[1, 3, 1])}" in eq_view.plain_text()
    state.select(batch_row=0, unit=0)               # from outside: spin boxes follow, no echo
    assert (eq_view._b_spin.value(), spin_j.value()) == (0, 0)
    assert len(emitted) == 3


def test_loss_and_forward_after(eq_view, ctl):
    ctl.run_to("loss")
    assert "3.5835" in eq_view.plain_text()
    ctl.run_to("forward_after")
    s = ctl.snapshot()
    text = eq_view.plain_text()
    assert fmt(s.get("loss")) in text and fmt(s.get("loss_after")) in text
    assert fmt(s.get("loss_improvement")) in text and "%" in text


@pytest.mark.parametrize("config", [Config(seed=0), Config(seed=1, init={n: {"scheme": "normal", "mean": 0.0,
                                                                           "std": 0.5} for n in PARAM_NAMES})])
def test_backward_shows_gradients(qtbot, config):
    ctl = Controller(config)
    state = ViewState()
    view = EquationView(ctl, state)
    qtbot.addWidget(view)
    T = ctl.config.context_length
    for t in (T - 1, 4, 0):
        for b, j in ((0, 0), (1, 1)):
            state.select(b, j)
            ctl.run_to("backward", t)
            s = ctl.snapshot()
            text = view.plain_text()
            for key in ("grad/h", "grad/z", "grad/n", "grad/r"):
                mask = s.roundoff_mask(key)   # round-off (the notebook's constants) reads as such, not as digits
                noise = mask is not None and mask[b, t, j]
                assert (ROUNDOFF_TEXT if noise else fmt(s.get(key)[b, t, j])) in text, key
                assert noise == (config.seed == 0 and s.get(key)[b, t, j] != 0), key
            assert "from the head" in text
            if t == T - 1:
                assert "the last timestep" in text


def test_backward_split_adds_up_with_random_weights(qtbot):
    cfg = Config(seed=1, init={n: {"scheme": "normal", "mean": 0.0, "std": 0.5} for n in PARAM_NAMES})
    ctl = Controller(cfg)
    view = EquationView(ctl, ViewState())
    qtbot.addWidget(view)
    ctl.run_to("backward", 3)
    s = ctl.snapshot()

    def num(text: str) -> float:
        return float(text.replace("\u2212", "-"))

    lines = view.plain_text().splitlines()
    total = next(re.fullmatch(r"∂L/∂ht = (\S+) ([+−]) (\S+) = (\S+)", row) for row in lines
                 if re.fullmatch(r"∂L/∂ht = (\S+) ([+−]) (\S+) = (\S+)", row))
    head, sign, later, result = total.groups()
    assert num(result) == pytest.approx(float(s.get("grad/h")[0, 3, 0]), abs=1e-4)
    summed = num(head) + (num(later) if sign == "+" else -num(later))
    assert summed == pytest.approx(num(result), abs=2e-4)


def test_update_shows_weight_steps(eq_view, ctl, state):
    state.select(batch_row=1, unit=1)
    ctl.run_to("update")
    s = ctl.snapshot()
    text = eq_view.plain_text()
    assert f"lr = {ctl.config.learning_rate:g}" in text
    assert fmt(s.get("updated/h2g.weight")[1, 0]) in text
    y = int(s.get("y")[1, 0])
    assert f"lm_head.weight[{y}, 1]" in text
    assert fmt(s.get("updated/lm_head.weight")[y, 1]) in text


def test_other_phases_show_their_numbers(eq_view, ctl):
    ctl.run_to("tokenize")
    assert "36" in eq_view.plain_text() and "520" in eq_view.plain_text()
    ctl.run_to("batch")
    s = ctl.snapshot()
    assert str([int(v) for v in s.get("x")[0]]) in eq_view.plain_text()
    assert str([int(v) for v in s.get("y")[0]]) in eq_view.plain_text()
    ctl.run_to("dropout_in")
    assert "1/(1 − p) = 1.1111" in eq_view.plain_text()
    ctl.run_to("head")
    s = ctl.snapshot()
    y0 = int(s.get("y")[0, 0])
    assert fmt(s.get("logits")[0, 0, y0]) in eq_view.plain_text()
    ctl.run_to("zero_grad")
    assert "∂L/∂θ ← 0" in eq_view.plain_text()


def test_selection_is_clamped_when_h_shrinks(eq_view, ctl, state):
    state.select(batch_row=1, unit=1)
    ctl.run_to("cell", 2)
    ctl.set_sizes(4, 1)
    assert eq_view.selection() == (1, 0)
    assert eq_view._j_spin.maximum() == 0
    s = ctl.snapshot()
    assert f"= {fmt(s.get('h')[1, 2, 0])}" in eq_view.plain_text()


# ---------------------------------------------------------------- both, whole walk
def test_full_walk_raises_nothing(qtbot, caplog):
    ctl = Controller(Config(seed=0))
    state = ViewState()
    tok = TokenizerView(ctl)
    eq = EquationView(ctl, state)
    qtbot.addWidget(tok)
    qtbot.addWidget(eq)
    seen = set()
    with caplog.at_level(logging.ERROR):
        while ctl.can_step():
            ctl.step()
            seen.add(ctl.snapshot().step.phase)
            assert "Could not show" not in eq.plain_text()
            assert eq.plain_text().strip()
        state.select(batch_row=1, unit=1)
        ctl.run_to_start()
        while ctl.can_step():
            ctl.step_into()
        while ctl.can_step_back():
            ctl.step_back()
    assert len(seen) == 13
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_deleted_widgets_do_not_break_the_controller(qtbot):
    ctl = Controller(Config(seed=0))
    tok = TokenizerView(ctl)
    eq = EquationView(ctl, ViewState())
    tok.deleteLater()
    eq.deleteLater()
    qtbot.wait(10)
    ctl.run_to("backward", 3)
    ctl.step()
