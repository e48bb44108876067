"""The curated example configs that ship with the program (``resources/examples/``).

``index.json`` there lists them in order, each with a title and a one-sentence
description that is true of its numbers (the test suite checks the claims).
Every file loads with :func:`load_config` and ``python main.py --config``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..base.bundled import MissingResources, resource
from ..base.config import Config
from .config_load import load_config

INDEX = "index.json"


@dataclass(frozen=True)
class Example:
    title: str         # short, for a menu: "Plain RNN: vanishing gradient"
    description: str   # one sentence, for a tooltip or status line
    path: Path         # the config file; pass it to load_config


def examples_dir() -> Path:
    return Path(str(resource("examples")))


def list_examples() -> list[Example]:
    """The shipped examples in the index's order."""
    folder = examples_dir()
    try:
        index = json.loads((folder / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MissingResources(f"cannot read the example index {folder / INDEX}: {exc}; reinstall gru-debugger") \
            from None
    return [Example(str(e["title"]), str(e["description"]), folder / str(e["file"])) for e in index["examples"]]


def load_example(example: Example) -> Config:
    """The example's config (a ConfigError names the file if it is broken)."""
    return load_config(example.path)
