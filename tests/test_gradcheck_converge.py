"""The gradient check shrinks ε until its finite differences converge, then
judges each element: agrees, disagrees or did not converge (with the estimates
per ε), in the report, on the command line and in the right-click box."""
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6 import QtWidgets

from gru_debugger.cli import NOT_CONVERGED_EXIT, main
from gru_debugger.core.analysis import gradcheck
from gru_debugger.core.base.config import PARAM_NAMES
from gru_debugger.core.storage.config_load import load_config
from gru_debugger.core.control.controller import Controller
from gru_debugger.core.model.edits import fresh_state
from gru_debugger.core.analysis.gradcheck import (AGREES, CONVERGE_TOL, DISAGREES, MAX_LEVELS, NOT_CONVERGED, REL_TOL,
                                         check_element, check_one, converged, gradient_check, richardson)
from gru_debugger.ui import export_view

EXAMPLES = Path(__file__).resolve().parents[1] / "resources" / "examples"
EXPLODING = EXAMPLES / "rnn-exploding.json"
NOTEBOOK = EXAMPLES / "notebook.json"


def verdicts(report):
    return [e["verdict"] for p in report["parameters"].values() for e in p["elements"]]


def test_richardson_cancels_the_eps2_and_eps4_terms():
    f = np.exp  # f'(0) = 1
    def d(h):
        return np.array([(f(h) - f(-h)) / (2 * h)])
    h = 0.1
    assert abs(d(h)[0] - 1) > 1e-3                                   # the central difference alone: ~h²/6
    assert abs(richardson(d(h), d(2 * h), d(4 * h))[0] - 1) < 1e-7  # ε⁶: (0.1)⁶ times a small constant
    assert converged([1.0, 1.0 + CONVERGE_TOL / 2, 1.0])
    assert not converged([1.0, 1.0 + 3 * CONVERGE_TOL, 1.0])
    assert not converged([1.0, 1.0])  # three must agree
    assert not converged([np.nan, 1.0, 1.0])


def test_exploding_example_has_no_disagreement_and_x2g_bias_30_agrees():
    """The chaotic example: one ε = 1e-3 gives the wrong sign for x2g.bias[30]
    (issue: −33.28 against +35.2841); the converged check agrees with autograd."""
    state = fresh_state(load_config(EXPLODING))
    assert state.config.dtype == "float32"  # the check itself runs in float64
    fd1, ag1, _ = check_one(state, "x2g.bias", (30,))
    assert fd1 < 0 < ag1                     # the old single-ε estimate: wrong by a factor, not a digit
    check = check_element(state, "x2g.bias", (30,))
    assert check.verdict == AGREES and check.rel_error <= REL_TOL
    assert abs(check.autograd - 35.28408) < 1e-3  # the float64 gradient (float32 records about 36.9)
    assert abs(check.estimate - check.autograd) < 1e-4
    assert check.step < 1e-6 and len(check.steps) > 10  # it had to go far below 1e-3
    last = [e for e in check.estimates[-3:]]
    assert max(last) - min(last) <= 2 * CONVERGE_TOL * max(map(abs, last))

    threads = torch.get_num_threads()
    report = gradient_check(state)  # the default sample, as the command line checks it
    assert torch.get_num_threads() == threads  # the check's one thread is given back
    found = verdicts(report)
    assert report["counts"][DISAGREES] == 0 and DISAGREES not in found
    assert len(found) == 736 and found.count(AGREES) >= 0.95 * len(found)  # a few may not converge
    assert report["verdict"] in (AGREES, NOT_CONVERGED)
    for name in ("wte.weight", "x2g.weight", "x2g.bias", "h2g.weight", "h2g.bias"):  # the MISMATCHes
        assert report["parameters"][name]["disagrees"] == 0
        assert report["parameters"][name]["max_rel_error"] <= REL_TOL


def test_notebook_default_everything_agrees():
    report = gradient_check(fresh_state(load_config(NOTEBOOK)))
    found = verdicts(report)
    assert report["ok"] and report["verdict"] == AGREES
    assert found == [AGREES] * len(found) and len(found) == sum(p["size"] for p in report["parameters"].values())
    for p in report["parameters"].values():
        assert p["max_rel_error"] <= REL_TOL
        for e in p["elements"]:
            assert e["steps"][0] == pytest.approx(1e-3)  # the notebook's weights are at most 1
            assert len(e["steps"]) >= 5 and e["estimates"][:2] == [None, None]


def _scaled(monkeypatch, name, factor):
    real = gradcheck._Loss.autograd

    def wrong(self):
        grads = {k: v.copy() for k, v in real(self).items()}
        grads[name] = grads[name] * factor
        return grads

    monkeypatch.setattr(gradcheck._Loss, "autograd", wrong)


def test_a_gradient_off_by_ten_percent_disagrees(monkeypatch, capsys):
    """On the notebook's example only the head has gradients above round-off (its
    constant weights keep the hidden units equal): scale those by 1.1."""
    state = fresh_state(load_config(NOTEBOOK))
    honest = gradcheck._Loss(state).autograd()["lm_head.weight"]
    assert np.abs(honest).min() > 1e-3
    _scaled(monkeypatch, "lm_head.weight", 1.1)
    report = gradient_check(state)
    for name, p in report["parameters"].items():
        expected = DISAGREES if name == "lm_head.weight" else AGREES
        assert [e["verdict"] for e in p["elements"]] == [expected] * p["checked"], name
        assert p["ok"] == (name != "lm_head.weight")
    assert report["verdict"] == DISAGREES and report["counts"][DISAGREES] == honest.size
    assert abs(report["parameters"]["lm_head.weight"]["max_rel_error"] - 0.1 / 1.1) < 1e-6

    assert main(["gradcheck", "--samples", "30"]) == 1
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("lm_head.weight "))
    assert row.split()[-1] == "disagrees" and "30/72" in row
    assert len(re.findall(r"lm_head\.weight\[\d+, \d+\] disagrees: finite difference \S+ \(converged at ε = ",
                          out)) == 5
    assert "... and 25 more elements of lm_head.weight that disagree (all in --json)" in out
    assert "30 element(s) disagree" in out

    numbers, notes = export_view.gradient_check_text(Controller(load_config(NOTEBOOK)), "lm_head.weight", (3, 1))
    assert "They do NOT agree" in notes and "relative error of 0.0909" in notes
    fd = float(re.search(r"finite difference:\s+(\S+)", numbers).group(1))
    ag = float(re.search(r"autograd:\s+(\S+)", numbers).group(1))
    assert ag == pytest.approx(1.1 * fd, rel=1e-6)


@pytest.fixture
def noisy_loss(monkeypatch):
    """The loss the finite differences see gets a term that wiggles at a scale of
    1e-9 in x2g.bias: no ε resolves it, so no estimate settles. Autograd (the
    engine's own forward) is untouched."""
    real = gradcheck.forward

    def noisy(cell, params, *args, **kwargs):
        out = real(cell, params, *args, **kwargs)
        out["loss"] = out["loss"] + 1e-7 * torch.sin(params["x2g.bias"].sum() * 1e9)
        return out

    monkeypatch.setattr(gradcheck, "forward", noisy)


def test_a_loss_that_never_settles_did_not_converge(noisy_loss, tmp_path, capsys):
    state = fresh_state(load_config(NOTEBOOK))
    check = check_element(state, "x2g.bias", (1,))
    assert check.verdict == NOT_CONVERGED and check.estimate is None and check.rel_error is None
    assert len(check.steps) == len(check.differences) == len(check.estimates) == MAX_LEVELS
    assert check.steps[0] == pytest.approx(1e-3) and check.steps[-1] == pytest.approx(1e-3 / 2 ** (MAX_LEVELS - 1))
    assert all(e is not None and np.isfinite(e) for e in check.estimates[2:])

    report = gradient_check(state, samples=8)
    bias = report["parameters"]["x2g.bias"]
    assert bias["did_not_converge"] == bias["checked"] and bias["max_rel_error"] is None and bias["worst"] is None
    assert report["counts"][DISAGREES] == 0 and report["verdict"] == NOT_CONVERGED and not report["ok"]
    assert all(report["parameters"][n]["agrees"] == report["parameters"][n]["checked"]
               for n in PARAM_NAMES if n != "x2g.bias")  # the wiggle depends on x2g.bias alone

    out_json = tmp_path / "r.json"
    assert main(["gradcheck", "--samples", "8", "--json", str(out_json)]) == NOT_CONVERGED_EXIT == 3
    out = capsys.readouterr().out
    assert "x2g.bias[0] did not converge; autograd" in out and "estimates per ε:" in out
    assert "no element disagrees, but 6 did not converge" in out
    table = out[out.index("x2g.bias[0] did not converge"):].splitlines()[2:2 + MAX_LEVELS]
    assert [float(row.split()[0]) for row in table] == pytest.approx([1e-3 / 2 ** k for k in range(MAX_LEVELS)],
                                                                     rel=1e-2)
    saved = json.loads(out_json.read_text())
    element = saved["parameters"]["x2g.bias"]["elements"][1]
    assert element["verdict"] == NOT_CONVERGED and element["finite_difference"] is None
    assert element["differences"] == pytest.approx(list(check.differences), rel=1e-12)

    numbers, notes = export_view.gradient_check_text(Controller(load_config(NOTEBOOK)), "x2g.bias", (1,))
    assert "finite difference:  did not converge" in numbers and "estimates per ε:" in numbers
    assert numbers.count("\n") >= 4 + MAX_LEVELS  # one row per ε
    assert notes.startswith("Not judged: the finite difference did not converge")


def test_the_box_shows_the_verdict_and_draws_readably(qtbot, noisy_loss, tmp_path):
    parent = QtWidgets.QWidget()
    parent.controller = Controller(load_config(NOTEBOOK))
    qtbot.addWidget(parent)
    parent.resize(800, 700)
    parent.show()
    box = export_view.show_gradient_check(parent, "x2g.bias", (1,))
    assert box.icon() == QtWidgets.QMessageBox.Icon.Warning
    assert "did not converge" in box.text() and "Not judged" in box.informativeText()
    box.adjustSize()
    image = box.grab()
    assert image.height() > 400  # the whole table of estimates is shown, not cut off
    assert image.save(str(tmp_path / "box.png"))
    box.close()
    box = export_view.show_gradient_check(parent, "h2g.weight", (0, 1))
    assert box.icon() == QtWidgets.QMessageBox.Icon.Information and "They agree" in box.informativeText()
    assert "the 3 estimates that agreed" in box.text()
    assert "Both are below 1e-08, the smallest difference this check resolves" in box.informativeText()  # ≈ 0
    box.close()


def test_a_loss_that_is_nan_did_not_converge_and_the_report_is_strict_json():
    state = fresh_state(load_config(NOTEBOOK))
    state.params["h2g.weight"][0, 0] = float("nan")
    report = gradient_check(state, samples=3)
    assert report["counts"] == {AGREES: 0, DISAGREES: 0, NOT_CONVERGED: 18} and report["loss"] is None
    json.dumps(report, allow_nan=False)  # NaN is written as null
    assert "—" in gradcheck.format_table(report)
