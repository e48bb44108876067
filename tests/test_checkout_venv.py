"""The suite passes with its virtual environment inside the checkout, as the
README's quick start puts it (``.venv`` next to ``tests/``), whichever
environment runs this test: a copy of the checkout gets its own ``.venv`` with
the project installed in editable mode, and runs the tests that depend on where
environments live (the wheel's) and one that imports the project."""
from __future__ import annotations

import os
import shutil
import sys

import pytest
from venv_helpers import ROOT, bin_path, child_env, link_this_environment, run

NESTED = "GRU_DEBUGGER_NESTED_CHECKOUT_RUN"
COPIED = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "main.py", "gru_debugger", "resources", "tests")


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already inside the copied checkout's own run")
def test_the_suite_passes_from_a_venv_inside_the_checkout(tmp_path):
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in COPIED:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, checkout / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".venv"))
        else:
            shutil.copy2(path, checkout / name)
    venv = checkout / ".venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=checkout)
    python = bin_path(venv, "python")
    link_this_environment(python)
    run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", "."],
        cwd=checkout, timeout=300)
    env = child_env() | {NESTED: "1"}
    where = run([str(python), "-c", "import gru_debugger; print(gru_debugger.__file__)"], cwd=tmp_path, env=env)
    assert os.path.commonpath([where.strip(), str(checkout)]) == str(checkout), where
    out = run([str(python), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
               "tests/test_wheel.py", "tests/test_examples.py"], cwd=checkout, env=env, timeout=600)
    summary = out.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, out
