"""Virtual environments for the tests that install the project the way a user does."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def bin_path(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


def see_this_environment(python: Path) -> None:
    """Let the new venv import what this environment has (torch, PySide6, ...).

    ``--system-site-packages`` shows only the base interpreter's packages; when
    the tests run inside a virtual environment (as the README sets up) its
    packages are listed in a ``.pth`` file too, wherever that environment
    lives: the README puts it inside the checkout (``.venv``). They come after
    the venv's own site-packages, so the installed wheel wins. A directory
    listed by a ``.pth`` line is only put on the path (its own ``.pth`` files,
    such as an editable install's finder, are not run), and the source tree
    itself is never listed, so the checkout's package cannot be imported.
    """
    site_dir = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=python.parent).strip())
    ours = [p for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()
            and Path(p).resolve() != ROOT and not (Path(p) / "gru_debugger" / "__init__.py").is_file()]
    (site_dir / "_outer_environment.pth").write_text("".join(f"{p}\n" for p in ours), encoding="utf-8")


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def link_this_environment(python: Path) -> None:
    """Put this environment's installed packages *inside* the new venv.

    Every entry of this environment's site-packages folders is linked into the
    new venv's own site-packages, so the packages are found under the venv's
    folder, as they are after a real ``pip install`` there (a ``.pth`` pointing
    outside would hide a test that skips folders under the checkout). The
    project itself and any earlier link file are left out.
    """
    site_dir = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=python.parent).strip())
    for folder in (Path(p) for p in sys.path if p and Path(p).name in ("site-packages", "dist-packages")):
        if not folder.is_dir() or folder.resolve() == site_dir.resolve():
            continue
        for entry in folder.iterdir():
            name = entry.name.lower()
            if ("gru_debugger" in name or "gru-debugger" in name or name == "_outer_environment.pth"
                    or name == "__pycache__" or (site_dir / entry.name).exists()):
                continue
            (site_dir / entry.name).symlink_to(entry)
