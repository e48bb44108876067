"""One animated image of the walk-through (``screenshots --animate``).

``assemble`` turns the walk-through's window images, in order, into one
animated GIF with Pillow. It needs no Qt (frames may be paths, Pillow images,
or QImages, which are only read through their buffer), so it is tested on
small synthetic frames.

Why a GIF (measured on the notebook's example, 28 window images of
1600x1000): the frames hold about 24,000 distinct colours in all, so an
animation that keeps every colour exactly (an RGB APNG) is 6.8 MB at full
size and 9.6 MB scaled to 1200 px (scaling adds blended colours), over the
5 MB a README can carry. Once the frames share one 256-colour palette, GIF
and a palette APNG show the same pixels, and the GIF is the smaller (1.50 MB
against 2.35 MB: Pillow's GIF writer trims each frame's colour table) and
plays everywhere, where some viewers show only an APNG's first frame. Scaling
to 1200 px makes it larger (2.8 MB, blended edges add colours) and blurs
the text, so frames are scaled only when wider than 1600 px. The palette keeps the most
frequent colours exactly (background, panel greys, text, the fixed colours of
the heatmaps) and fills the rest by median cut, without dithering (dithering
nearly doubles the size and speckles the flat heatmap cells).

Reproducible: the same frames and settings give the same bytes (no time
stamps; palette and quantisation are deterministic).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

FILE_NAME = "walkthrough.gif"
DEFAULT_FRAME_MS = 900
MIN_FRAME_MS = 20            # browsers play shorter GIF frames at 100 ms
MAX_FRAME_MS = 60_000
HOLD = 3                     # the first and the last frame stay this many frame times
MAX_WIDTH = 1600             # wider frames are scaled down to this (Lanczos)
COLOURS = 256
EXACT_COLOURS = 160          # palette entries given to the most frequent colours, unchanged


@dataclass(frozen=True)
class Animation:
    path: Path
    frames: int
    size: tuple[int, int]     # width, height of the frames in the file
    bytes: int
    durations: tuple[int, ...]  # ms per frame, as stored


def check_frame_ms(frame_ms: Any) -> int:
    """The frame time as a whole number of milliseconds, or ValueError with a readable message."""
    if isinstance(frame_ms, bool) or not isinstance(frame_ms, (int, np.integer)):
        raise ValueError(f"--frame-ms must be a whole number of milliseconds, got {frame_ms!r}")
    if not MIN_FRAME_MS <= frame_ms <= MAX_FRAME_MS:
        raise ValueError(f"--frame-ms must be {MIN_FRAME_MS}..{MAX_FRAME_MS} milliseconds, got {frame_ms}")
    return int(frame_ms)


def durations(count: int, frame_ms: int, hold: int = HOLD) -> list[int]:
    """Milliseconds per frame: ``frame_ms`` each, the first and last held ``hold`` times as long.
    GIF stores hundredths of a second, so each is rounded to 10 ms."""
    step = max(10, int(round(frame_ms / 10.0)) * 10)
    times = [step] * count
    if count > 1:
        times[0] = times[-1] = step * hold
    return times


def index_line(frame_ms: int, frames: int) -> str:
    """The lines index.md shows near its top."""
    return (f"The whole walk as one animation ({frames} frames, {frame_ms} ms each, made with `--animate "
            f"--frame-ms {frame_ms}`):\n\n![Animated walk-through of one training iteration]({FILE_NAME})")


# ------------------------------------------------------------------ frames
def _to_rgb(frame: Any):
    """A frame as an RGB Pillow image: a path, a Pillow image or a QImage."""
    from PIL import Image

    if isinstance(frame, (str, os.PathLike)):
        with Image.open(frame) as image:
            return image.convert("RGB")
    if isinstance(frame, Image.Image):
        return frame.convert("RGB")
    if hasattr(frame, "convertToFormat") and hasattr(frame, "constBits"):  # a QImage (no Qt import needed)
        from PySide6 import QtGui

        image = frame.convertToFormat(QtGui.QImage.Format.Format_RGB888)
        width, height, stride = image.width(), image.height(), image.bytesPerLine()
        data = np.frombuffer(image.constBits(), np.uint8, stride * height).reshape(height, stride)
        return Image.fromarray(np.ascontiguousarray(data[:, :width * 3]).reshape(height, width, 3), "RGB")
    raise TypeError(f"a frame must be a path, a PIL image or a QImage, not {type(frame).__name__}")


def _fit(image, size: tuple[int, int]):
    from PIL import Image

    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def _frame_size(first, max_width: int | None) -> tuple[int, int]:
    width, height = first.size
    if max_width and width > max_width:
        return max_width, max(1, round(height * max_width / width))
    return width, height


def shared_palette(frames: Sequence, colours: int = COLOURS, exact: int = EXACT_COLOURS) -> list[int]:
    """One palette for all frames (a flat [r, g, b, ...] list of ``colours`` entries or fewer):
    every colour if there are few enough, else the ``exact`` most frequent colours as they are
    and the rest from a median cut of the remaining colours, weighted by how often they occur."""
    from PIL import Image

    found, counts = _histogram([_pack(np.asarray(f)) for f in frames])
    if len(found) <= colours:
        chosen = found
    else:
        order = np.lexsort((found, -counts))  # most frequent first; ties by colour: deterministic
        keep = found[order[:exact]]
        rest, weight = found[order[exact:]], counts[order[exact:]]
        # the rest as a strip of pixels, each colour as often as it occurs (capped, so that the
        # strip stays small), for Pillow's median cut
        strip = _unpack(np.repeat(rest, np.minimum(weight, 64))).reshape(1, -1, 3)
        cut = Image.fromarray(strip, "RGB").quantize(colours - exact, method=Image.Quantize.MEDIANCUT,
                                                      dither=Image.Dither.NONE)
        entries = np.array(cut.getpalette()[:3 * (colours - exact)], np.uint32).reshape(-1, 3)
        cut_colours = entries[:, 0] << 16 | entries[:, 1] << 8 | entries[:, 2]
        chosen = np.concatenate([keep, np.setdiff1d(cut_colours, keep)])[:colours]
    return _unpack(np.sort(chosen)).reshape(-1).tolist()


def _histogram(packed: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct packed colours of all frames, sorted, and how many pixels have each."""
    total = np.zeros(1 << 24, np.int64)
    for frame in packed:
        total += np.bincount(frame, minlength=1 << 24)
    found = np.flatnonzero(total).astype(np.uint32)
    return found, total[found]


def _pack(rgb: np.ndarray) -> np.ndarray:
    flat = rgb.reshape(-1, 3).astype(np.uint32)
    return flat[:, 0] << 16 | flat[:, 1] << 8 | flat[:, 2]


def _unpack(packed: np.ndarray) -> np.ndarray:
    packed = packed.astype(np.uint32)
    return np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], axis=-1).astype(np.uint8)


def quantise(frames: Sequence, palette: list[int]):
    """Each frame mapped to the nearest colour of ``palette`` (no dithering; a colour that is in
    the palette stays exactly as it is). Done here rather than by Pillow, whose palette lookup
    rounds colours to fewer bits first and so can miss an exact match."""
    from PIL import Image

    entries = np.asarray(palette, np.int32).reshape(-1, 3)
    padded = palette + [0] * (768 - len(palette))
    packed = [_pack(np.asarray(f)) for f in frames]
    seen = np.zeros(1 << 24, bool)
    for frame in packed:
        seen[frame] = True
    found = np.flatnonzero(seen)
    lookup = np.zeros(1 << 24, np.uint8)
    colours = _unpack(found).astype(np.int32)
    for start in range(0, len(found), 4096):
        part = colours[start:start + 4096]
        distance = ((part[:, None, :] - entries[None, :, :]) ** 2).sum(-1)
        lookup[found[start:start + 4096]] = distance.argmin(1)  # ties: the lowest index, always
    out = []
    for frame, rgb in zip(packed, frames):
        image = Image.fromarray(lookup[frame].reshape(rgb.size[1], rgb.size[0]), "P")
        image.putpalette(padded)
        out.append(image)
    return out


# ------------------------------------------------------------------ the file
def assemble(frames: Sequence, out_path: str | os.PathLike, frame_ms: int = DEFAULT_FRAME_MS, *,
             max_width: int | None = MAX_WIDTH, hold: int = HOLD) -> Animation:
    """Write ``frames`` (paths, PIL images or QImages, in order) as one looping animated GIF.

    Frames are scaled to the first one's size, then down to ``max_width`` if wider (Lanczos),
    and share one palette. The first and the last frame stay ``hold`` frame times. Written in
    one call after everything is ready, so a failure leaves no half-written file."""
    if not frames:
        raise ValueError("an animation needs at least one frame")
    frame_ms = check_frame_ms(frame_ms)
    rgb = [_to_rgb(f) for f in frames]
    size = _frame_size(rgb[0], max_width)
    rgb = [_fit(f, size) for f in rgb]
    indexed = quantise(rgb, shared_palette(rgb))
    times = durations(len(indexed), frame_ms, hold)
    import io

    buffer = io.BytesIO()
    indexed[0].save(buffer, "GIF", save_all=True, append_images=indexed[1:], duration=times, loop=0,
                    optimize=True)
    data = buffer.getvalue()
    path = Path(out_path)
    try:
        path.write_bytes(data)
    except OSError:
        path.unlink(missing_ok=True)
        raise
    return Animation(path, len(indexed), size, len(data), tuple(times))


# ------------------------------------------------------------------ the screenshot generator's side
def check_options(animate: bool, frame_ms: Any, fmt: str) -> int:
    """Validate ``screenshots --animate [--frame-ms N]`` before anything is rendered; the frame time."""
    if frame_ms is None:
        frame_ms = DEFAULT_FRAME_MS
    elif not animate:
        raise ValueError("--frame-ms needs --animate")
    frame_ms = check_frame_ms(frame_ms)
    if animate and fmt != "png":
        raise ValueError(f"--animate needs --format png (the animation is made from the PNG images), got {fmt}")
    return frame_ms


def files(animate: bool) -> list[str]:
    """The name the animation adds to the generator's files (for its conflict check and manifest)."""
    return [FILE_NAME] if animate else []


def add_to_folder(folder: str | os.PathLike, names: Sequence[str], frame_ms: int) -> str:
    """Assemble the walk's images ``names`` (in ``folder``, in order) into ``folder/walkthrough.gif``;
    the text index.md shows near its top."""
    folder = Path(folder)
    animation = assemble([folder / name for name in names], folder / FILE_NAME, frame_ms)
    return index_line(frame_ms, animation.frames)


def animated_note(folder: str | os.PathLike) -> str:
    """The command line's line about the animation it wrote."""
    path = Path(folder) / FILE_NAME
    from PIL import Image

    with Image.open(path) as image:
        frames, (width, height) = getattr(image, "n_frames", 1), image.size
    return f"wrote {path} ({frames} frames, {width}x{height}, {path.stat().st_size / 1e6:.2f} MB)"
