"""The screenshot generator: files in order, real pictures, reproducible, index.md, errors."""
import hashlib
import re
import time

import numpy as np
import pytest
from PySide6 import QtGui

from gru_debugger import cli
from gru_debugger.core.model.phases import PHASES
from gru_debugger.ui.docs import screenshots
from gru_debugger.ui.docs.screenshots import MANIFEST, PANELS, PARTIAL_MARKER, plan_walk

NOTEBOOK = "resources/notebook_config.json"
PHASE_SUBSET = ["embed", "dropout_in", "cell", "loss"]  # dropout_in: the next Step raises the cell panel
PANEL_FILES = [f"{p.shot.stem}.png" for p in PANELS]


def frames_of(names):
    """The composed frames that go with these window images (every stop but the start has one)."""
    return [n.replace(".", "-frame.", 1) for n in names if not n.startswith("00-start")]


def with_frames(walk):
    return [n for w in walk for n in (w, *frames_of([w]))]


def run(capsys, *args):
    code = cli.main(["screenshots", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def distinct_colours(path) -> int:
    image = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
    assert not image.isNull(), path
    pixels = np.frombuffer(image.constBits(), np.uint32, image.sizeInBytes() // 4)
    return len(np.unique(pixels))


def leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".partial")]


@pytest.fixture(scope="module")
def subset(qapp, tmp_path_factory):
    """Two runs with the same arguments (reused by several tests: each run takes a few seconds).
    The second runs as on a slow machine: the event loop idles before each stop settles, so every
    idle-time timer of the window fires (the same pictures are expected)."""
    root = tmp_path_factory.mktemp("shots")
    outs = []
    settle = screenshots._Camera.settle

    def slow_settle(camera, panels=()):
        end = time.perf_counter() + 0.06
        while time.perf_counter() < end:
            camera.app.processEvents()
            time.sleep(0.005)
        settle(camera, panels)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(screenshots, "TRAINING_ITERATIONS", 5)  # the full walk below trains the real 30
        for name in ("first", "second"):
            if name == "second":
                patch.setattr(screenshots._Camera, "settle", slow_settle)
            out = root / name
            code = cli.main(["screenshots", "--out", str(out), "--config", NOTEBOOK, "--phases", *PHASE_SUBSET])
            assert code == 0
            outs.append(out)
    return outs


def test_walk_plan_names_sort_in_walk_order():
    names = [s.name for s in plan_walk(8)]
    # one Step Into frame, right after its whole timestep and sharing its number: the z gate at t = 2
    assert names[7:9] == ["07-gru-t02", "07-gru-t02-z"]
    names.remove("07-gru-t02-z")
    assert names[:6] == ["00-start", "01-tokenize", "02-batch", "03-embed", "04-dropout-in", "05-gru-t00"]
    assert names[12:19] == ["12-gru-t07", "13-stack", "14-dropout-out", "15-head", "16-loss", "17-zero-grad",
                            "18-backward-t07"]
    assert names[-3:] == ["25-backward-t00", "26-update", "27-forward-after"]
    assert names == sorted(names) and len(names) == 1 + len(PHASES) - 2 + 2 * 8
    # a restricted walk keeps the names of the full one, without the start
    assert [s.name for s in plan_walk(8, ["loss", "cell"]) if s.step.sub is None] == [
        n for n in names if "gru" in n or "loss" in n]
    assert [s.name for s in plan_walk(12, ["backward"])][:2] == ["22-backward-t11", "23-backward-t10"]


def test_expected_files_in_order(subset):
    out = subset[0]
    walk = [f"{s.name}.png" for s in plan_walk(8, PHASE_SUBSET)]
    timesteps = [f"{5 + t:02d}-gru-t{t:02d}.png" for t in range(8)]
    assert walk == (["03-embed.png", "04-dropout-in.png"] + timesteps[:3] + ["07-gru-t02-z.png"] + timesteps[3:]
                    + ["16-loss.png"])
    frames = frames_of(walk)
    assert sorted(p.name for p in out.iterdir()) == sorted(walk + frames + PANEL_FILES + ["index.md", MANIFEST])
    assert sorted(screenshots.read_manifest(out)) == sorted(walk + frames + PANEL_FILES + ["index.md"])
    assert not leftovers(out.parent)


def test_images_are_real_pictures_and_differ(subset):
    out = subset[0]
    images = sorted(out.glob("*.png"))
    for path in images:
        assert distinct_colours(path) > 20, f"{path.name} looks blank"
    window_shots = [p for p in images if not p.name.startswith("panel-") and not p.name.endswith("-frame.png")]
    sizes = {QtGui.QImage(str(p)).size().toTuple() for p in window_shots}
    assert sizes == {(1600, 1000)}
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in images}
    assert len(digests) == len(images), "two images are identical"


def test_same_config_gives_identical_files(subset):
    first, second = subset
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_index_lists_every_image_in_order_with_a_caption(subset):
    out = subset[0]
    text = (out / "index.md").read_text(encoding="utf-8")
    assert text.startswith("# ")
    assert "seed 0" in text and "1600×1000" in text and "light theme" in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:\d{2}", text), "no dates or times: runs must match"
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    walk = [f"{s.name}.png" for s in plan_walk(8, PHASE_SUBSET)]
    assert links == with_frames(walk) + PANEL_FILES
    sections = text.split("\n## ")[1:]
    assert len(sections) == len(walk + PANEL_FILES)
    for section, link in zip(sections, walk + PANEL_FILES):
        paragraphs = [p for p in section.split("\n\n") if p.strip()]
        assert paragraphs[1] == f"![{paragraphs[0]}]({link})"
        if link in walk:  # the composed frame under the window, and the caption names its callouts
            assert paragraphs[2] == f"![{paragraphs[0]}: the panels]({frames_of([link])[0]})"
            paragraphs.pop(2)
            assert "In the frame: ①" in paragraphs[2] or "In the frame: ②" in paragraphs[2], link
        assert len(paragraphs[2]) > 80, f"caption of {link} is missing or too short"


def test_existing_folder_keeps_other_files(qapp, tmp_path, capsys, monkeypatch):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "99-old-step.png").write_bytes(b"named like ours, but not ours")
    monkeypatch.setattr(screenshots, "TRAINING_ITERATIONS", 2)
    monkeypatch.setattr(screenshots, "PANELS", PANELS[:1] + PANELS[-1:])
    code, stdout, _ = run(capsys, "--out", out, "--phases", "zero_grad", "--size", "1200x900")
    assert code == 0 and "wrote 6 files (3 images, 1 frame, index.md and the list of files written" in stdout
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "17-zero-grad-frame.png", "17-zero-grad.png",
                                                     "99-old-step.png", "index.md", "notes.txt",
                                                     "panel-network.png", "panel-training.png"]
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "99-old-step.png").read_bytes() == b"named like ours, but not ours"
    assert QtGui.QImage(str(out / "17-zero-grad.png")).size().toTuple() == (1200, 900)
    assert not leftovers(tmp_path)


def test_svg_format(qapp, tmp_path, capsys, monkeypatch):
    import xml.etree.ElementTree as ET

    monkeypatch.setattr(screenshots, "PANELS", tuple(p for p in PANELS if p.key == "cell"))
    code, _, _ = run(capsys, "--out", tmp_path / "svg", "--format", "svg", "--phases", "head", "--theme", "dark")
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == [MANIFEST, "15-head-frame.svg", "15-head.svg",
                                                                     "index.md", "panel-cell.svg"]
    for path in (tmp_path / "svg").glob("*.svg"):
        assert ET.parse(path).getroot().tag.endswith("svg")
    assert "dark theme" in (tmp_path / "svg" / "index.md").read_text(encoding="utf-8")


def test_failure_midway_leaves_nothing(qapp, tmp_path, monkeypatch):
    def broken(camera, *args, **kwargs):
        (camera.folder / "03-embed.png").write_bytes(b"half")
        raise RuntimeError("boom")

    monkeypatch.setattr(screenshots, "_walk", broken)
    with pytest.raises(RuntimeError):
        screenshots.generate(tmp_path / "out", phases=["embed"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["--phases", "cell", "backprop"], "unknown phase(s) backprop; phases are: tokenize, batch"),
    (["--size", "big"], "--size must look like WIDTHxHEIGHT"),
    (["--size", "640x480"], "the width must be 1200..4000 and the height 700..3000"),
    (["--stops", "gru-t99"], "unknown stop(s) gru-t99"),
    (["--stops", "gru-t03", "--phases", "loss"], "no stop is both in --stops and in --phases"),
    (["--frames-only", "--animate"], "--animate needs the whole-window images"),
    (["--backward-config", "resources/examples/rnn-vanishing.json"], "same cell and context length"),
    (["--backward-config", "no/such/config.json"], "cannot read config"),
    (["--size", "5000x1000"], "the width must be 1200..4000"),
    (["--format", "jpg"], "invalid choice"),
    (["--config", "no/such/config.json"], "cannot read config"),
])
def test_bad_arguments_fail_in_one_line(tmp_path, capsys, args, message):
    code, stdout, stderr = run(capsys, "--out", tmp_path / "out", *args)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and message in stderr
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_fails_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    code, _, stderr = run(capsys, "--out", blocker / "shots")
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error: cannot write into") and "not a folder" in stderr
    code, _, stderr = run(capsys, "--out", blocker)
    assert code == 2 and stderr.count("\n") == 1 and "is a file" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_generator_reports_unwritable_folder_as_oserror(tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(OSError) as info:
        screenshots.generate(blocker / "shots", phases=["embed"])
    assert str(blocker / "shots") in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_full_walk(qapp, tmp_path, capsys):
    code, stdout, _ = run(capsys, "--out", tmp_path / "walk")
    assert code == 0
    walk = [f"{s.name}.png" for s in plan_walk(8)]
    files = sorted(p.name for p in (tmp_path / "walk").iterdir())
    assert files == sorted(walk + frames_of(walk) + PANEL_FILES + ["index.md", MANIFEST])
    assert f"wrote {len(files)} files ({len(walk) + len(PANEL_FILES)} images, {len(frames_of(walk))} frames, index.md" in stdout
    text = (tmp_path / "walk" / "index.md").read_text(encoding="utf-8")
    assert re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text) == with_frames(walk) + PANEL_FILES
    start, loss = (QtGui.QImage(str(tmp_path / "walk" / n)) for n in ("00-start.png", "16-loss.png"))
    assert start != loss
    # the Step Into frame says what its sub-step computes
    assert "## GRU, t = 2, Step Into: update gate z" in text and "computes `z = σ(zx + zh)`" in text
    # no caption repeats the one before it word for word
    captions = [[p for p in section.split("\n\n") if not p.startswith(("![", "<picture"))][1]
                for section in text.split("\n## ")[1:]]
    assert len(captions) == len(walk) + len(PANEL_FILES)
    for before, after in zip(captions, captions[1:]):
        assert before != after, after


def test_both_themes_at_double_scale(qapp, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(screenshots, "PANELS", PANELS[:1])
    args = ["--phases", "zero_grad", "--size", "1200x900", "--theme", "both", "--scale", "2"]
    outs = [tmp_path / "one", tmp_path / "two"]
    for out in outs:
        code, stdout, stderr = run(capsys, "--out", out, *args)
        assert code == 0, stderr
    out = outs[0]
    names = ["17-zero-grad.png", "17-zero-grad-dark.png", "panel-network.png", "panel-network-dark.png",
             "17-zero-grad-frame.png", "17-zero-grad-frame-dark.png"]
    assert sorted(p.name for p in out.iterdir()) == sorted(names + ["index.md", MANIFEST])
    assert sorted(screenshots.read_manifest(out)) == sorted(names + ["index.md"])
    light, dark = (QtGui.QImage(str(out / n)) for n in names[:2])
    assert light.size().toTuple() == dark.size().toTuple() == (2400, 1800)
    assert light.pixelColor(5, 5).lightness() > 128 > dark.pixelColor(5, 5).lightness()
    text = (out / "index.md").read_text(encoding="utf-8")
    assert ('<picture><source media="(prefers-color-scheme: dark)" srcset="17-zero-grad-dark.png">'
            '<img alt="Zero grad" src="17-zero-grad.png"></picture>') in text
    assert "--theme both --scale 2" in text
    assert 'srcset="17-zero-grad-frame-dark.png"' in text
    assert QtGui.QImage(str(out / names[4])).size().toTuple() == (3200, 1800)
    for name in names + ["index.md"]:
        assert (out / name).read_bytes() == (outs[1] / name).read_bytes(), name


# ------------------------------------------------------------------ the manifest: only our own files
@pytest.fixture
def small_run(qapp, monkeypatch):
    """A quick run: one phase, one panel."""
    monkeypatch.setattr(screenshots, "PANELS", PANELS[:1])
    return ["--phases", "zero_grad", "--size", "1200x900"]


def test_users_file_named_like_ours_is_never_overwritten(tmp_path, capsys, small_run):
    out = tmp_path / "docs"
    out.mkdir()
    users = out / "17-zero-grad.png"
    users.write_bytes(b"the user's picture")
    code, stdout, stderr = run(capsys, "--out", out, *small_run)
    assert code == 2 and stdout == "" and stderr.count("\n") == 1 and stderr.startswith("error: ")
    assert str(users) in stderr and "another folder" in stderr
    assert users.read_bytes() == b"the user's picture"
    assert sorted(p.name for p in out.iterdir()) == ["17-zero-grad.png"] and not leftovers(tmp_path)


def test_second_run_replaces_its_own_files_and_removes_its_old_ones(tmp_path, capsys, small_run):
    out = tmp_path / "docs"
    assert run(capsys, "--out", out, *small_run)[0] == 0
    (out / "index.md").write_text("stale index", encoding="utf-8")  # changed by hand: no longer ours
    code, _, stderr = run(capsys, "--out", out, *small_run)
    assert code == 2 and str(out / "index.md") in stderr
    assert (out / "index.md").read_text(encoding="utf-8") == "stale index"
    (out / "index.md").unlink()
    assert run(capsys, "--out", out, *small_run)[0] == 0  # ours again (and index.md is back)
    first = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    # a run of another phase replaces our earlier images with its own, keeps the user's notes
    (out / "notes.md").write_text("mine", encoding="utf-8")
    code, _, _ = run(capsys, "--out", out, "--phases", "loss", "--size", "1200x900")
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([MANIFEST, "16-loss.png", "16-loss-frame.png", "index.md", "notes.md", "panel-network.png"])
    assert "17-zero-grad.png" in first
    assert sorted(screenshots.read_manifest(out)) == ["16-loss-frame.png", "16-loss.png", "index.md",
                                                      "panel-network.png"]


def test_foreign_manifest_is_refused(tmp_path, capsys, small_run):
    out = tmp_path / "docs"
    out.mkdir()
    (out / MANIFEST).write_text("[1, 2]", encoding="utf-8")
    code, _, stderr = run(capsys, "--out", out, *small_run)
    assert code == 2 and str(out / MANIFEST) in stderr
    assert (out / MANIFEST).read_text(encoding="utf-8") == "[1, 2]"


def test_stale_partial_folders_are_removed_only_with_our_marker(tmp_path, capsys, small_run):
    import json
    import socket

    out = tmp_path / "docs"
    stale = tmp_path / ".docs.abc123.partial"
    stale.mkdir()
    (stale / "05-gru-t00.png").write_bytes(b"half")
    (stale / PARTIAL_MARKER).write_text(json.dumps({"pid": 2**22 + 12345, "host": socket.gethostname()}))
    foreign = tmp_path / ".docs.xyz.partial"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("not ours")
    assert run(capsys, "--out", out, *small_run)[0] == 0
    assert not stale.exists()
    assert (foreign / "keep.txt").read_text() == "not ours"
    assert leftovers(tmp_path) == [".docs.xyz.partial"]
    assert PARTIAL_MARKER not in {p.name for p in out.iterdir()}


def test_interrupted_run_leaves_nothing_behind(tmp_path, monkeypatch):
    def interrupted(camera, *args, **kwargs):
        (camera.folder / "03-embed.png").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(screenshots, "_walk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        screenshots.generate(tmp_path / "out", phases=["embed"])
    assert list(tmp_path.iterdir()) == []


def test_lstm_config_renders_the_lstms_walk_with_its_own_captions(qapp, tmp_path, capsys, monkeypatch):
    config = tmp_path / "lstm.json"
    config.write_text('{"cell": "lstm", "seed": 0}')
    monkeypatch.setattr(screenshots, "PANELS", tuple(p for p in PANELS if p.key == "cell"))
    out = tmp_path / "lstm"
    code, _, err = run(capsys, "--out", out, "--config", config, "--phases", "cell", "--size", "1200x900")
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert "05-lstm-t00.png" in names and "12-lstm-t07.png" in names and "panel-cell.png" in names
    assert not any("gru" in n for n in names if n != MANIFEST)
    index = (out / "index.md").read_text()
    assert "## LSTM, t = 3" in index and "c_3 = f ⊙ c_2 + i ⊙ g" in index
    assert "Panel: LSTM cell" in index and "update gate" not in index


def test_composed_frames_have_one_size_and_numbered_callouts(subset):
    from gru_debugger.ui.docs import frames
    from gru_debugger.ui.widgets import theme

    out = subset[0]
    accent = QtGui.QColor(theme.LIGHT.active).rgb() & 0xFFFFFF
    parts = frames.regions()
    for stop in plan_walk(8, ["cell"]):
        frame, window = out / f"{stop.name}-frame.png", out / f"{stop.name}.png"
        image = QtGui.QImage(str(frame)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
        assert image.size().toTuple() == frames.FRAME_SIZE, frame.name
        assert frame.read_bytes() != window.read_bytes()
        pixels = np.frombuffer(image.constBits(), np.uint32, image.sizeInBytes() // 4).reshape(
            image.height(), image.width()) & 0xFFFFFF
        for key in ("panel", "equations"):  # ① on the written heatmap, ② on the current equation line
            x, y, w, h = parts[key]
            assert (pixels[y:y + h, x:x + w] == accent).sum() > 150, (frame.name, key)


def test_callout_places_stay_inside_their_part():
    from gru_debugger.ui.docs import frames

    parts = frames.regions()
    assert sum(w * h for (_, _, w, h) in parts.values()) == frames.FRAME_SIZE[0] * frames.FRAME_SIZE[1]
    x, y = frames.place((-30, 5000), parts["equations"])
    assert parts["equations"][0] < x - frames.CALLOUT_RADIUS and y + frames.CALLOUT_RADIUS < frames.FRAME_SIZE[1]
    assert frames.short_title("h = (1−z)⊙n + z⊙h(t−1)") == "h"
    assert frames.short_title("loss per position −log p(target) mean = 3.5835") == "loss per position"
    assert frames.callout_note([frames.Callout(1, 0, 0, "h"), frames.Callout(2, 0, 0)]) == (
        "In the frame: ① the new `h`, ② its equation.")


def test_composing_a_frame_puts_every_dock_back_where_it_was(qapp, tmp_path):
    """The frames undock panels to size them; the next whole-window image must show the window's own layout."""
    from gru_debugger.core.base.config import Config
    from gru_debugger.core.control.controller import Controller
    from gru_debugger.core.model.phases import Step
    from gru_debugger.ui.docs import frames

    camera = screenshots._Camera(qapp, Controller(Config()), (1600, 1000), "png", tmp_path)
    try:
        camera.controller.run_to("cell", 3)
        camera.settle()

        def layout():
            return {k: d.geometry().getRect() for k, d in camera.window.docks.items()
                    if d.isVisible() and not d.visibleRegion().isEmpty()}

        before = layout()
        frames.compose(camera, Step("cell", 3), "frame", "t = 3")
        assert layout() == before
        assert not any(d.isFloating() for d in camera.window.docks.values())
    finally:
        camera.close()


# ------------------------------------------------------------------ small windows, the README's images
def test_a_1280x800_window_shows_the_compact_layout(qapp, tmp_path, capsys):
    code, stdout, stderr = run(capsys, "--out", tmp_path / "small", "--size", "1280x800", "--stops", "gru-t03")
    assert code == 0, stderr
    assert "wrote 4 files (1 image, 1 frame, index.md and the list of files written" in stdout
    out = tmp_path / "small"
    assert sorted(p.name for p in out.iterdir()) == sorted(["08-gru-t03.png", "08-gru-t03-frame.png", "index.md",
                                                            MANIFEST])
    assert QtGui.QImage(str(out / "08-gru-t03.png")).size().toTuple() == (1280, 800)
    assert QtGui.QImage(str(out / "08-gru-t03-frame.png")).size().toTuple() == (1600, 900)  # frames: one size
    assert "1280×800 window" in (out / "index.md").read_text(encoding="utf-8")


def test_a_window_below_its_minimum_is_refused_in_one_line(qapp, tmp_path, capsys):
    code, _, stderr = run(capsys, "--out", tmp_path / "tiny", "--size", "1200x700", "--stops", "gru-t03")
    if code == 0:  # the window fits: nothing to refuse on this machine's fonts
        return
    assert stderr.count("\n") == 1 and "the window cannot be 1200x700" in stderr
    assert not (tmp_path / "tiny").exists() and not leftovers(tmp_path)


def test_stops_by_name_with_or_without_number():
    assert [s.name for s in plan_walk(8, names=["gru-t03", "21-backward-t04"])] == ["08-gru-t03", "21-backward-t04"]
    assert [s.name for s in plan_walk(8, ["cell"], names=["gru-t03", "backward-t04"])] == ["08-gru-t03"]
    assert [s.name for s in plan_walk(8, names=["start"])] == ["00-start"]
    with pytest.raises(ValueError, match="unknown stop"):
        plan_walk(8, names=["gru-t08"])


README_STOPS = list(screenshots.README_STOPS)
README_FILES = [f"{s.name}{FRAME}{dark}.png" for s in plan_walk(8, names=README_STOPS)
                for FRAME in ["-frame"] for dark in ("", "-dark")]


@pytest.fixture(scope="module")
def readme_runs(qapp, tmp_path_factory):
    """The README's command, twice (its images are reproducible)."""
    root = tmp_path_factory.mktemp("readme")
    args = screenshots.README_COMMAND.split()[3:]  # after "python main.py screenshots"
    assert args[:2] == ["--out", "docs/readme"]
    outs = []
    for name in ("first", "second"):
        out = root / name
        assert cli.main(["screenshots", "--out", str(out), *args[2:]]) == 0
        outs.append(out)
    return outs


def test_readme_command_writes_exactly_its_images_at_2x_in_both_themes(readme_runs):
    out = readme_runs[0]
    assert sorted(p.name for p in out.iterdir()) == sorted(README_FILES + ["index.md", MANIFEST])
    for name in README_FILES:
        assert QtGui.QImage(str(out / name)).size().toTuple() == (3200, 1800), name
        assert distinct_colours(out / name) > 20, name
    for light in README_FILES[::2]:  # light and dark: the same picture in two themes
        a, b = QtGui.QImage(str(out / light)), QtGui.QImage(str(out / light.replace(".png", "-dark.png")))
        assert a.pixelColor(4, 300).lightness() > 128 > b.pixelColor(4, 300).lightness()
    for name in README_FILES + ["index.md"]:
        assert (out / name).read_bytes() == (readme_runs[1] / name).read_bytes(), name


def test_readme_images_captions_name_the_config_of_their_numbers(readme_runs):
    text = (readme_runs[0] / "index.md").read_text(encoding="utf-8")
    sections = {s.split("\n", 1)[0]: s for s in text.split("\n## ")[1:]}
    forward, backward = sections["GRU, t = 3"], sections["Backward, t = 4"]
    assert "random-init.json" in backward and "Random initialisation" in backward
    assert "random-init.json" not in forward
    assert ('<picture><source media="(prefers-color-scheme: dark)" srcset="21-backward-t04-frame-dark.png">'
            '<img alt="Backward, t = 4" src="21-backward-t04-frame.png"></picture>') in backward
    assert "every gradient behind the output head is round-off" in text  # why: the notebook's are
    assert "--backward-config resources/examples/random-init.json" in text and "--frames-only" in text


def test_backward_config_is_there_for_real_gradients():
    from gru_debugger.core.storage.config_load import load_config
    from gru_debugger.core.control.controller import Controller

    notebook = Controller(screenshots.screenshot_config(load_config(NOTEBOOK))[0])
    random = Controller(screenshots.screenshot_config(load_config(screenshots.README_BACKWARD_CONFIG))[0])
    assert screenshots.all_roundoff(notebook) and not screenshots.all_roundoff(random)


def test_readme_shows_the_commands_images_as_sharp_light_and_dark_pairs():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert screenshots.README_COMMAND in readme
    assert not re.search(r"!\[[^\]]*\]\([^)]+\.png\)", readme), "every image is a <picture> pair"
    pictures = re.findall(r'<picture><source media="\(prefers-color-scheme: dark\)" srcset="([^"]+)">'
                          r'<img alt="[^"]+" src="([^"]+)" width="(\d+)"></picture>', readme)
    assert len(pictures) == len(re.findall(r"^<picture>", readme, re.M)) >= len(README_STOPS)
    used = set()
    for dark, light, width in pictures:
        assert light.startswith("docs/readme/") and dark == light.replace(".png", "-dark.png")
        assert 600 <= int(width) <= 1000  # a page's width: the 2x pixels are drawn sharp
        used |= {light.removeprefix("docs/readme/"), dark.removeprefix("docs/readme/")}
    assert used == set(README_FILES)  # the README uses exactly what the command writes


def test_backward_config_takes_the_late_stops_and_panels_in_walk_order(qapp, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(screenshots, "PANELS", PANELS[:2])  # the network (taken at backward) and the input panel
    assert [p.key for p in screenshots.PANELS] == ["diagram", "input"]
    code, _, stderr = run(capsys, "--out", tmp_path / "out", "--phases", "loss", "update",
                          "--backward-config", screenshots.README_BACKWARD_CONFIG)
    assert code == 0, stderr
    text = (tmp_path / "out" / "index.md").read_text(encoding="utf-8")
    sections = [s.split("\n", 1) for s in text.split("\n## ")[1:]]
    assert [title for title, _ in sections] == ["Loss", "Update", "Panel: Network diagram (at Backward, t = 3)",
                                                "Panel: Input (at Dropout (input))"]
    late = [("random-init.json" in body) for _, body in sections]
    assert late == [False, True, True, False]
    assert "From backward on" in text and "panel images taken there" in text
