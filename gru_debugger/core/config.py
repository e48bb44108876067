"""The scripting API's documented path to the run configuration (the module is core/base/config.py).

Kept so that ``from gru_debugger.core.config import Config`` in a person's script or notebook keeps
working; the package itself imports core.base.config.
"""
from .base.config import (DTYPES, MAX_CONFIG_BYTES, MAX_POSITION, MAX_TRACE_BYTES, PARAM_NAMES, Config,
                          ConfigError, default_corpus, default_init, read_config, validate)

__all__ = ["DTYPES", "MAX_CONFIG_BYTES", "MAX_POSITION", "MAX_TRACE_BYTES", "PARAM_NAMES", "Config", "ConfigError",
           "default_corpus", "default_init", "read_config", "validate"]


def __getattr__(name: str):
    """``load_config`` (read, validate and check against the corpus) as scripts imported it before it
    moved to core/storage/config_load.py; loaded on first use, since checking against the corpus
    tokenizes it and this path must stay light (a Config alone loads no engine)."""
    if name == "load_config":
        from .storage.config_load import load_config
        return load_config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
