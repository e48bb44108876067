"""Helpers for a notebook or a script: the controller needs none of this, but
pictures of its arrays are handy. Works without a display (see
:func:`save_heatmap`); see README, "From a Jupyter notebook"."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["save_heatmap"]

# Colour stops (value in [0, 1], RGB). Diverging for signed values, centred at zero;
# sequential for values on one side of zero (gates, probabilities). NaN and Inf: magenta.
DIVERGING = ((0.0, (59, 76, 192)), (0.5, (247, 247, 247)), (1.0, (180, 4, 38)))
SEQUENTIAL = ((0.0, (247, 251, 255)), (0.5, (107, 174, 214)), (1.0, (8, 48, 107)))
NOT_FINITE = (255, 0, 255)
MAX_PIXELS = 40_000_000

_app: Any = None  # the application made here, kept alive for the process


def ensure_gui_application() -> Any:
    """The running Qt application, or a new one that needs no display.

    If none exists, ``QT_QPA_PLATFORM`` is set to ``offscreen`` (unless you
    set it yourself) and one is made. It is a QApplication (a QGuiApplication
    that can also show widgets), so the same process can still open windows."""
    global _app
    from PySide6 import QtGui, QtWidgets

    app = QtGui.QGuiApplication.instance()
    if app is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = _app = QtWidgets.QApplication(["gru-debugger-notebook"])
    return app


def heatmap_rgb(array: Any, levels: tuple[float, float] | None = None) -> np.ndarray:
    """(rows, cols, 3) uint8 colours of a 0-, 1- or 2-D array (a 1-D array is one row).

    ``levels=(low, high)`` fixes the colour scale; values outside are clipped.
    Without it: values all in [0, 1] use a sequential map on [0, 1], others a
    diverging map on ±max|value|, so zero is always the middle colour."""
    values = np.asarray(array, dtype=np.float64)
    if values.ndim > 2:
        raise ValueError(f"a heatmap shows a 0-, 1- or 2-D array; this one has shape {values.shape}: "
                         f"index it first, e.g. array[0] for batch row 0")
    values = values.reshape((1, -1) if values.ndim < 2 else values.shape)
    if values.size == 0:
        raise ValueError(f"the array is empty (shape {values.shape})")
    finite = np.isfinite(values)
    if levels is None:
        seen = values[finite]
        if seen.size and seen.min() >= 0.0 and seen.max() <= 1.0:
            low, high = 0.0, 1.0
        else:
            top = float(np.abs(seen).max()) if seen.size else 1.0
            low, high = -(top or 1.0), (top or 1.0)
    else:
        try:
            low, high = (float(v) for v in levels)
        except (TypeError, ValueError):
            raise ValueError(f"levels must be two numbers (low, high), got {levels!r}") from None
        if not (np.isfinite(low) and np.isfinite(high) and low < high):
            raise ValueError(f"levels must be two finite numbers with low < high, got {levels!r}")
    stops = DIVERGING if low < 0.0 < high else SEQUENTIAL
    where = np.clip((np.where(finite, values, low) - low) / (high - low), 0.0, 1.0)
    positions = [s[0] for s in stops]
    rgb = np.stack([np.interp(where, positions, [s[1][c] for s in stops]) for c in range(3)], axis=-1)
    rgb[~finite] = NOT_FINITE
    return np.round(rgb).astype(np.uint8)


def save_heatmap(array: Any, path: str | os.PathLike[str], levels: tuple[float, float] | None = None,
                 cell_px: int | None = None) -> Path:
    """Save ``array`` as a heatmap image (PNG, or any format Qt writes, by the
    file's ending), one square of ``cell_px`` pixels per value (default: large
    for small matrices, 1 for big ones). Needs no display. Overwrites ``path``.
    Returns the path."""
    from PySide6 import QtGui

    rgb = heatmap_rgb(array, levels)
    rows, cols = rgb.shape[:2]
    if cell_px is None:
        cell_px = max(1, min(24, 480 // max(rows, cols)))
    if isinstance(cell_px, bool) or not isinstance(cell_px, int) or not 1 <= cell_px <= 256:
        raise ValueError(f"cell_px must be a whole number from 1 to 256, got {cell_px!r}")
    if rows * cols * cell_px * cell_px > MAX_PIXELS:
        raise ValueError(f"a {rows}x{cols} heatmap at {cell_px} px per value is too large an image; "
                         f"use a smaller cell_px")
    image = np.ascontiguousarray(np.repeat(np.repeat(rgb, cell_px, axis=0), cell_px, axis=1))
    ensure_gui_application()
    height, width = image.shape[:2]
    qimage = QtGui.QImage(image.data, width, height, 3 * width, QtGui.QImage.Format.Format_RGB888).copy()
    path = Path(path)
    if not qimage.save(str(path)):
        raise OSError(f"cannot write {path}: the folder is missing or not writable, or Qt cannot write "
                      f"{path.suffix or 'files without an ending'}")
    return path
