"""Build hook: ship the repository's ``resources/`` folder inside the package.

``resources/`` at the repository root is the only copy in the repository.
A wheel (``pip wheel .``) gets all of it as ``gru_debugger/resources/``,
where the program finds it with ``importlib.resources``; an editable install
(``pip install -e .``) and a plain checkout read the folder in place (see
``gru_debugger/core/base/bundled.py``). Everything else is in ``pyproject.toml``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "resources"
TARGET = Path("gru_debugger") / "resources"  # inside the build folder


def resource_files() -> list[Path]:
    """Every file of ``resources/`` (relative paths), skipping caches and hidden files."""
    if not SOURCE.is_dir():
        raise SystemExit(f"cannot build gru-debugger: {SOURCE} is missing")
    return sorted(
        path.relative_to(SOURCE)
        for path in SOURCE.rglob("*")
        if path.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(SOURCE).parts)
    )


class BuildPyWithResources(build_py):
    """The usual build_py, then ``resources/`` copied to ``gru_debugger/resources/``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads resources/ where it is
            return
        target = Path(self.build_lib) / TARGET
        if target.exists():  # no stale files from an earlier build
            shutil.rmtree(target)
        for rel in resource_files():
            self.mkpath(str((target / rel).parent))
            self.copy_file(str(SOURCE / rel), str(target / rel), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:  # type: ignore[override]
        outputs = super().get_outputs(include_bytecode)
        if self.editable_mode:
            return outputs
        return outputs + [str(Path(self.build_lib) / TARGET / rel) for rel in resource_files()]


setup(cmdclass={"build_py": BuildPyWithResources})
