"""Errors the core raises for requests a person can fix (kept here so every
core module can raise them without importing another)."""
from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value that cannot work; the message says which and why."""
