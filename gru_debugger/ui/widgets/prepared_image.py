"""An ImageItem that can colour the next step's numbers before it is asked to show them.

pyqtgraph colours an image (levels, colour table, QImage) when it is first
painted after :meth:`setImage`. :meth:`PreparedImage.prepare` does that work
for numbers the item will show soon (the next step's, in idle time) with a
scratch ImageItem, pyqtgraph's own code path, and keeps the QImage; when
those very numbers arrive with the same levels and colour table, painting
uses it instead of colouring them again.

"The very numbers" is decided by where they live: snapshot arrays never change
(they are read-only), and the kept entry holds its array, so its memory cannot
be handed to another array meanwhile. Only images drawn at full resolution are
prepared (auto-downsampling depends on the view).
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg


def _where(image: np.ndarray) -> tuple:
    return image.__array_interface__["data"][0], image.shape, image.strides, image.dtype.str


class PreparedImage(pg.ImageItem):
    """``pg.ImageItem`` plus :meth:`prepare` (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepared: tuple | None = None   # (key, image, lut, qimage)
        self.prepared_used = 0                 # paints that used a prepared QImage (for tests)

    def _key(self, image: np.ndarray, levels) -> tuple:
        return _where(image), (float(levels[0]), float(levels[1])), id(self.lut)

    def prepare(self, image: np.ndarray, levels: tuple[float, float]) -> bool:
        """Colour ``image`` at ``levels`` with this item's colour table now; False if it cannot be."""
        if self.lut is None or callable(self.lut) or image.ndim != 2 or not np.isfinite(image).all():
            return False
        if self.autoDownsample and self._lastDownsample != (1, 1):
            return False  # drawn at screen resolution: coloured after downsampling, at paint time
        scratch = pg.ImageItem(axisOrder=self.axisOrder)
        scratch.setImage(image, levels=levels, autoLevels=False, lut=self.lut)
        scratch.render()
        if scratch.qimage is None:
            return False
        self._prepared = (self._key(image, levels), image, self.lut, scratch.qimage)
        return True

    def render(self) -> None:
        prepared, image = self._prepared, self.image
        if (prepared is not None and image is not None and self.levels is not None and self.lut is prepared[2]
                and prepared[0] == self._key(image, self.levels)
                and (not self.autoDownsample or self._computeDownsampleFactors() == (1, 1))):
            self._prepared = None
            self._imageHasNans = False  # (prepare took finite numbers only)
            self._imageNanLocations = None
            self._lastDownsample = (1, 1)
            self.qimage = prepared[3]
            self._renderRequired = False
            self._unrenderable = False
            self.prepared_used += 1
            return
        super().render()
