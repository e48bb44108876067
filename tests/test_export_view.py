"""Export of any view: heatmap numbers (CSV, NPY), images (PNG, SVG), the context menu, File → Export View."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from gru_debugger.core.base.config import Config
from gru_debugger.core.control.controller import Controller
from gru_debugger.ui import export_view
from gru_debugger.ui.main_window import MainWindow

MENU = ["Export image (PNG)…", "Export image (SVG)…", "Export numbers (CSV)…", "Export numbers (NPY)…",
        "Export panel (PNG)…"]


@pytest.fixture(scope="module")
def shared_window(qapp):
    """One window for the module (building one takes seconds); tests only move the cursor."""
    win = MainWindow(Controller(Config(seed=0)), settings=None)
    win.show()
    QtWidgets.QApplication.processEvents()
    yield win
    win.close()
    win.deleteLater()
    QtWidgets.QApplication.processEvents()


@pytest.fixture
def window(shared_window, qtbot):
    qtbot.waitExposed(shared_window)
    shared_window.controller.run_to_start()
    shared_window.status.clearMessage()
    return shared_window


def raised(win, key):
    win.show_panel(key)
    for _ in range(3):
        QtWidgets.QApplication.processEvents()
    win.panels[key].refresh()
    return win.panels[key]


def test_numbers_as_csv_and_npy_read_back_equal(window, tmp_path):
    window.controller.run_to("cell", 3)
    panel = raised(window, "cell")
    heatmap = panel.heatmaps["z"]
    shown = heatmap.shown.data
    export_view.save_heatmap_numbers(heatmap, tmp_path / "z.csv")
    export_view.save_heatmap_numbers(heatmap, tmp_path / "z.npy")
    csv = np.loadtxt(tmp_path / "z.csv", delimiter=",", ndmin=2)
    np.testing.assert_array_equal(csv.astype(np.float32), shown)
    np.testing.assert_array_equal(np.load(tmp_path / "z.npy", allow_pickle=False), shown)
    header = [line for line in (tmp_path / "z.csv").read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert header[0].startswith("# z: z = σ(zx + zh)")
    assert any('"b0", "b1"' in line for line in header) and any('"j0", "j1"' in line for line in header)


def test_numbers_not_computed_yet_are_nan(window, tmp_path):
    window.controller.run_to("cell", 2)
    heatmap = raised(window, "time").heatmaps["time_h"]
    export_view.save_heatmap_numbers(heatmap, tmp_path / "h.npy")
    data = np.load(tmp_path / "h.npy")
    assert data.shape == heatmap.shown.data.shape
    np.testing.assert_array_equal(data[:, :3], heatmap.shown.data[:, :3])
    assert np.isnan(data[:, 3:]).all()  # the trace holds them, but they do not exist at the cursor


def test_a_bias_vector_exports_as_the_row_it_shows(window, tmp_path):
    heatmap = raised(window, "params").heatmaps["param/x2g.bias"]
    export_view.save_heatmap_numbers(heatmap, tmp_path / "b.csv")
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "b.csv", delimiter=",", ndmin=2),
                                  np.atleast_2d(heatmap.shown.data))


def test_panel_and_heatmap_images(window, tmp_path):
    window.controller.run_to("loss")
    panel = raised(window, "output")
    export_view.save_widget(panel, tmp_path / "panel.png")
    export_view.save_widget(panel, tmp_path / "panel.svg")
    image = QtGui.QImage(str(tmp_path / "panel.png"))
    assert image.size() == panel.size()
    assert ET.parse(tmp_path / "panel.svg").getroot().tag.endswith("svg")
    heatmap = panel.heatmaps["probs"]
    export_view.save_heatmap_image(heatmap, tmp_path / "probs.png")
    export_view.save_heatmap_image(heatmap, tmp_path / "probs.svg")
    small = QtGui.QImage(str(tmp_path / "probs.png"))
    rect = heatmap.plot.sceneBoundingRect()
    assert abs(small.width() - rect.width()) <= 1 and abs(small.height() - rect.height()) <= 1
    assert small.width() < image.width()
    assert ET.parse(tmp_path / "probs.svg").getroot().tag.endswith("svg")


def test_context_menu_has_the_export_actions(window):
    panel = raised(window, "cell")
    menu = export_view.heatmap_menu(panel, panel.heatmaps["z"])
    assert [a.text() for a in menu.actions()] == MENU
    numbers = [a for a in menu.actions() if "numbers" in a.text()]
    assert not any(a.isEnabled() for a in numbers)  # nothing computed yet at the start
    window.controller.run_to("cell", 0)
    panel.refresh()
    assert all(a.isEnabled() for a in export_view.heatmap_menu(panel, panel.heatmaps["z"]).actions())


def test_right_click_on_a_heatmap_asks_for_its_menu(window, qtbot):
    window.controller.run_to("cell", 1)
    panel = raised(window, "cell")
    heatmap = panel.heatmaps["n"]
    centre = panel.canvas.mapFromScene(heatmap.plot.vb.sceneBoundingRect().center())
    with qtbot.waitSignal(heatmap.context_requested, timeout=2000) as blocker:
        qtbot.mouseClick(panel.canvas.viewport(), QtCore.Qt.MouseButton.RightButton, pos=centre)
    assert isinstance(blocker.args[0], QtCore.QPoint)
    for menu in panel.findChildren(QtWidgets.QMenu, "heatmap-menu"):
        menu.close()


def test_file_menu_export_view_before_quit(window):
    actions = window.file_menu.actions()
    texts = [a.text() for a in actions]
    assert texts[0] == "&Open…" and texts[-1] == "&Quit"   # sessions first, Quit last
    assert window.export_view_action in actions
    assert actions.index(window.export_view_action) < len(actions) - 1


def test_export_view_saves_the_raised_panel_or_the_window(window, tmp_path):
    window.controller.run_to("backward", 4)
    panel = raised(window, "gradients")
    assert window.export_view(str(tmp_path / "view.png"))
    assert QtGui.QImage(str(tmp_path / "view.png")).size() == panel.size()
    assert window.export_view(str(tmp_path / "view.svg"))
    assert ET.parse(tmp_path / "view.svg").getroot().tag.endswith("svg")
    assert window.export_view(str(tmp_path / "window.png"), whole_window=True)
    assert QtGui.QImage(str(tmp_path / "window.png")).size() == window.size()


def test_unwritable_paths_go_to_the_status_bar(window, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    assert not window.export_view(str(blocker / "view.png"))
    assert window.status.currentMessage().startswith(f"Could not export to {blocker / 'view.png'}")
    window.status.clearMessage()
    window.controller.run_to("cell", 0)
    panel = raised(window, "cell")
    assert not export_view.export(panel, panel.heatmaps["z"], "numbers", blocker / "z.csv", "csv")
    assert "Could not export" in window.status.currentMessage()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_numbers_of_a_placeholder_are_refused(window, tmp_path):
    heatmap = raised(window, "cell").heatmaps["z"]
    with pytest.raises(ValueError, match="not computed"):
        export_view.save_heatmap_numbers(heatmap, tmp_path / "z.csv")
    assert not (tmp_path / "z.csv").exists()


def test_menu_actions_ask_for_a_path_then_save(window, tmp_path, monkeypatch):
    window.controller.run_to("cell", 2)
    panel = raised(window, "cell")
    asked = []

    def dialog(parent, caption, name, filters):
        asked.append((caption, name, filters))
        return str(tmp_path / "numbers"), filters.split(";;")[0]  # no suffix: the filter's is added

    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", dialog)
    menu = export_view.heatmap_menu(panel, panel.heatmaps["h"])
    next(a for a in menu.actions() if a.text() == "Export numbers (NPY)…").trigger()
    np.testing.assert_array_equal(np.load(tmp_path / "numbers.npy"), panel.heatmaps["h"].shown.data)
    assert asked == [("Export the numbers of h", "h.npy", "NumPy array (*.npy)")]


def test_file_export_view_dialog_whole_window_svg(window, tmp_path, monkeypatch):
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda parent, caption, name, filters: (str(tmp_path / "all"), "Whole window as SVG (*.svg)"))
    window.export_view_action.trigger()
    root = ET.parse(tmp_path / "all.svg").getroot()
    assert root.get("viewBox") == f"0 0 {window.width()} {window.height()}"


def test_heatmap_image_includes_its_shared_colour_bar(window, tmp_path):
    window.controller.run_to("cell", 3)
    panel = raised(window, "cell")
    guest, host = panel.heatmaps["zx"], panel.heatmaps["zh"]  # a row of one scale: zh draws the bar
    assert guest.colorbar is host.colorbar and guest.group[-1] is host and guest is not host
    for heatmap, name in ((guest, "zx"), (host, "zh")):
        export_view.save_heatmap_image(heatmap, tmp_path / f"{name}.png")
        export_view.save_heatmap_image(heatmap, tmp_path / f"{name}.svg")
    plot = guest.plot.sceneBoundingRect()
    bar = guest.colorbar.sceneBoundingRect()
    image = QtGui.QImage(str(tmp_path / "zx.png"))
    assert abs(image.width() - (plot.width() + export_view.BAR_GAP + bar.width())) <= 2
    assert abs(image.height() - max(plot.bottom(), bar.bottom()) + min(plot.top(), bar.top())) <= 2
    # the bar's strip on the right holds its colour ramp: many colours, red and blue among them
    strip = image.copy(int(plot.width()) + export_view.BAR_GAP, 0, 14, image.height())
    colours = {strip.pixelColor(x, y).name() for x in range(strip.width()) for y in range(strip.height())}
    assert len(colours) > 30
    reds = [c for c in colours if QtGui.QColor(c).red() > 180 > QtGui.QColor(c).blue()]
    blues = [c for c in colours if QtGui.QColor(c).blue() > 180 > QtGui.QColor(c).red()]
    assert reds and blues
    # the heatmap that hosts the bar has it inside its own rect already
    own = QtGui.QImage(str(tmp_path / "zh.png"))
    assert own.width() == int(export_view._heatmap_rect(host).width())  # its plot's rect, bar included
    root = ET.parse(tmp_path / "zx.svg").getroot()
    assert root.get("viewBox") == f"0 0 {image.width()} {image.height()}"
