"""Argument checks for the controller's public methods.

Every check raises :class:`ControllerError` (a ValueError) with a readable
message, whatever the type of the bad value (None, text, bools where numbers
belong, huge integers, NaN, nested lists ...), so a caller only ever has to
catch one exception and the controller is refused before it changes anything.
"""
from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

FLOAT32_MAX = float(np.finfo(np.float32).max)

_REPR = reprlib.Repr()
_REPR.maxstring = 40
_REPR.maxother = 40
_REPR.maxlevel = 3


class ControllerError(ValueError):
    """A request the controller refused; nothing was changed."""


def show(value: Any) -> str:
    """A short, one-line repr of any value (safe for huge or deeply nested ones)."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a repr that fails must not hide the real message
        text = f"<{type(value).__name__}>"
    return text.replace("\n", " ")


def is_int(value: Any) -> bool:
    """A whole number: int or numpy integer, never a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def check_int(value: Any, what: str, low: int | None = None, high: int | None = None) -> int:
    if not is_int(value):
        raise ControllerError(f"{what} must be a whole number, got {show(value)}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low} to {high}" if low is not None and high is not None else \
            f">= {low}" if low is not None else f"<= {high}"
        raise ControllerError(f"{what} must be a whole number {bounds}, got {show(value)}")
    return value


def fits_float32(value: Any) -> bool:
    """A plain int or float that a float32 holds (not a bool, huge int, NaN or Inf): the config's rule."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    return math.isfinite(number) and abs(number) <= FLOAT32_MAX


def check_float32(value: Any, what: str) -> float:
    """A real number that a float32 holds without becoming Inf (not NaN, not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ControllerError(f"{what} must be a number, got {show(value)}")
    try:
        number = float(value)
    except (OverflowError, ValueError, TypeError):
        raise ControllerError(f"{what} is too large: {show(value)} does not fit a float32") from None
    if math.isnan(number):
        raise ControllerError(f"{what} must be a number, got NaN")
    if not math.isfinite(number) or abs(number) > FLOAT32_MAX:
        raise ControllerError(f"{what} must be a finite number within ±{FLOAT32_MAX:.4g} (float32), "
                              f"got {show(value)}")
    return number


def check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ControllerError(f"{what} must be true or false, got {show(value)}")
    return bool(value)


def check_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ControllerError(f"{what} must be text, got {show(value)}")
    return value


def check_choice(value: Any, what: str, choices: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ControllerError(f"unknown {what} {show(value)}; {what}s are: {', '.join(choices)}")
    return value


def check_merge_key(value: Any) -> Any:
    """Any hashable value (None: no merging)."""
    if value is not None:
        try:
            if not isinstance(value, Hashable):
                raise TypeError
            hash(value)
        except TypeError:
            raise ControllerError(f"merge_key must be hashable (text, a number or a tuple), got {show(value)}") \
                from None
    return value


def check_texts(texts: Any, what: str = "corpus") -> tuple[str, ...]:
    """A list or tuple of strings (a bare string is refused: it is a sequence of characters)."""
    if isinstance(texts, (str, bytes, bytearray)) or not isinstance(texts, Sequence):
        raise ControllerError(f"{what} must be a list of texts, got {show(texts)}")
    if not all(isinstance(t, str) for t in texts):
        raise ControllerError(f"{what} must be a list of texts; it holds {show(texts)}")
    return tuple(texts)


def check_names(names: Any, what: str, known: Sequence[str]) -> list[str]:
    """A non-empty list of known names (a bare string is refused)."""
    if isinstance(names, (str, bytes, bytearray)) or not isinstance(names, Iterable) or isinstance(names, Mapping):
        raise ControllerError(f"{what} must be a list of names, got {show(names)}")
    chosen = list(names)
    if not chosen:
        raise ControllerError(f"{what}: no names given")
    for name in chosen:
        check_choice(name, what.rstrip("s"), known)
    return chosen


def check_index(index: Any, name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    if isinstance(index, (str, bytes, bytearray)) or not isinstance(index, Sequence):
        raise ControllerError(f"index into {name} must be a tuple of {len(shape)} whole numbers, got {show(index)}")
    if len(index) != len(shape) or not all(is_int(i) and 0 <= i < n for i, n in zip(index, shape)):
        raise ControllerError(f"index {show(index)} is outside {name}, whose shape is {tuple(shape)}")
    return tuple(int(i) for i in index)
