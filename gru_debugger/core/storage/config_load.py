"""A config file ready to run: read and validated (core/base/config), then checked against its corpus.

The check against the corpus tokenizes it (is there a whole batch at ``position``? does one
iteration fit in memory?), so it sits above the engine; reading and validating a config
(:func:`~gru_debugger.core.base.config.read_config`) tokenizes nothing.
"""
from __future__ import annotations

from pathlib import Path

from ..base.config import Config, ConfigError, read_config
from ..model.edits import check_state


def load_config(path: str | Path | None = None) -> Config:
    """Defaults, overridden by the keys of a JSON file (if given), checked against its corpus.

    Every problem is a ConfigError whose message names ``path``: everything
    :func:`read_config` refuses, and a batch that does not fit the corpus or an
    iteration too large for memory.
    """
    cfg = read_config(path)
    if path is None:
        return cfg
    try:
        check_state(cfg, cfg.position)
    except ConfigError as exc:
        raise ConfigError(f"config {path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"config {path}: its values are nested too deeply") from None
    return cfg
