"""The wheel works on its own: built, installed into a fresh virtual environment
and run from another folder, it finds its corpus and example configs inside
the installed package, never in this source tree."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from venv_helpers import ROOT, bin_path as _bin, run as _run, see_this_environment as _see_this_environment, child_env as _env

# What a build reads; copied to a temporary folder so the build leaves nothing here.
BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "gru_debugger", "resources")
DEFAULT_LOSS = "loss 3.5835"  # ln(36): the notebook's example with its constant initialisation


def _setuptools_builds_wheels() -> bool:
    """This environment's setuptools can build the wheel itself (no download)."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    import setuptools

    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)  # bdist_wheel is built in from 70.1


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, venv folder, wheel, a working folder outside the source tree)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, src / name)
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(src)]
    if _setuptools_builds_wheels():
        build.insert(4, "--no-build-isolation")
    _run(build, cwd=tmp)
    wheels = list((tmp / "dist").glob("gru_debugger-*.whl"))
    assert len(wheels) == 1, wheels

    venv = tmp / "venv"
    # The system's packages are visible (torch and PySide6 are not installed again).
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], cwd=tmp)
    python = _bin(venv, "python")
    _see_this_environment(python)
    if subprocess.run([str(python), "-m", "pip", "--version"], capture_output=True).returncode != 0:
        _run([str(python), "-m", "ensurepip", "--default-pip"], cwd=tmp)
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheels[0])], cwd=tmp)
    work = tmp / "work"
    work.mkdir()
    return python, venv, wheels[0], work


def test_the_wheel_ships_the_whole_resources_folder(installed):
    _, _, wheel, _ = installed
    with zipfile.ZipFile(wheel) as whl:
        shipped = {n.removeprefix("gru_debugger/resources/") for n in whl.namelist()
                   if n.startswith("gru_debugger/resources/")}
        names = whl.namelist()
    expected = {p.relative_to(ROOT / "resources").as_posix() for p in (ROOT / "resources").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")}
    assert "corpus/linear_algebra.txt" in expected and "notebook_config.json" in expected
    assert shipped == expected
    assert "gru_debugger/__main__.py" in names
    assert not any(n.startswith(("tests/", "resources/")) for n in names)


def test_installed_package_reads_its_own_files(installed):
    python, venv, _, work = installed
    code = ("import gru_debugger, json\n"
            "from gru_debugger.core.base.bundled import resource_dir, corpus_files, example_configs\n"
            "from gru_debugger.core.base.config import Config\n"
            "from gru_debugger.core.storage.config_load import load_config\n"
            "print(json.dumps({'package': gru_debugger.__file__, 'resources': str(resource_dir()),\n"
            "  'corpus': [f.name for f in corpus_files()], 'examples': [f.name for f in example_configs()],\n"
            "  'examples_load': all(load_config(str(f)) is not None for f in example_configs()),\n"
            "  'texts': len(Config().corpus)}))\n")
    import json

    info = json.loads(_run([str(python), "-c", code], cwd=work, env=_env()))
    site = venv.resolve()
    assert Path(info["package"]).resolve().is_relative_to(site), info["package"]
    assert Path(info["resources"]).resolve().is_relative_to(site), info["resources"]
    assert not Path(info["package"]).resolve().is_relative_to(ROOT)
    assert info["corpus"] == sorted(p.name for p in (ROOT / "resources" / "corpus").glob("*.txt"))
    assert "notebook_config.json" in info["examples"] and info["examples_load"]
    assert info["texts"] == len(info["corpus"])


@pytest.mark.parametrize("how", ["module", "command"])
def test_export_from_another_folder(installed, how):
    python, venv, _, work = installed
    out = work / f"trace-{how}.npz"
    assert not out.exists()
    cmd = [str(python), "-m", "gru_debugger"] if how == "module" else [str(_bin(venv, "gru-debugger"))]
    stdout = _run(cmd + ["export", "--out", out.name], cwd=work, env=_env())
    assert out.is_file() and out.stat().st_size > 1000
    assert DEFAULT_LOSS in stdout, stdout


def test_a_user_mistake_is_one_error_line(installed):
    python, _, _, work = installed
    proc = subprocess.run([str(python), "-m", "gru_debugger", "export", "--out", "x.txt"], cwd=work, env=_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
