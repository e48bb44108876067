"""PNGs written on worker threads: the same bytes as on the GUI thread, and errors reach the caller."""
import pytest
from PySide6 import QtGui

from gru_debugger.ui.export_view import image_bytes
from gru_debugger.ui.docs.png_writer import PngWriter


def picture(k: int) -> QtGui.QImage:
    image = QtGui.QImage(120, 80, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QtGui.QColor(20 * k, 100, 200 - 10 * k))
    painter = QtGui.QPainter(image)
    painter.drawText(10, 40, f"image {k}")
    painter.end()
    return image


def test_files_have_the_bytes_the_gui_thread_would_write(qapp, tmp_path):
    writer = PngWriter()
    images = [picture(k) for k in range(6)]
    expected = [image_bytes(image) for image in images]
    for k, image in enumerate(images):
        writer.put(tmp_path / f"{k}.png", image)
    writer.close()
    assert [(tmp_path / f"{k}.png").read_bytes() for k in range(6)] == expected
    assert len(set(expected)) == 6


def test_a_failed_write_is_raised_by_finish_and_leaves_no_partial_file(qapp, tmp_path):
    writer = PngWriter()
    writer.put(tmp_path / "missing-folder" / "a.png", picture(1))
    with pytest.raises(OSError):
        writer.finish()
    assert not (tmp_path / "missing-folder").exists()
    writer.put(tmp_path / "c.png", picture(3))  # usable again after an error
    writer.close()
    assert (tmp_path / "c.png").read_bytes() == image_bytes(picture(3))


def test_an_earlier_failure_stops_the_next_put(qapp, tmp_path):
    writer = PngWriter()
    writer.put(tmp_path / "missing-folder" / "a.png", picture(1))
    while writer._pending and not writer._pending[0].done():
        pass
    with pytest.raises(OSError):
        writer.put(tmp_path / "b.png", picture(2))
    writer.close()
    assert not (tmp_path / "b.png").exists()
