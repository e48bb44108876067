"""Screenshots for the documentation, made headlessly (``python main.py screenshots``).

Builds the real window offscreen, walks one training iteration with the
controller (every phase, every GRU timestep, one Step Into sub-step inside a
timestep, every backward timestep) and saves the whole window at each stop,
then single panels and the loss curve of a short training run. Writes
``index.md`` with a caption per image. ``scale`` renders every image at that
device pixel ratio (sharp on high-density screens); ``themes`` ("light",
"dark" or both) writes ``NAME.png`` and, for the dark theme next to the light
one, ``NAME-dark.png``, which index.md shows to readers whose system is dark.

``backward_config``: a second config for the steps from backward on (backward,
update, the forward pass after it, and the panel images taken there), so that a
walk whose own gradients are round-off (the notebook's constant head) shows real
ones there; each of those captions names the config its numbers come from.
``stops`` keeps only the named stops of the walk (and no panel images);
``frames_only`` writes the composed frames without the whole-window images:
together they write exactly a document's images (the README's: README_COMMAND).

Reproducible: the same config gives byte-identical PNGs on the same machine
(no time stamps, a fixed seed when the config leaves it unset, no stored window
geometry, no keyboard focus, no hover). Output is written to a temporary
folder next to the destination and moved into place only when complete.
"""
from __future__ import annotations

import html
import dataclasses
import json
import os
import re
import shutil
import socket
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from ...core.base.config import Config
from ...core.storage.config_load import load_config
from ...core.model.phases import PHASES, Step
from ..registry import shots as registry_shots
from .frames import FRAME_SUFFIX
from .png_writer import PngWriter

DEFAULT_SIZE = (1600, 1000)
MIN_SIZE = (1200, 700)       # about the smallest the window (its compact layout) allows
MAX_SIZE = (4000, 3000)
FORMATS = ("png", "svg")
DEFAULT_SEED = 0             # used when the config leaves the seed unset (null)
TRAINING_ITERATIONS = 30     # the short run behind the loss-curve image
EQUATION_SIZE = (560, 200)   # the equation panel's picture: this wide, and as tall as its text
SETTLE_ROUNDS = 4            # event-loop rounds before a grab (pyqtgraph lays out on events)
MAX_SCALE = 4                # --scale: device pixel ratio of the images, 1..4
SUBSTEP_T = 2                # the walk's Step Into frame: this timestep's ...
SUBSTEP_INDEX = 2            # ... third sub-step (the GRU's z gate)
DARK_SUFFIX = "-dark"        # with both themes: NAME.png (light) and NAME-dark.png
THEMES = ("light", "dark", "both")
LATE_PHASE = "backward"      # backward_config: used from this phase on
# The README's images: composed frames at 2x in both themes, the backward one from random weights.
README_STOPS = ("gru-t03", "backward-t04")
README_BACKWARD_CONFIG = "resources/examples/random-init.json"
README_COMMAND = ("python main.py screenshots --out docs/readme --scale 2 --theme both --frames-only "
                  f"--stops {' '.join(README_STOPS)} --backward-config {README_BACKWARD_CONFIG}")

# The list of files this generator wrote into the output folder (with their
# SHA-256): only those are ever replaced or removed by a later run.
MANIFEST = ".gru-debugger-screenshots.json"
MANIFEST_KIND = "gru-debugger screenshots"
# Inside a temporary ``.NAME.*.partial`` folder: says it is ours and who is writing it.
PARTIAL_MARKER = ".gru-debugger-partial"


class OutputConflict(ValueError):
    """The output folder holds a file we would write but did not write ourselves."""

# Panel images, from the panel registry; the training run last, because it moves the model on.
PANELS = tuple(sorted(registry_shots(), key=lambda p: p.key == "training"))


@dataclass(frozen=True)
class Stop:
    """One image of the walk-through: its number in the full walk and the step (None: start)."""

    number: int
    step: Step | None
    digits: int = 2
    t_digits: int = 2
    cell: str = "gru"   # the recurrent phase's frames are named after the cell: "05-gru-t00"

    @property
    def name(self) -> str:
        if self.step is None:
            what = "start"
        else:
            what = self.cell if self.step.phase == "cell" else self.step.phase.replace("_", "-")
            if self.step.t is not None:
                what += f"-t{self.step.t:0{self.t_digits}d}"
            if self.step.sub is not None:  # a Step Into frame: after its whole timestep, "07-gru-t02-z"
                what += f"-{self.step.sub}"
        return f"{self.number:0{self.digits}d}-{what}"


@dataclass(frozen=True)
class Image:
    file: str
    title: str
    caption: str
    dark_file: str | None = None      # with both themes: the dark picture of the same view
    frame: str | None = None          # the composed frame of the same stop (frames.py), if any
    dark_frame: str | None = None


@dataclass(frozen=True)
class Result:
    folder: Path
    files: list[Path]                 # every file written (index.md and the manifest too), by name
    images: list[Image]               # in walk-through order, as index.md lists them
    too_narrow: dict[str, int]        # panel title -> pixels its plots lacked at this window size


def substep_of(T: int, cell: str = "gru") -> Step | None:
    """The walk's Step Into frame: the cell's third sub-step at t = 2 (None if the cell or T has none
    that differs from the whole timestep)."""
    from ...core.model.cells import get_cell

    subs = get_cell(cell).substeps
    if T <= SUBSTEP_T or len(subs) <= SUBSTEP_INDEX or subs[SUBSTEP_INDEX] == subs[-1]:
        return None
    return Step("cell", SUBSTEP_T, subs[SUBSTEP_INDEX])


def walk_steps(T: int, cell: str = "gru") -> list[Step | None]:
    """Every stop of the full walk: start, each phase, each GRU and backward timestep, and after
    timestep 2 a look inside it: one of its Step Into sub-steps."""
    stops: list[Step | None] = [None]
    for phase in PHASES:
        if phase == "cell":
            inside = substep_of(T, cell)
            for t in range(T):
                stops.append(Step("cell", t))
                if inside is not None and t == inside.t:
                    stops.append(inside)
        elif phase == "backward":
            stops.extend(Step("backward", t) for t in reversed(range(T)))
        else:
            stops.append(Step(phase))
    return stops


def plan_walk(T: int, phases: Sequence[str] | None = None, cell: str = "gru",
              names: Sequence[str] | None = None) -> list[Stop]:
    """The stops to photograph, numbered by their place in the full walk (so a
    restricted run writes the same names as the full one). The start image
    belongs to the full walk only (or to ``names`` with "start"). ``names``: only
    these stops, by name with or without its number ("08-gru-t03" or "gru-t03")."""
    if phases:
        unknown = [p for p in phases if p not in PHASES]
        if unknown:
            raise ValueError(f"unknown phase(s) {', '.join(unknown)}; phases are: {', '.join(PHASES)}")
    steps = walk_steps(T, cell)
    # A sub-step frame shares its timestep's number (it sorts right after it), so the
    # numbers of the other images do not depend on it.
    numbers, number = [], -1
    for s in steps:
        number += 0 if s is not None and s.sub is not None else 1
        numbers.append(number)
    digits, t_digits = max(2, len(str(numbers[-1]))), max(2, len(str(T - 1)))
    stops = [Stop(n, s, digits, t_digits, cell) for n, s in zip(numbers, steps)
             if (not phases and s is None) or (s is not None and (not phases or s.phase in phases))]
    if names:
        def short(stop: Stop) -> str:
            return stop.name.split("-", 1)[1]
        everything = [Stop(n, s, digits, t_digits, cell) for n, s in zip(numbers, steps)]
        unknown = [n for n in names if not any(n in (stop.name, short(stop)) for stop in everything)]
        if unknown:
            raise ValueError(f"unknown stop(s) {', '.join(unknown)}; stops are named like "
                             f"{everything[min(8, len(everything) - 1)].name} or {short(everything[-1])}")
        phases_stops = stops if phases else everything
        stops = [stop for stop in phases_stops if stop.name in names or short(stop) in names]
        if not stops:
            raise ValueError("no stop is both in --stops and in --phases")
    return stops


def theme_list(themes: str) -> list[bool]:
    """"light" / "dark" / "both" as the dark flags to render, the light one first."""
    if themes not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, got {themes!r}")
    return [False, True] if themes == "both" else [themes == "dark"]


def screenshot_config(config: Config) -> tuple[Config, bool]:
    """The config with a fixed seed if it has none; True if the seed was fixed here."""
    if config.seed is None:
        return config.with_changes(seed=DEFAULT_SEED), True
    return config, False


# ------------------------------------------------------------------ output folder
def expected_files(stops: Sequence[Stop], fmt: str, both: bool = False, frames_only: bool = False,
                   panels: bool = True) -> list[str]:
    """The names a run writes into the output folder (besides the manifest)."""
    if frames_only:  # the start has no frame
        stems = [s.name + FRAME_SUFFIX for s in stops if s.step is not None]
    else:
        stems = [n for s in stops for n in ((s.name,) if s.step is None else (s.name, s.name + FRAME_SUFFIX))]
    stems += [p.shot.stem for p in PANELS] if panels else []
    suffixes = ("", DARK_SUFFIX) if both else ("",)
    return [f"{stem}{suffix}.{fmt}" for stem in stems for suffix in suffixes] + ["index.md"]


def _digest(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(out: Path) -> dict[str, str]:
    """File name -> SHA-256 of what an earlier run wrote into ``out`` ({} if none)."""
    path = out / MANIFEST
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 1024**2:
            raise ValueError
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if data.get("written_by") != MANIFEST_KIND or not isinstance(files, dict) or not all(
                isinstance(k, str) and "/" not in k and isinstance(v, str) for k, v in files.items()):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise OutputConflict(f"{path} is not a list of files this generator wrote; it is left alone: "
                             "choose another folder with --out") from None
    return dict(files)


def _ours(path: Path, manifest: dict[str, str]) -> bool:
    """True if ``path`` is a file an earlier run wrote and nobody changed since."""
    return (path.name in manifest and path.is_file() and not path.is_symlink()
            and _digest(path) == manifest[path.name])


def check_conflicts(out: Path, names: Sequence[str]) -> None:
    """Refuse before writing anything if a file we would write exists and is not ours."""
    if not out.is_dir():
        return
    manifest = read_manifest(out)
    for name in names:
        path = out / name
        if (path.exists() or path.is_symlink()) and not _ours(path, manifest):
            raise OutputConflict(f"{path} exists and was not written by this generator (or was changed since); "
                                 "it is left alone: move it away or choose another folder with --out")


def remove_stale_partials(out: Path) -> list[Path]:
    """Remove temporary folders that an earlier, interrupted run made for ``out``:
    only ``.NAME.*.partial`` folders holding our marker whose writer has gone."""
    from ...core.storage.atomic_write import process_running

    removed = []
    parent = out.absolute().parent
    try:
        candidates = list(parent.glob(f".{glob_escape(out.name)}.*.partial"))
    except OSError:
        return removed
    for folder in candidates:
        marker = folder / PARTIAL_MARKER
        if folder.is_symlink() or not folder.is_dir() or marker.is_symlink() or not marker.is_file():
            continue
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            pid, host = int(info["pid"]), str(info["host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if host == socket.gethostname() and process_running(pid):
            continue  # another run is writing it right now
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


def _temp_folder(out: Path) -> Path:
    parent = out.absolute().parent
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
        (tmp / PARTIAL_MARKER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
                                          encoding="utf-8")
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write into {parent} ({exc.strerror or exc})", str(out)) from None
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the finished folder should not be
    return tmp


def _install(tmp: Path, out: Path) -> None:
    """Move the finished files into ``out``: a rename if it does not exist yet,
    else replace the files an earlier run wrote (per its manifest) and keep
    everything else; a file of someone else's that we would overwrite stops it."""
    (tmp / PARTIAL_MARKER).unlink()
    names = sorted(p.name for p in tmp.iterdir())
    manifest = {name: _digest(tmp / name) for name in names}
    _write_manifest(tmp / MANIFEST, manifest)
    if not out.exists():
        os.replace(tmp, out)
        return
    if not out.is_dir():
        raise NotADirectoryError(20, "not a folder", str(out))
    check_conflicts(out, names)
    old = read_manifest(out)
    for name in sorted(set(old) - set(names)):  # ours from an earlier run, not made this time
        if _ours(out / name, old):
            (out / name).unlink()
    for name in names:
        os.replace(tmp / name, out / name)
    os.replace(tmp / MANIFEST, out / MANIFEST)
    tmp.rmdir()


def _write_manifest(path: Path, files: dict[str, str]) -> None:
    data = {"written_by": MANIFEST_KIND, "files": dict(sorted(files.items()))}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


# ------------------------------------------------------------------ Qt
@contextmanager
def _application(dark: bool) -> Iterator[object]:
    """The (offscreen) application with the requested theme; the theme, palette
    and style are put back afterwards, so running in-process (tests) leaves no trace."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6 import QtCore, QtWidgets

    from ..widgets import theme
    from ..qt_setup import make_application

    existing = QtWidgets.QApplication.instance()
    saved = None
    if existing is not None:
        saved = (QtWidgets.QApplication.palette(), existing.style().name(), theme.current(),
                 {k: pg.getConfigOption(k) for k in ("background", "foreground", "antialias")},
                 existing.styleHints().cursorFlashTime())
    app = make_application(dark=dark)
    app.styleHints().setCursorFlashTime(0)  # a text cursor, if any, does not blink
    previous = QtCore.qInstallMessageHandler(_quiet_qt)
    _quiet_qt.previous = previous  # type: ignore[attr-defined]
    try:
        yield app
    finally:
        QtCore.qInstallMessageHandler(previous)
        if saved is not None:
            palette, style, scheme, options, flash = saved
            if app.style().name() != style:
                app.setStyle(style)
            app.setPalette(palette)
            theme.apply(scheme.dark)
            pg.setConfigOptions(**options)
            app.styleHints().setCursorFlashTime(flash)


def _quiet_qt(mode, context, message: str) -> None:
    """Drop the offscreen platform's notes about window hints; pass on the rest."""
    if message.startswith("This plugin does not support"):
        return
    previous = getattr(_quiet_qt, "previous", None)
    if previous is not None:
        previous(mode, context, message)
    else:
        sys.stderr.write(f"{message}\n")


class _Camera:
    """The window and how to photograph it."""

    def __init__(self, app, controller, size: tuple[int, int], fmt: str, folder: Path,
                 scale: int = 1, suffix: str = "", note: str = "", frames_only: bool = False):
        from PySide6 import QtGui

        from ..main_window import MainWindow

        self.app, self.controller, self.fmt, self.folder = app, controller, fmt, folder
        self.scale, self.suffix = scale, suffix
        self.note = note                  # said after every caption (where the numbers come from)
        self.frames_only = frames_only    # the composed frames only, no whole-window images
        self.writer = PngWriter()  # PNGs are encoded and written beside the walk
        self.window = MainWindow(controller, settings=None)
        # The same pictures on a fast or a slow machine: no idle-time work that changes what a
        # later stop shows (see PanelAhead.set_enabled).
        self.window.panel_ahead.set_enabled(False)
        self.window.resize(*size)
        self.window.show()
        if self.window.size().toTuple() != tuple(size):
            minimum = self.window.size()
            self.close()
            raise ValueError(f"the window cannot be {size[0]}x{size[1]}: its panels need at least "
                             f"{minimum.width()}x{minimum.height()}")
        # Keep the mouse pointer off the window: no hover highlight, no hover text.
        cursor = QtGui.QCursor.pos()
        self.window.move(cursor.x() + 50, cursor.y() + 50)
        self.settle()
        self.images: list[Image] = []
        self.too_narrow: dict[str, int] = {}  # panel title -> pixels its plots lacked (worst stop)

    def close(self) -> None:
        try:
            self.writer.close()  # every file written, or the first error raised
        finally:
            self.window.close()
            self.window.deleteLater()
            self.app.processEvents()

    def settle(self, panels: Sequence = ()) -> None:
        from PySide6 import QtCore

        for _ in range(SETTLE_ROUNDS):
            QtCore.QCoreApplication.sendPostedEvents()
            self.app.processEvents()
        for panel in list(panels) + [p for p in self.window.panels.values() if p.is_showing()]:
            panel.refresh()
        for _ in range(2):
            QtCore.QCoreApplication.sendPostedEvents()
            self.app.processEvents()
        focused = self.app.focusWidget()
        if focused is not None:
            focused.clearFocus()
        self.window.status.clearMessage()

    def go(self, step: Step | None) -> None:
        ctl = self.controller
        if step is None:
            ctl.run_to_start()
        elif step.sub is not None:  # Step Into from the end of the timestep before
            if step.t > 0:
                ctl.run_to(step.phase, step.t - 1)
            else:
                ctl.run_to(PHASES[PHASES.index(step.phase) - 1])
            from ...core.model.cells import get_cell

            for _ in range(get_cell(ctl.config.cell).substeps.index(step.sub) + 1):
                ctl.step_into()
        else:
            ctl.run_to(step.phase, step.t)

    def selection(self) -> tuple[int, int]:
        """The Equation panel's row b and unit j: the ones the captions quote."""
        equations = getattr(self.window, "equations", None)
        return equations.selection() if equations is not None else (0, 0)

    def save(self, widget, stem: str, title: str) -> str:
        from ..export_view import save_widget, widget_image

        name = f"{stem}{self.suffix}.{self.fmt}"
        if self.fmt == "png":
            self.writer.put(self.folder / name, widget_image(widget, self.scale))
        else:
            save_widget(widget, self.folder / name, self.fmt, title=title, scale=self.scale)
        return name

    def shoot(self, widget, stem: str, title: str, caption: str) -> str:
        self.check_widths()
        self.images.append(Image(self.save(widget, stem, title), title, f"{caption} {self.note}".rstrip()))
        return self.images[-1].file

    def check_widths(self) -> None:
        """Note tensor panels on screen that are narrower than their plots need
        (titles, axes and colour bars set a minimum; the right-hand column is cut off)."""
        from PySide6 import QtCore

        for panel in self.window.panels.values():
            if panel.is_showing():
                hint = panel.canvas.ci.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width()
                lack = int(np.ceil(hint - panel.canvas.viewport().width()))
                if lack > 0:
                    self.too_narrow[panel.title] = max(lack, self.too_narrow.get(panel.title, 0))


def _walk(camera: _Camera, stops: Sequence[Stop], T: int, progress: Callable[[str], None] | None) -> None:
    from . import captions, frames

    for stop in stops:
        camera.go(stop.step)
        camera.settle()
        cell = camera.controller.config.cell
        b, j = camera.selection()
        title = captions.stop_title(stop.step, cell)
        caption = captions.stop_caption(stop.step, T, cell, camera.controller.snapshot(), b, j)
        if camera.frames_only:
            if stop.step is None:  # the start has no frame
                continue
            camera.check_widths()
            frame, marks = frames.compose(camera, stop.step, stop.name + FRAME_SUFFIX, title)
            caption = " ".join(x for x in (caption, camera.note, frames.callout_note(marks)) if x)
            camera.images.append(Image(frame, title, caption))
            if progress:
                progress(frame)
            continue
        name = camera.shoot(camera.window, stop.name, title, caption)
        if progress:
            progress(name)
        if stop.step is not None:  # the same stop without the window around it, with callouts
            frame, marks = frames.compose(camera, stop.step, stop.name + FRAME_SUFFIX, title)
            note = frames.callout_note(marks)
            image = camera.images[-1]
            camera.images[-1] = dataclasses.replace(image, frame=frame,
                                                    caption=f"{image.caption} {note}".rstrip())
            if progress:
                progress(frame)


def _made_with(config_path: str | None, seed_note: str, size: tuple[int, int], dark: bool | str, fmt: str,
               phases: Sequence[str] | None, scale: int = 1, *, stops: Sequence[str] | None = None,
               frames_only: bool = False, backward_config: str | None = None) -> str:
    themes = dark if isinstance(dark, str) else ("dark" if dark else "light")
    cmd = "python main.py screenshots --out DIR"
    if config_path:
        cmd += f" --config {config_path}"
    cmd += f" --format {fmt} --size {size[0]}x{size[1]} --theme {themes}"
    if scale != 1:
        cmd += f" --scale {scale}"
    if phases:
        cmd += " --phases " + " ".join(phases)
    if stops:
        cmd += " --stops " + " ".join(stops)
    if frames_only:
        cmd += " --frames-only"
    if backward_config:
        cmd += f" --backward-config {backward_config}"
    source = f"the config `{config_path}`" if config_path else "the default config (the notebook's example)"
    theme_text = ("the light theme, and again with the dark one (shown to readers whose system is dark)"
                  if themes == "both" else f"the {themes} theme")
    pixels = f" at {scale}× pixel density" if scale != 1 else ""
    return f"Made with `{cmd}` from {source}, {seed_note}, in a {size[0]}×{size[1]} window{pixels} with {theme_text}."


def image_markdown(image: Image, frame: bool = False) -> str:
    """The image in index.md: a Markdown image, or with a dark twin a <picture> that picks by the reader's theme.
    ``frame``: the stop's composed frame instead of the window."""
    file, dark = (image.frame, image.dark_frame) if frame else (image.file, image.dark_file)
    title = f"{image.title}: the panels" if frame else image.title
    if dark is None:
        return f"![{title}]({file})"
    alt = html.escape(title, quote=True)
    return (f'<picture><source media="(prefers-color-scheme: dark)" srcset="{dark}">'
            f'<img alt="{alt}" src="{file}"></picture>')


def write_index(path: Path, images: Sequence[Image], made_with: str, about: str) -> None:
    lines = ["# GRU Debugger, step by step", "", made_with, "", about, ""]
    for image in images:
        lines += [f"## {image.title}", "", image_markdown(image), ""]
        if image.frame is not None:
            lines += [image_markdown(image, frame=True), ""]
        lines += [image.caption, ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def config_name(path: str | None) -> str:
    """How a caption names a config: the example's title and its file, or just the file."""
    if path is None:
        return "the default config (the notebook's example)"
    from ...core.storage.examples import list_examples

    try:
        found = next((e for e in list_examples() if e.path.resolve() == Path(path).resolve()), None)
    except (OSError, ValueError):
        found = None
    return f"the example \"{found.title}\" (`{path}`)" if found is not None else f"the config `{path}`"


def all_roundoff(controller, key: str = "grad/x2g.weight") -> bool:
    """True if every element of the recorded gradient ``key`` is round-off (0 in exact arithmetic)."""
    mask = controller.snapshot().final_roundoff_mask(key)
    return mask is not None and bool(np.all(mask))


def late_note(backward_config: str, config_path: str | None, roundoff: bool, panels: bool = True) -> str:
    """What index.md says about the images made with the second config."""
    why = (" With the first config every gradient behind the output head is round-off (hatched ≈0 cells), "
           "so these steps would show no real numbers." if roundoff else "")
    taken = ", and the panel images taken there" if panels else ""
    return (f"From backward on (the backward timesteps, the update and the forward pass after it{taken}) "
            f"the images show {config_name(backward_config)} instead of "
            f"{config_name(config_path)}: a second window runs the same walk from that config's own weights, so "
            f"its numbers (losses included) are not those of the steps before.{why}")


def generate(out: str | os.PathLike, config_path: str | None = None, *, fmt: str = "png",
             size: tuple[int, int] = DEFAULT_SIZE, dark: bool = False, phases: Sequence[str] | None = None,
             training_iterations: int | None = None,
             progress: Callable[[str], None] | None = None,
             animate: bool = False, frame_ms: int | None = None,
             theme: str | None = None, scale: int = 1, stops: Sequence[str] | None = None,
             frames_only: bool = False, backward_config: str | None = None) -> Result:
    """Write the screenshots and ``index.md`` into folder ``out``.

    Raises ValueError for bad arguments, ConfigError / ControllerError for a
    bad config and OSError if the folder cannot be written; in every case
    nothing is left behind."""
    from ...core.control.controller import Controller

    if training_iterations is None:
        training_iterations = TRAINING_ITERATIONS
    theme = theme or ("dark" if dark else "light")
    darks = theme_list(theme)
    both = len(darks) == 2
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a whole number 1..{MAX_SCALE}, got {scale!r}")
    if scale != 1 and fmt != "png":
        raise ValueError("--scale needs --format png (an SVG is sharp at any size)")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not (MIN_SIZE[0] <= size[0] <= MAX_SIZE[0] and MIN_SIZE[1] <= size[1] <= MAX_SIZE[1]):
        raise ValueError(f"size {size[0]}x{size[1]} is out of range")
    config, seed_fixed = screenshot_config(load_config(config_path))
    stop_names = list(stops) if stops else None
    stops = plan_walk(config.context_length, phases, config.cell, stop_names)
    panels = [] if stop_names else list(PANELS)  # --stops: only those stops' images
    from . import animate as animation  # --animate: one animated image of the walk (animate.py)
    frame_ms = animation.check_options(animate, frame_ms, fmt)
    if animate and frames_only:
        raise ValueError("--animate needs the whole-window images: leave out --frames-only")
    late_config = None
    if backward_config is not None:
        late_config, _ = screenshot_config(load_config(backward_config))
        if (late_config.context_length, late_config.cell) != (config.context_length, config.cell):
            raise ValueError(f"--backward-config {backward_config} must have the same cell and context length as "
                             f"the walk ({config.cell}, T = {config.context_length}); it has {late_config.cell}, "
                             f"T = {late_config.context_length}")
    controller = Controller(config)  # a bad config fails here, before anything is written
    if late_config is not None:
        Controller(late_config)  # a bad second config fails here too

    def late(step: Step | None) -> bool:
        return (late_config is not None and step is not None
                and PHASES.index(step.phase) >= PHASES.index(LATE_PHASE))

    T = config.context_length
    jobs = [([s for s in stops if not late(s.step)], [p for p in panels if not late(p.shot.where(T))], config, ""),
            ([s for s in stops if late(s.step)], [p for p in panels if late(p.shot.where(T))], late_config,
             f"Numbers from {config_name(backward_config)}.")]
    jobs = [job for job in jobs if job[0] or job[1]]
    order = {name: i for i, name in enumerate([s.name for s in stops] + [p.shot.stem for p in panels])}
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(20, "exists and is not a folder", str(out))
    check_conflicts(out, expected_files(stops, fmt, both, frames_only, bool(panels))
                    + animation.files(animate))  # before minutes of rendering, not after
    remove_stale_partials(out)
    tmp = _temp_folder(out)
    try:
        runs: list[list[Image]] = []
        too_narrow_runs = []
        for dark_run in darks:  # the light one first: its images are the ones index.md names
            taken: list[Image] = []
            for job_stops, job_panels, job_config, note in jobs:
                with _application(dark_run) as app:
                    camera = _Camera(app, Controller(job_config), size, fmt, tmp, scale,
                                     DARK_SUFFIX if both and dark_run else "", note, frames_only)
                    try:
                        _walk(camera, job_stops, T, progress)
                        _panel_images(camera, T, training_iterations, progress, job_panels)
                    finally:
                        camera.close()
                taken += camera.images
                too_narrow_runs.append(camera.too_narrow)
            runs.append(sorted(taken, key=lambda image: order[_stem_of(image.file)]))
        images = runs[0]
        if both:
            images = [dataclasses.replace(light, dark_file=dark_image.file, dark_frame=dark_image.frame)
                      for light, dark_image in zip(images, runs[1])]
        too_narrow = {}
        for run in too_narrow_runs:
            for title, px in run.items():
                too_narrow[title] = max(px, too_narrow.get(title, 0))
        seed_note = (f"seed {config.seed} (the config leaves the seed unset; the screenshots fix it so that they "
                     f"can be made again)" if seed_fixed else f"seed {config.seed}")
        s = controller.snapshot()
        about = (f"The example: B = {config.batch_size} rows of T = {T} tokens, E = {config.n_embd}, "
                 f"H = {config.hidden_size}, V = {len(s.vocab)} tokens, dropout {config.dropout:g}"
                 f"{'' if config.train_mode else ' (eval mode: off)'}, learning rate {config.learning_rate:g}. "
                 "Each step below has two images: the whole window after the step in its heading, then the same "
                 "moment without the window around it (the timeline, the panel the step fills and the Equation "
                 "panel), where ① marks what the step wrote and ② its equation. The panel images at the end show "
                 "single views.")
        if frames_only:
            about = (f"The example: B = {config.batch_size} rows of T = {T} tokens, E = {config.n_embd}, "
                     f"H = {config.hidden_size}, V = {len(s.vocab)} tokens. Each image shows one step without the "
                     "window around it (the timeline, the panel the step fills and the Equation panel), where ① "
                     "marks what the step wrote and ② its equation.")
        if any(late(st.step) for st in stops) or any(late(p.shot.where(T)) for p in panels):
            about += "\n\n" + late_note(backward_config, config_path, all_roundoff(controller), bool(panels))
        if animate:  # the animation from the walk's images, and a line near the top of index.md showing it
            # the walk in time order: the look inside a timestep is left out
            frames = [f"{s.name}.{fmt}" for s in stops if s.step is None or s.step.sub is None]
            about = animation.add_to_folder(tmp, frames, frame_ms) + "\n\n" + about
        write_index(tmp / "index.md", images,
                    _made_with(config_path, seed_note, size, theme if both else darks[0], fmt, phases, scale,
                               stops=stop_names, frames_only=frames_only, backward_config=backward_config),
                    about)
        names = sorted(p.name for p in tmp.iterdir() if p.name != PARTIAL_MARKER)
        _install(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Result(out, sorted([out / n for n in names] + [out / MANIFEST]), images, too_narrow)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


def files_written(result: Result, both: bool = False) -> str:
    """What a run wrote, counted by files, e.g. "5 files (1 image, 1 frame, index.md and the list of
    files written (.gru-debugger-screenshots.json))"."""
    names = [p.name for p in result.files]
    pictures = frames = 0
    for name in names:
        stem, _, ext = name.rpartition(".")
        if ext in FORMATS:
            stem = stem[:-len(DARK_SUFFIX)] if stem.endswith(DARK_SUFFIX) else stem
            frames += stem.endswith(FRAME_SUFFIX)
            pictures += not stem.endswith(FRAME_SUFFIX)
    shown = _count(pictures, "image") + (f", {_count(frames, 'frame')}" if frames else "")
    if both:
        shown += " (light and dark)"
    rest = [n for n in names if n.endswith(".gif")] + ["index.md", f"the list of files written ({MANIFEST})"]
    return f"{_count(len(names), 'file')} ({', '.join([shown] + rest[:-1])} and {rest[-1]})"


def _stem_of(file: str) -> str:
    """"08-gru-t03-frame-dark.png" -> "08-gru-t03" (the stop or panel it belongs to)."""
    stem = file.rsplit(".", 1)[0]
    stem = stem[:-len(DARK_SUFFIX)] if stem.endswith(DARK_SUFFIX) else stem
    return stem[:-len(FRAME_SUFFIX)] if stem.endswith(FRAME_SUFFIX) else stem


def _panel_images(camera: _Camera, T: int, training_iterations: int,
                  progress: Callable[[str], None] | None, panels: Sequence | None = None) -> None:
    from PySide6 import QtCore

    from . import captions

    win = camera.window
    for spec in PANELS if panels is None else panels:
        key = dock_key = spec.key
        stem, heading, step = spec.shot.stem, spec.shot.heading, spec.shot.where(T)
        if key == "cell":
            heading = spec.title_for(camera.controller.config.cell)
        if step is None:
            # The loss curve of a short training run: last, because it moves the model on.
            camera.go(Step("forward_after"))
            win.training.count.setValue(training_iterations)
            win.training.run_now(training_iterations)
            title = f"{heading} ({training_iterations} iterations)"
        else:
            camera.go(step)
            title = f"{heading} (at {captions.stop_title(step, camera.controller.config.cell)})"
        dock = win.docks[dock_key]
        win.show_panel(dock_key)
        dock.raise_()
        widget = dock.widget()
        camera.settle([widget] if key in win.panels else [])
        size = _roomy_size(key, widget, win)
        state = None
        if size is not None:  # undock it and give it room, as one would for a picture of it
            state = win.saveState(0)
            dock.setFloating(True)
            dock.resize(dock.size() + size - widget.size())
            camera.settle([widget] if key in win.panels else [])
            if key == "equations":  # as tall as its text
                dock.resize(dock.size() + QtCore.QSize(0, _text_overflow(widget)))
                camera.settle()
        name = camera.shoot(widget, stem, f"Panel: {title}", captions.panel_caption(key, training_iterations))
        if state is not None:
            win.restoreState(state, 0)
            camera.settle()
        if progress:
            progress(name)


def _roomy_size(key: str, widget, window):
    """The size to undock a panel to for its picture, or None if it fits where it is:
    a tensor panel gets the width its plots need, the equation panel room for its lines."""
    from PySide6 import QtCore

    if key == "equations":
        return QtCore.QSize(max(widget.width(), EQUATION_SIZE[0]), max(widget.height(), EQUATION_SIZE[1]))
    panel = window.panels.get(key)
    if panel is None:
        return None
    need = panel.canvas.ci.effectiveSizeHint(QtCore.Qt.SizeHint.MinimumSize).width()
    lack = int(np.ceil(need - panel.canvas.viewport().width()))
    return QtCore.QSize(widget.width() + lack + 8, widget.height()) if lack > 0 else None


def _text_overflow(widget) -> int:
    """How much taller the Equation panel ``widget`` must be to show all of its text
    (negative: it has room to spare)."""
    page = widget.page() if hasattr(widget, "page") else None
    if page is None:
        return 0
    return int(np.ceil(page.document().size().height())) + 4 - page.viewport().height()  # laid out for the page
