"""The animated walk-through: assemble() on small synthetic frames (no Qt), and screenshots --animate."""
import hashlib
import re

import numpy as np
import pytest
from PIL import Image

from gru_debugger import cli
from gru_debugger.ui.docs import animate, screenshots
from gru_debugger.ui.docs.animate import FILE_NAME, assemble, check_frame_ms
from gru_debugger.ui.docs.screenshots import MANIFEST, PANELS, plan_walk


def synthetic_frames(count=5, size=(96, 60), noisy=False):
    """Frames like the window's: a flat background, a few flat blocks, one moving 'cursor' block;
    ``noisy`` adds a smooth gradient strip (hundreds of colours, like a colour bar)."""
    frames = []
    for i in range(count):
        a = np.full((size[1], size[0], 3), 240, np.uint8)
        a[5:20, 5:40] = (200, 30, 40)
        a[30:50, 50:90] = (30, 90, 200)
        a[40:55, 5 + 8 * i:15 + 8 * i] = (255, 140, 0)
        if noisy:
            ramp = np.linspace(0, 1, size[1])[:, None] * np.linspace(0, 1, 10)[None, :]
            a[:, -10:, 0] = (ramp * 255).astype(np.uint8)
            a[:, -10:, 1] = ((1 - ramp) * 255).astype(np.uint8)
            a[:, -10:, 2] = (np.arange(size[1]) * 37 % 256)[:, None].astype(np.uint8)
        frames.append(Image.fromarray(a, "RGB"))
    return frames


def decoded(path):
    with Image.open(path) as gif:
        out, times = [], []
        for i in range(gif.n_frames):
            gif.seek(i)
            out.append(np.asarray(gif.convert("RGB")))
            times.append(gif.info["duration"])
    return out, times


def test_frames_in_order_with_held_first_and_last(tmp_path):
    frames = synthetic_frames(6)
    info = assemble(frames, tmp_path / "a.gif", frame_ms=500)
    images, times = decoded(tmp_path / "a.gif")
    assert info.frames == len(images) == 6
    assert times == [1500, 500, 500, 500, 500, 1500] == list(info.durations)
    # few colours: every pixel of every frame comes back exactly, in order
    for got, want in zip(images, frames):
        assert np.array_equal(got, np.asarray(want))


def test_same_frames_give_identical_bytes(tmp_path):
    first = assemble(synthetic_frames(4, noisy=True), tmp_path / "one.gif", frame_ms=900)
    second = assemble(synthetic_frames(4, noisy=True), tmp_path / "two.gif", frame_ms=900)
    assert (tmp_path / "one.gif").read_bytes() == (tmp_path / "two.gif").read_bytes()
    assert first.bytes == second.bytes == (tmp_path / "one.gif").stat().st_size
    third = assemble(synthetic_frames(4, noisy=True), tmp_path / "three.gif", frame_ms=300)
    assert (tmp_path / "three.gif").read_bytes() != (tmp_path / "one.gif").read_bytes()


def test_small_frames_make_a_small_file(tmp_path):
    info = assemble(synthetic_frames(10, noisy=True), tmp_path / "a.gif")
    raw = sum(96 * 60 * 3 for _ in range(10))
    assert info.bytes < 20_000 and info.bytes < raw / 2


def test_many_colours_keep_the_frequent_ones_exactly(tmp_path):
    frames = synthetic_frames(3, noisy=True)
    assert len(np.unique(np.asarray(frames[0]).reshape(-1, 3), axis=0)) > 256
    assemble(frames, tmp_path / "a.gif")
    images, _ = decoded(tmp_path / "a.gif")
    for got, want in zip(images, frames):
        want = np.asarray(want)
        flat = want[:, :-10]  # everything but the gradient strip: background and blocks
        assert np.array_equal(got[:, :-10], flat)
        strip = np.abs(got[:, -10:].astype(int) - want[:, -10:].astype(int))
        assert 0 < strip.mean() < 12  # the strip: near, not exact (more colours than the palette holds)


def test_paths_and_wide_frames_are_scaled_down(tmp_path):
    paths = []
    for i, frame in enumerate(synthetic_frames(3, size=(400, 250))):
        paths.append(tmp_path / f"{i}.png")
        frame.save(paths[-1])
    info = assemble(paths, tmp_path / "a.gif", max_width=200)
    assert info.size == (200, 125)
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.size == (200, 125) and gif.n_frames == 3


def test_qimage_frames(qapp, tmp_path):
    from PySide6 import QtGui

    image = QtGui.QImage(30, 20, QtGui.QImage.Format.Format_ARGB32)
    image.fill(QtGui.QColor(10, 200, 30))
    other = QtGui.QImage(image)
    other.setPixelColor(3, 4, QtGui.QColor(250, 0, 0))
    assemble([image, other], tmp_path / "q.gif")
    images, _ = decoded(tmp_path / "q.gif")
    assert tuple(images[0][0, 0]) == (10, 200, 30) and tuple(images[1][4, 3]) == (250, 0, 0)


@pytest.mark.parametrize("value", [0, 19, 60_001, -900, 1.5, "900", True, None])
def test_bad_frame_times_are_refused(tmp_path, value):
    with pytest.raises(ValueError, match="--frame-ms must be"):
        check_frame_ms(value)
    with pytest.raises(ValueError):
        assemble(synthetic_frames(2), tmp_path / "a.gif", frame_ms=value)
    assert not (tmp_path / "a.gif").exists()


def test_no_frames_is_refused(tmp_path):
    with pytest.raises(ValueError, match="at least one frame"):
        assemble([], tmp_path / "a.gif")


# ------------------------------------------------------------------ screenshots --animate
PHASES = ["embed", "loss"]


def run(capsys, *args):
    code = cli.main(["screenshots", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def quick(qapp, monkeypatch):
    monkeypatch.setattr(screenshots, "PANELS", PANELS[:1])
    return ["--phases", *PHASES, "--size", "1200x900"]


def test_animate_writes_the_walk_as_one_gif_in_the_manifest_and_index(tmp_path, capsys, quick):
    out = tmp_path / "docs"
    code, stdout, stderr = run(capsys, "--out", out, *quick, "--animate", "--frame-ms", "400")
    assert code == 0, stderr
    walk = [f"{s.name}.png" for s in plan_walk(8, PHASES)]
    frames = [n.replace(".", "-frame.", 1) for n in walk]
    assert sorted(p.name for p in out.iterdir()) == sorted(walk + frames + ["panel-network.png", "index.md",
                                                                             MANIFEST, FILE_NAME])
    assert FILE_NAME in screenshots.read_manifest(out)
    images, times = decoded(out / FILE_NAME)
    assert len(images) == len(walk) == 2 and times == [1200, 1200]
    assert images[0].shape == (900, 1200, 3)
    # each frame is its window image, up to the shared palette
    for got, name in zip(images, walk):
        want = np.asarray(Image.open(out / name).convert("RGB")).astype(int)
        assert (got == want).all(-1).mean() > 0.8
        assert np.abs(got.astype(int) - want).mean() < 3
    assert f"{FILE_NAME} (2 frames, 1200x900" in stdout
    text = (out / "index.md").read_text(encoding="utf-8")
    head = text.split("\n## ")[0]
    assert f"]({FILE_NAME})" in head and "--frame-ms 400" in head
    assert re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)[0] == FILE_NAME


def test_animate_is_reproducible_and_replaces_only_its_own_gif(tmp_path, capsys, quick):
    first, second = tmp_path / "one", tmp_path / "two"
    assert run(capsys, "--out", first, *quick, "--animate")[0] == 0
    assert run(capsys, "--out", second, *quick, "--animate")[0] == 0
    assert (first / FILE_NAME).read_bytes() == (second / FILE_NAME).read_bytes()
    _, times = decoded(first / FILE_NAME)
    assert times == [3 * animate.DEFAULT_FRAME_MS] * 2
    # a run without --animate removes the animation it made before (it is in the manifest)
    assert run(capsys, "--out", first, *quick)[0] == 0
    assert not (first / FILE_NAME).exists() and FILE_NAME not in screenshots.read_manifest(first)
    # a walkthrough.gif the generator did not write is never overwritten
    users = second / FILE_NAME
    users.write_bytes(b"GIF89a the user's own")
    digest = hashlib.sha256(users.read_bytes()).hexdigest()
    code, stdout, stderr = run(capsys, "--out", second, *quick, "--animate")
    assert code == 2 and stdout == "" and stderr.count("\n") == 1 and str(users) in stderr
    assert hashlib.sha256(users.read_bytes()).hexdigest() == digest


@pytest.mark.parametrize("args, message", [
    (["--animate", "--frame-ms", "0"], "--frame-ms must be 20..60000 milliseconds, got 0"),
    (["--animate", "--frame-ms", "-100"], "--frame-ms must be 20..60000"),
    (["--animate", "--frame-ms", "100000"], "--frame-ms must be 20..60000"),
    (["--animate", "--frame-ms", "fast"], "invalid int value: 'fast'"),
    (["--animate", "--frame-ms", "1.5"], "invalid int value"),
    (["--frame-ms", "500"], "--frame-ms needs --animate"),
    (["--animate", "--format", "svg"], "--animate needs --format png"),
])
def test_bad_animate_options_fail_in_one_line(tmp_path, capsys, args, message):
    code, stdout, stderr = run(capsys, "--out", tmp_path / "out", "--phases", "embed", *args)
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and message in stderr
    assert list(tmp_path.iterdir()) == []
