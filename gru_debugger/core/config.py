"""The scripting API's documented path to the run configuration (the module is core/base/config.py).

Kept so that ``from gru_debugger.core.config import Config`` in a person's script or notebook keeps
working; the package itself imports core.base.config.
"""
from .base.config import (DTYPES, MAX_CONFIG_BYTES, MAX_POSITION, MAX_TRACE_BYTES, PARAM_NAMES, Config,
                          ConfigError, default_corpus, default_init, read_config, validate)

__all__ = ["DTYPES", "MAX_CONFIG_BYTES", "MAX_POSITION", "MAX_TRACE_BYTES", "PARAM_NAMES", "Config", "ConfigError",
           "default_corpus", "default_init", "read_config", "validate"]
