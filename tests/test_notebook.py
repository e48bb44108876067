"""The README's notebook example runs as written, and save_heatmap draws what it says."""
import re
from pathlib import Path

import numpy as np
import pytest
from safetensors.torch import load_file

from gru_debugger.notebook import DIVERGING, NOT_FINITE, SEQUENTIAL, heatmap_rgb, save_heatmap

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- notebook-example"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    assert text.count(MARKER) == 1, "exactly one marked example"
    after = text[text.index(MARKER):]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match and after.index("```python") < after.index("\n\n") + 2, "the code block follows the marker"
    return match.group(1)


def read_png(path):
    from PySide6 import QtGui
    image = QtGui.QImage(str(path))
    assert not image.isNull(), path
    return image


def test_readme_notebook_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = readme_example()
    exec(compile(code, "README.md (notebook example)", "exec"), {"__name__": "__notebook__"})
    out = capsys.readouterr().out
    assert "3.5835" in out
    assert "t=4" in out
    probs, x2g = read_png(tmp_path / "probs.png"), read_png(tmp_path / "x2g.png")
    # probs of one row: (T, V) = (8, 36) values; default cell size 480 // 36 = 13 px
    assert (probs.width(), probs.height()) == (36 * 13, 8 * 13)
    assert (x2g.width(), x2g.height()) == (4 * 24, 6 * 24)
    assert sorted(load_file(tmp_path / "weights.safetensors")) == sorted(
        ["embedding.weight", "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
         "head.weight"])


def test_heatmap_colours():
    rgb = heatmap_rgb(np.array([[-2.0, 0.0, 2.0], [np.nan, np.inf, 1.0]]))
    assert tuple(rgb[0, 0]) == DIVERGING[0][1] and tuple(rgb[0, 2]) == DIVERGING[-1][1]
    assert tuple(rgb[0, 1]) == DIVERGING[1][1], "zero is the middle colour"
    assert tuple(rgb[1, 0]) == tuple(rgb[1, 1]) == NOT_FINITE
    gates = heatmap_rgb([0.0, 1.0])                                  # one row, sequential on [0, 1]
    assert gates.shape == (1, 2, 3) and tuple(gates[0, 0]) == SEQUENTIAL[0][1]
    clipped = heatmap_rgb([[5.0, -5.0]], levels=(-1, 1))
    assert tuple(clipped[0, 0]) == DIVERGING[-1][1] and tuple(clipped[0, 1]) == DIVERGING[0][1]


def test_saved_image_has_the_colours(tmp_path):
    path = save_heatmap(np.array([[-1.0, 1.0]]), tmp_path / "a.png", cell_px=3)
    image = read_png(path)
    assert (image.width(), image.height()) == (6, 3)
    assert image.pixelColor(0, 0).getRgb()[:3] == DIVERGING[0][1]
    assert image.pixelColor(5, 2).getRgb()[:3] == DIVERGING[-1][1]


@pytest.mark.parametrize("array, kwargs, match", [
    (np.zeros((2, 2, 2)), {}, "0-, 1- or 2-D"), (np.zeros((0, 3)), {}, "empty"),
    (np.zeros(3), {"levels": (1, 1)}, "low < high"), (np.zeros(3), {"levels": "ab"}, "two"),
    (np.zeros(3), {"cell_px": 0}, "cell_px"), (np.zeros((5000, 5000)), {"cell_px": 2}, "too large"),
])
def test_refusals(tmp_path, array, kwargs, match):
    with pytest.raises(ValueError, match=match):
        save_heatmap(array, tmp_path / "x.png", **kwargs)
    assert not (tmp_path / "x.png").exists()


def test_unwritable_path(tmp_path):
    with pytest.raises(OSError, match="cannot write"):
        save_heatmap(np.ones((2, 2)), tmp_path / "missing" / "x.png")
