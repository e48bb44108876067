"""Files that ship with the program: the default corpus and the example configs.

In an installed wheel they live in the package, ``gru_debugger/resources/``
(the build copies the repository's ``resources/`` folder there), and are read
with :mod:`importlib.resources`. In a source checkout or an editable install
the package has no such folder and the repository's ``resources/`` is read in
place: the same files either way, one copy in the repository.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

try:
    from importlib.resources.abc import Traversable
except ImportError:  # Python 3.10
    from importlib.abc import Traversable

PACKAGE = "gru_debugger"


class MissingResources(RuntimeError):
    """The installation lacks the files it ships with (a broken install)."""


def resource_dir() -> Traversable:
    """The folder holding ``corpus/`` and the example configs."""
    packaged = resources.files(PACKAGE) / "resources"
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "resources"  # <repo>/gru_debugger/core/base/ -> <repo>
    if checkout.is_dir():
        return checkout
    raise MissingResources(f"the default corpus and example configs are missing: neither {packaged} nor "
                           f"{checkout} exists; reinstall gru-debugger")


def resource(*parts: str) -> Traversable:
    """One file or folder under :func:`resource_dir`, e.g. ``resource("notebook_config.json")``."""
    return resource_dir().joinpath(*parts)


def corpus_files() -> list[Traversable]:
    """The default corpus: ``corpus/*.txt`` in name order."""
    folder = resource("corpus")
    return sorted((f for f in folder.iterdir() if f.name.endswith(".txt") and f.is_file()), key=lambda f: f.name)


def example_configs() -> list[Traversable]:
    """The example configs (``*.json``) in name order."""
    return sorted((f for f in resource_dir().iterdir() if f.name.endswith(".json") and f.is_file()),
                  key=lambda f: f.name)
