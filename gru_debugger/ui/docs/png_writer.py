"""PNG files encoded and written on worker threads while the screenshot walk goes on.

Encoding a 1600x1000 PNG takes ~50 ms, about a third of the walk-through's
time; Qt's encoder releases the GIL, so two workers run it beside the GUI
thread. Only QImages cross threads (a QPixmap belongs to the GUI thread).
The same image gives the same bytes on any thread, so the files stay
reproducible. :meth:`PngWriter.finish` waits for every file and raises the
first error (an unwritable folder fails the run as before).
"""
from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

WORKERS = 2


class PngWriter:
    def __init__(self, workers: int = WORKERS):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="png")
        self._pending: list[Future] = []

    def put(self, path: str | os.PathLike, image) -> None:
        """Encode ``image`` (a QImage, not touched by the caller afterwards) to ``path``."""
        from ..export_view import _write, image_bytes

        self.raise_first_error()
        self._pending.append(self._pool.submit(lambda: _write(Path(path), image_bytes(image))))

    def raise_first_error(self) -> None:
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            future.result()

    def finish(self) -> None:
        """Wait for every file; raise the first error. The writer can be used again afterwards."""
        pending, self._pending = self._pending, []
        error = None
        for future in pending:
            try:
                future.result()
            except BaseException as exc:  # noqa: BLE001 (re-raised below, after every worker stopped)
                error = error or exc
        if error is not None:
            raise error

    def close(self) -> None:
        try:
            self.finish()
        finally:
            self._pool.shutdown(wait=True)
