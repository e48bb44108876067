"""An ImageItem that colours its numbers straight into 32-bit pixels, and can colour the next
step's numbers before it is asked to show them.

**Colouring.** For a finite float image with levels and a colour table of at most 256 entries
(every heatmap here), pyqtgraph scales the numbers to indices (in float32, clipped, truncated)
and makes an 8-bit indexed QImage whose colour table it builds from the lookup table on every
render; Qt converts such an image to 32-bit pixels each time it is drawn. :func:`colour` does the
same scaling with the same numpy operations, then looks the colours up in a 32-bit table made
once per lookup table: the same colours (a test compares them with pyqtgraph's, pixel for pixel),
a cheaper render, and Qt's fast path when the image is scaled onto the screen (about a tenth of the
time an indexed image takes, measured). That path rounds a cell's edge differently: where a cell
border falls between two screen pixels, a row or column of pixels may take the neighbouring cell's
colour. Anything else (NaN, a callable table, downsampling) goes through pyqtgraph.

**Preparing.** :meth:`PreparedImage.prepare` colours numbers the item will show soon (the next
step's, in idle time) and keeps the QImage; when those very numbers arrive with the same levels
and colour table, painting uses it instead of colouring them again. "The very numbers" is
decided by where they live: snapshot arrays never change (they are read-only), and the kept
entry holds its array, so its memory cannot be handed to another array meanwhile. Only images
drawn at full resolution are prepared (auto-downsampling depends on the view).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

_TABLES: dict[int, tuple[np.ndarray, np.ndarray, bool]] = {}  # id(lut) -> (lut, 32-bit colours, opaque)


def _table(lut: np.ndarray) -> tuple[np.ndarray, bool] | None:
    """``lut`` (N x 3 or N x 4 uint8, N <= 256) as 32-bit ARGB colours, and whether all are opaque."""
    kept = _TABLES.get(id(lut))
    if kept is not None and kept[0] is lut:
        return kept[1], kept[2]
    if lut.dtype != np.uint8 or lut.ndim != 2 or lut.shape[1] not in (3, 4) or not 0 < lut.shape[0] <= 256:
        return None
    channels = lut.astype(np.uint32)
    alpha = channels[:, 3] if lut.shape[1] == 4 else np.full(len(lut), 255, np.uint32)
    colours = (alpha << 24) | (channels[:, 0] << 16) | (channels[:, 1] << 8) | channels[:, 2]
    opaque = bool((alpha == 255).all())
    if len(_TABLES) > 64:  # colour maps are few; a theme switch makes new ones
        _TABLES.clear()
    _TABLES[id(lut)] = (lut, colours, opaque)  # the entry holds its table: its id stays its own
    return colours, opaque


def colour(image: np.ndarray, levels, lut) -> QtGui.QImage | None:
    """The colours pyqtgraph would give a finite 2-D float ``image`` at ``levels`` through ``lut``,
    as 32-bit pixels (premultiplied: opaque tables); None when pyqtgraph must do it (see the
    module docstring)."""
    if lut is None or callable(lut) or levels is None or image.ndim != 2 or image.dtype.kind != "f" or not image.size:
        return None
    table = _table(lut)
    if table is None or np.isnan(image.min()):
        return None
    colours, opaque = table
    low, high = float(levels[0]), float(levels[1])
    span = high - low
    span = 1.0 if span == 0 else span
    count = len(colours)
    # pyqtgraph's rescaleData: (x - low) * count / span in float32 (float64 for wider input), clipped
    # to the table, truncated to an index
    work = image.astype(np.float32 if np.can_cast(image, np.float32) else np.float64)
    work -= low
    work *= count / span
    np.clip(work, 0, count - 1, out=work)
    pixels = np.ascontiguousarray(colours[work.astype(np.uint8)])
    height, width = pixels.shape
    fmt = QtGui.QImage.Format.Format_ARGB32_Premultiplied if opaque else QtGui.QImage.Format.Format_ARGB32
    qimage = QtGui.QImage(pixels, width, height, width * 4, fmt)
    qimage.data = pixels  # the QImage uses this memory: keep it alive with it
    return qimage


def _where(image: np.ndarray) -> tuple:
    return image.__array_interface__["data"][0], image.shape, image.strides, image.dtype.str


class PreparedImage(pg.ImageItem):
    """``pg.ImageItem`` with :func:`colour` and :meth:`prepare` (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepared: tuple | None = None   # (key, image, lut, qimage)
        self.prepared_used = 0                 # paints that used a prepared QImage (for tests)

    def _key(self, image: np.ndarray, levels) -> tuple:
        return _where(image), (float(levels[0]), float(levels[1])), id(self.lut)

    def _full_resolution(self) -> bool:
        return not self.autoDownsample or self._computeDownsampleFactors() == (1, 1)

    def prepare(self, image: np.ndarray, levels: tuple[float, float]) -> bool:
        """Colour ``image`` at ``levels`` with this item's colour table now; False if it cannot be."""
        if image.ndim != 2 or not np.isfinite(image).all():
            return False
        if self.autoDownsample and self._lastDownsample != (1, 1):
            return False  # drawn at screen resolution: coloured after downsampling, at paint time
        qimage = colour(image, levels, self.lut)
        if qimage is None:
            return False
        self._prepared = (self._key(image, levels), image, self.lut, qimage)
        return True

    def render(self) -> None:
        prepared, image = self._prepared, self.image
        if image is None or self.levels is None or not self._full_resolution():
            return super().render()
        qimage = None
        if prepared is not None and self.lut is prepared[2] and prepared[0] == self._key(image, self.levels):
            self._prepared = None
            qimage = prepared[3]
            self.prepared_used += 1
        else:
            qimage = colour(image, self.levels, self.lut)
        if qimage is None:
            return super().render()
        self._imageHasNans = False  # (colour takes no NaN)
        self._imageNanLocations = None
        self._lastDownsample = (1, 1)
        self._processingBuffer = None
        self._displayBuffer = None
        self.qimage = qimage
        self._renderRequired = False
        self._unrenderable = False
