"""Snags a new user ran into: each fixed where it came from, and checked here."""
import pytest
import torch

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller, ControllerError
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.storage import weights_io
from gru_debugger.core.storage.weights_io import WeightsError, check_tensors, import_weights


# ------------------------------------------------------------------ weight import lists every mismatch
def _good(cell: str = "gru") -> dict[str, torch.Tensor]:
    return weights_io.weights_for_export(fresh_state(Config(seed=0, cell=cell)), "torch")


def test_weight_import_lists_missing_unexpected_and_shape_mismatches_at_once():
    state = fresh_state(Config(seed=0))
    tensors = {k: v for k, v in _good().items() if k != "rnn.bias_hh_l0"}       # missing
    tensors["norm.weight"] = torch.ones(3)                                       # unexpected
    tensors["head.bias"] = torch.ones(3)                                         # unexpected, with a hint
    tensors["embedding.weight"] = torch.ones(tensors["embedding.weight"].shape[0], 9)  # wrong shape
    tensors["head.weight"] = torch.ones(tensors["head.weight"].shape[0], 7)            # wrong shape
    with pytest.raises(WeightsError) as info:
        import_weights(state, tensors, source="w.pt")
    message = str(info.value)
    assert message.startswith("w.pt: 5 problems:") and message.endswith("; nothing was imported")
    for part in ("no h2g.bias", "unexpected parameter 'norm.weight'", "head has no bias",
                 "embedding.weight (wte.weight) must have shape", "embedding width E is 9",
                 "head.weight (lm_head.weight) must have shape", "hidden size H is 7"):
        assert part in message, part
    assert "\n" not in message


def test_a_reason_shared_by_several_shapes_is_said_once():
    """An LSTM's four recurrent tensors for a GRU: four shapes named, the reason once."""
    with pytest.raises(WeightsError) as info:
        import_weights(fresh_state(Config(seed=0)), _good("lstm"))
    message = str(info.value)
    assert message.startswith("4 problems:")
    for name in ("x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias"):
        assert f"({name}) must have shape" in message, name
    assert message.count("looks like an LSTM") == 1


def test_one_problem_reads_as_before():
    tensors = {k: v for k, v in _good().items() if k != "rnn.bias_hh_l0"}
    with pytest.raises(WeightsError) as info:
        import_weights(fresh_state(Config(seed=0)), tensors)
    assert str(info.value).startswith("no h2g.bias (the recurrent layer's hidden bias)")
    assert "problems" not in str(info.value)


def test_every_bad_tensor_is_named():
    tensors = _good()
    tensors["head.weight"] = torch.full_like(tensors["head.weight"], float("nan"))
    tensors["embedding.weight"] = tensors["embedding.weight"].to(torch.int64)
    tensors["extra"] = [1.0]
    with pytest.raises(WeightsError) as info:
        check_tensors(tensors, "f.safetensors")
    message = str(info.value)
    assert message.startswith("f.safetensors: 3 problems:")
    assert "'head.weight' holds NaN or Inf" in message and "int64 values" in message and "not a tensor" in message


def test_the_controller_refuses_with_every_problem_and_changes_nothing(tmp_path):
    from safetensors.torch import save_file

    ctl = Controller(Config(seed=0))
    tensors = {k: v for k, v in _good().items() if k != "rnn.weight_hh_l0"}
    tensors["embedding.weight"] = torch.ones(2, 2)
    path = tmp_path / "w.safetensors"
    save_file(tensors, str(path))
    before = ctl.state
    with pytest.raises(ControllerError) as info:
        ctl.import_weights(path)
    message = str(info.value)
    assert str(path) in message and "2 problems" in message and "no h2g.weight" in message
    assert "embedding.weight (wte.weight) must have shape" in message
    assert ctl.state is before and not ctl.undo_texts


# ------------------------------------------------------------------ the command line
def _no_display(monkeypatch):
    import sys
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")


@pytest.mark.parametrize("content", [None, "{\"batch_size\": 2,}", "{\"batch_sise\": 2}"])
def test_a_config_mistake_is_reported_before_the_missing_display(monkeypatch, capsys, tmp_path, content):
    from gru_debugger.cli import main

    _no_display(monkeypatch)
    path = tmp_path / "typo.json"
    if content is not None:
        path.write_text(content)
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert str(path) in err and "display" not in err


def test_a_good_config_without_a_display_still_says_so(monkeypatch, capsys, tmp_path):
    from gru_debugger.cli import main

    _no_display(monkeypatch)
    path = tmp_path / "ok.json"
    path.write_text("{\"learning_rate\": 1.0}")
    assert main(["--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no display") and err.count("\n") == 1


def test_screenshots_counts_the_files_it_wrote(tmp_path):
    from pathlib import Path
    from gru_debugger.ui.docs.screenshots import MANIFEST, Image, Result, files_written

    names = ["08-gru-t03.png", "08-gru-t03-frame.png", "08-gru-t03-dark.png", "08-gru-t03-frame-dark.png",
             "panel-network.png", "panel-network-dark.png", "walkthrough.gif", "index.md", MANIFEST]
    result = Result(tmp_path, sorted(Path(tmp_path, n) for n in names), [Image("a", "b", "c")], {})
    text = files_written(result, both=True)
    assert text == (f"9 files (4 images, 2 frames (light and dark), walkthrough.gif, index.md and the list of "
                    f"files written ({MANIFEST}))")


# ------------------------------------------------------------------ the console
def _settle(rounds: int = 8):
    from PySide6 import QtCore, QtWidgets
    for _ in range(rounds):
        QtCore.QCoreApplication.sendPostedEvents()
        QtWidgets.QApplication.processEvents()


@pytest.mark.parametrize("size", [(1600, 1000), (1280, 800)])
def test_the_console_opens_tall_enough_for_ten_lines(shown_window, size):
    from gru_debugger.ui.views.console import OPENING_LINES

    _, win = shown_window()
    win.resize(*size)
    _settle()
    win.console.show()
    _settle()
    assert OPENING_LINES == 10 and win.console.output_lines() >= 10
    assert win.rect().contains(win.console.geometry())
    assert win.console.console.output.minimumHeight() < 60  # and the user can make it smaller again
    win.console.grab().save(f"/tmp/snags-console-{size[0]}.png")


# ------------------------------------------------------------------ the timeline numbers every timestep
def _measure(text: str, pt: float) -> tuple[float, float]:
    """DejaVu Sans at 96 dpi: a digit or a dash 0.636 em wide, the digits 0.73 em tall (+3 px room)."""
    em = pt * 96 / 72
    return 0.636 * em * len(text), 0.73 * em + 3


def _named(labels, T):
    named = [t for lab in labels for t in range(lab.first, lab.last + 1)]
    assert sorted(named) == list(range(T)), "every cell is named exactly once"


@pytest.mark.parametrize("T, cell_w", [(8, 24.6), (24, 8.5), (64, 5.4), (64, 3.0), (512, 1.0)])
def test_every_timestep_has_a_label(T, cell_w):
    from gru_debugger.ui.views.timeline_layout import cell_labels

    for order in (list(range(T)), list(reversed(range(T)))):  # the GRU chip and the Backward chip
        labels = cell_labels(order, cell_w, 24.0, _measure)
        _named(labels, T)
        for lab in labels:
            width, height = _measure("8" if lab.stacked else lab.text, lab.pt)
            span = (lab.last - lab.first + 1) * cell_w
            assert width <= span and (len(lab.text) if lab.stacked else 1) * height <= 24.0 + 1e-9
            ts = {order[lab.first], order[lab.last]}
            assert str(min(ts)) in lab.text and str(max(ts)) in lab.text


def test_the_numbers_shrink_then_stack_then_group():
    from gru_debugger.ui.views.timeline_layout import LABEL_PT, cell_labels

    plain = cell_labels(list(range(8)), 24.6, 24.0, _measure)
    assert [lab.text for lab in plain] == [str(t) for t in range(8)] and {lab.pt for lab in plain} == {LABEL_PT}
    smaller = cell_labels(list(range(24)), 15.0, 24.0, _measure)     # "23" fits at a smaller size
    assert all(lab.first == lab.last and not lab.stacked for lab in smaller) and smaller[0].pt < LABEL_PT
    stacked = cell_labels(list(range(24)), 8.5, 24.0, _measure)      # T = 24 at 1600 px: the digits stacked
    assert all(lab.first == lab.last for lab in stacked) and stacked[23].stacked and stacked[23].text == "23"
    grouped = cell_labels(list(range(64)), 5.4, 24.0, _measure)      # T = 64 at 1600 px: runs of 8
    assert [lab.text for lab in grouped] == [f"{a}–{a + 7}" for a in range(0, 64, 8)]
    backward = cell_labels(list(reversed(range(64))), 5.4, 24.0, _measure)
    assert backward[0].text == "63–56" and backward[-1].text == "7–0"


@pytest.mark.parametrize("T", [24, 64])
def test_the_drawn_timeline_names_every_timestep(shown_window, T):
    from PySide6 import QtGui

    ctl, win = shown_window(context_length=T, corpus=("hello world, " * 300,))
    ctl.run_to("cell", T // 2)
    _settle()
    timeline = win.timeline
    chips = [chip for chip in timeline._layout() if chip.cells]
    assert len(chips) == 2
    for chip in chips:
        labels = timeline.cell_labels(chip)
        _named(labels, T)
        for lab in labels:
            font = QtGui.QFont(timeline.font())
            font.setPointSizeF(lab.pt)
            fm = QtGui.QFontMetricsF(font)
            span = chip.cells[lab.last][1].right() - chip.cells[lab.first][1].left()
            text = "8" if lab.stacked else lab.text
            assert fm.horizontalAdvance(text) <= abs(span) + chip.cells[0][1].width() + 1e-6
    timeline.grab().save(f"/tmp/snags-timeline-T{T}.png")


# ------------------------------------------------------------------ the wide layout comes back
@pytest.fixture
def settings(tmp_path):
    from PySide6 import QtCore
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


def _window(qtbot, size, settings=None):
    from gru_debugger.ui.main_window import MainWindow

    win = MainWindow(Controller(Config(seed=0)), settings)
    qtbot.addWidget(win)
    if size is not None:
        win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    _settle()
    return win


def test_a_window_restored_a_frame_narrower_than_1600_px_is_wide(qtbot, settings):
    from gru_debugger.ui.window_layout import COMPACT_WIDTH, FRAME_SLACK

    assert COMPACT_WIDTH == 1600 and 0 < FRAME_SLACK <= 16
    win = _window(qtbot, (1598, 1000), settings)
    assert not win.compact
    win.reset_layout()
    _settle()
    assert not win.compact and win.arranger.auto
    assert win.minimumSizeHint().width() <= 1598
    assert all(win.rect().contains(d.geometry()) for d in win.docks.values() if not d.visibleRegion().isEmpty())
    win.resize(1580, 1000)  # narrower than a frame's borders: compact
    _settle()
    assert win.compact


def test_the_wide_layout_comes_back_at_1600_px(qtbot, settings):
    win = _window(qtbot, (1280, 800), settings)
    assert win.compact
    win.close()
    again = _window(qtbot, None, settings)  # restored compact (the test screen is 800 px wide)
    assert again.compact and again.arranger.auto
    for width, compact in ((1600, False), (1560, True), (1598, False), (1700, False), (1280, True), (1600, False)):
        again.resize(width, 1000)
        _settle()
        assert again.compact is compact, width
    again.resize(1280, 800)
    _settle()
    again.reset_layout()   # narrow: compact; wide again: wide
    _settle()
    assert again.compact
    again.resize(1600, 1000)
    _settle()
    assert not again.compact


# ------------------------------------------------------------------ an edit brings up what it changed
def test_which_panel_shows_an_edit():
    from gru_debugger.core.model.edits import with_config, with_param_cell, with_seed
    from gru_debugger.ui.edit_follow import changed_names, edited_panel

    state = fresh_state(Config(seed=0))
    lr = with_config(state, learning_rate=0.5)
    assert changed_names(state, lr) == (frozenset({"learning_rate"}), frozenset())
    assert edited_panel(state, lr, ["input"], "input") == "update"
    assert edited_panel(state, lr, ["update"], "input") is None          # already in front
    weight = with_param_cell(state, "h2g.weight", (0, 0), -0.75)
    assert changed_names(state, weight) == (frozenset(), frozenset({"h2g.weight"}))
    assert edited_panel(state, weight, ["params"], "cell") is None        # set where it is shown: stays
    assert edited_panel(state, weight, ["gradients"], "gradients") == "cell"
    assert edited_panel(state, with_param_cell(state, "wte.weight", (0, 0), -0.75), ["time"], "time") == "input"
    assert edited_panel(state, with_seed(state, 7), ["input"], "input") == "params"
    assert edited_panel(state, with_config(state, num_merges=3), ["input"], "input") == "tokenizer"
    dropout = with_config(state, dropout=0.3)
    assert edited_panel(state, dropout, ["cell"], "output") == "output"  # the phase's panel shows the mask
    assert edited_panel(state, dropout, ["cell"], "cell") == "input"
    assert edited_panel(state, state, ["cell"], "cell") is None


def _front(win):
    return win.front_panels()


def test_an_edit_brings_up_the_panel_that_shows_it(shown_window):
    ctl, win = shown_window()
    ctl.run_to("cell", 1)
    _settle()
    assert _front(win) == ["cell"]
    win.docks["params"].raise_()
    _settle()
    ctl.set_param("h2g.weight", (0, 0), 0.5)       # edited where it shows: the tab stays
    _settle()
    assert _front(win) == ["params"]
    ctl.set_learning_rate(0.5)                     # the Update panel's step follows the learning rate
    _settle()
    assert _front(win) == ["update"]
    ctl.set_tokenizer(3, True)                     # the Tokenizer shows the merges
    _settle()
    assert _front(win) == ["tokenizer"]
    ctl.undo()                                     # undone where it shows: stays
    _settle()
    assert _front(win) == ["tokenizer"]
    ctl.set_param("wte.weight", (1, 1), -0.75)    # the embedding: the Input panel
    _settle()
    assert _front(win) == ["input"]
    ctl.step()                                     # a move: the phase's panel, as before
    _settle()
    assert _front(win) == ["cell"]


def test_without_follow_an_edit_leaves_the_tabs_alone(shown_window):
    ctl, win = shown_window()
    ctl.run_to("loss")
    _settle()
    follow = next(a for a in win.view_menu.actions() if a.text() == "&Follow the Cursor")
    follow.setChecked(False)
    win.docks["params"].raise_()
    _settle()
    ctl.set_learning_rate(0.5)
    ctl.set_param("h2g.weight", (0, 0), 0.5)
    _settle()
    assert _front(win) == ["params"]


# ------------------------------------------------------------------ View → Theme
@pytest.fixture
def theme_restored(qapp):
    """The theme, palette and pyqtgraph colours as they were before the test (other tests draw with them)."""
    import pyqtgraph as pg
    from gru_debugger.ui.widgets import theme

    saved = (qapp.palette(), theme.current(), theme.mode(),
             {k: pg.getConfigOption(k) for k in ("background", "foreground", "antialias")})
    yield theme
    palette, scheme, mode, options = saved
    theme._mode = mode
    theme.apply(scheme.dark)
    qapp.setPalette(palette)
    pg.setConfigOptions(**options)


def _colour_map_centre(heatmap):
    lut = heatmap.image.getColorMap().getLookupTable(nPts=257)
    return tuple(int(c) for c in lut[128][:3])


def test_view_theme_switches_every_view_and_is_remembered(qtbot, settings, theme_restored):
    import pyqtgraph as pg
    from PySide6 import QtGui
    from gru_debugger.ui.theme_menu import saved_mode

    theme = theme_restored
    theme.set_mode("light")
    win = _window(qtbot, (1600, 1000), settings)
    win.controller.run_to("cell", 3)
    _settle()
    actions = win.theme_actions
    assert [a.text() for a in actions.values()] == ["&System", "&Light", "&Dark"]
    assert actions["light"].isChecked() and actions["light"].actionGroup().isExclusive()
    win.console.show()
    _settle()
    win.console.run("1+1\n")
    light_html = win.equations.html()
    light_centre = _colour_map_centre(win.panels["cell"].heatmaps["zh"])
    win.grab().save("/tmp/snags-theme-light-before.png")

    actions["dark"].trigger()
    _settle()
    assert theme.current().dark and actions["dark"].isChecked() and saved_mode(settings) == "dark"
    assert QtGui.QGuiApplication.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 100
    views = win.findChildren(pg.GraphicsView)
    assert views and all(v.backgroundBrush().color().name() == theme.DARK.background for v in views)
    assert win.equations.html() != light_html and theme.DARK.foreground in win.equations.html()
    dark_centre = _colour_map_centre(win.panels["cell"].heatmaps["zh"])
    assert sum(dark_centre) < 120 < sum(light_centre)   # zero: near-black in the dark map, white in the light
    caption = win.panels["cell"].caption
    assert caption.palette().color(QtGui.QPalette.ColorRole.WindowText).lightness() > 150  # a style-sheet label too
    axis = win.panels["cell"].heatmaps["zh"].plot.getAxis("left")
    assert axis.textPen().color().lightness() > 150
    band = win.console.console.repl.textStyles["command"][1].background().color().name()
    assert band == "#333355"   # the console's command band: pyqtgraph's dark one (it picks it once)
    win.grab().save("/tmp/snags-theme-dark.png")
    win.docks["training"].raise_()
    _settle()
    assert win.training.plot.backgroundBrush().color().name() == theme.DARK.background

    actions["light"].trigger()
    _settle()
    assert not theme.current().dark and saved_mode(settings) == "light"
    assert all(v.backgroundBrush().color().name() == theme.LIGHT.background for v in win.findChildren(pg.GraphicsView))
    assert win.equations.html() == light_html
    assert _colour_map_centre(win.panels["cell"].heatmaps["zh"]) == light_centre
    win.grab().save("/tmp/snags-theme-light.png")


def test_system_follows_the_platform_again(qtbot, settings, theme_restored):
    from PySide6 import QtGui
    from gru_debugger.ui.theme_menu import saved_mode, switch_theme

    theme = theme_restored
    win = _window(qtbot, (1600, 1000), settings)
    switch_theme(win, "dark")
    switch_theme(win, "system")
    _settle()
    assert theme.mode() == "system" and saved_mode(settings) == "system" and win.theme_actions["system"].isChecked()
    assert theme.current().dark == theme.system_is_dark()
    platform = QtGui.QGuiApplication.palette().color(QtGui.QPalette.ColorRole.Window).lightness() < 128
    assert theme.current().dark == platform
    settings.setValue(theme.SETTINGS_THEME, "purple")   # not one of ours: the system's
    assert saved_mode(settings) == "system"
    with pytest.raises(ValueError):
        theme.set_mode("purple")


def test_an_edit_made_in_the_panel_in_front_keeps_it_in_front(shown_window):
    """The Gradients panel's fix button draws the weights anew (an init change, shown by Parameters):
    the panel it was pressed in stays, since it shows the effect."""
    ctl, win = shown_window()
    ctl.run_to("backward", 3)
    _settle()
    assert _front(win) == ["gradients"]
    panel = win.panels["gradients"]
    panel.fix_button.setFocus()
    ctl.set_init("h2g.weight", {"scheme": "normal", "std": 0.5})
    _settle()
    assert _front(win) == ["gradients"]
    win.docks["hyper"].widget().setFocus()             # from an editing panel: what it changed comes up
    ctl.set_init("h2g.weight", {"scheme": "normal", "std": 0.4})
    _settle()
    assert _front(win) == ["params"]
