"""Open a user's file for reading only if it is a regular file of a sane size.

Opened without blocking (a pipe with no writer would wait forever) and checked
with fstat on the open descriptor, so nothing can be swapped in between the
check and the read. Config files and sessions are read this way.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import Callable


def regular_opener(limit: int, limit_text: str) -> Callable[[str, int], int]:
    """An ``opener`` for :func:`open` that refuses folders, devices, pipes and
    files larger than ``limit`` bytes (``limit_text`` says the limit in words)."""
    def opener(path: str, flags: int) -> int:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
        try:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise IsADirectoryError(errno.EISDIR, "it is a folder, not a file", path)
            if not stat.S_ISREG(info.st_mode):
                raise OSError(errno.EINVAL, "not a regular file (a device, pipe or socket)", path)
            if info.st_size > limit:
                raise OSError(errno.EFBIG, f"larger than the limit of {limit_text}", path)
            if hasattr(os, "O_NONBLOCK"):
                os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd
    return opener
