"""One property value as a source sends it, made safe to pass on.

A lead's values travel far: into the rules engine, into the lead fingerprint (JSON, then
UTF-8), into the audit log's snapshot (JSON in SQLite). A single value that any of them
cannot take would fail the whole page, on every run: a 5,000-digit number (``int()``
refuses more than 4,300 digits), a lone surrogate (valid in JSON, not in UTF-8), a list
nested a hundred thousand deep (JSON encoders recurse), an object with mixed keys
(``sort_keys`` cannot order them). :func:`bounded` caps each value once, where the
mapping reads it (the caps are in :mod:`sync_agent.rules.limits`), and refuses what it
cannot make safe with :class:`ValueRefused`, which makes that record malformed. Pure.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sync_agent.rules.limits import (
    MAX_NUMBER_DIGITS,
    MAX_VALUE_CHARS,
    MAX_VALUE_DEPTH,
    MAX_VALUE_ITEMS,
)
from sync_agent.rules.shown import bounded_repr, clip, printable


class ValueRefused(ValueError):
    """A property value the mapping will not pass on; its record becomes malformed."""


#: Integers of more bits have more than 4,300 digits: Python refuses to print them.
PRINTABLE_BITS = 14_000
_NUMBER_BITS = MAX_NUMBER_DIGITS * 10 // 3 + 1  # a quick bound before counting digits
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTAINERS = (list, tuple, dict)
_SCALARS = (str, int, float, bool, datetime, date, Decimal)


def bounded(value: Any, prop: str) -> Any:
    """``value`` made safe for the rules, the fingerprint and the audit log (JSON).

    * text is cut to MAX_VALUE_CHARS characters, lone surrogates (valid in JSON, not in
      UTF-8) become U+FFFD;
    * integers of more than MAX_NUMBER_DIGITS digits become their text (not a number);
    * lists and objects keep their shape (lists, objects with text keys) up to
      MAX_VALUE_DEPTH levels and MAX_VALUE_ITEMS items;
    * anything else JSON cannot carry, or beyond those caps, raises :class:`ValueRefused`.
    """
    if value is None or value.__class__ is bool or value.__class__ is float:
        return value
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, _CONTAINERS):
        _measure(value, prop)
        return _copy(value, prop)
    return _scalar(value, prop)


def _text(text: str) -> str:
    if len(text) > MAX_VALUE_CHARS:
        text = text[:MAX_VALUE_CHARS]
    if text.isascii():
        return text
    return _SURROGATE.sub("\ufffd", text)


def _scalar(value: Any, prop: str) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value.bit_length() <= _NUMBER_BITS and abs(value) < 10**MAX_NUMBER_DIGITS:
            return value
        if value.bit_length() > PRINTABLE_BITS:
            raise ValueRefused(f"property {_name(prop)} holds a number of more than 4,300 digits")
        return str(value)
    if isinstance(value, _SCALARS) or value is None:
        return value
    raise ValueRefused(f"property {_name(prop)} holds a {type(value).__name__}, not a JSON value")


def _measure(value: Any, prop: str) -> None:
    """Depth and item count of a nested value, without recursion; raises past the caps."""
    stack, items = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_VALUE_DEPTH:
            raise ValueRefused(
                f"property {_name(prop)} is nested deeper than {MAX_VALUE_DEPTH} levels"
            )
        items += len(item)
        if items > MAX_VALUE_ITEMS:
            raise ValueRefused(f"property {_name(prop)} holds more than {MAX_VALUE_ITEMS} items")
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, _CONTAINERS))


def _copy(value: Any, prop: str) -> Any:
    """A JSON-safe copy of a value already measured (so this recursion is shallow)."""
    if isinstance(value, dict):
        return {_key(k, prop): _copy(v, prop) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(v, prop) for v in value]
    return _scalar(value, prop)


def bounded_key(key: Any) -> str:
    """A property name or object key as safe text (see :func:`bounded`)."""
    return _key(key, key)


def _key(key: Any, prop: Any) -> str:
    """Object keys as text: JSON has no other keys, and sorting mixed keys would raise."""
    if isinstance(key, str):
        return _text(key)
    return _text(str(_scalar(key, prop)))


def _name(prop: Any) -> str:
    return repr(clip(printable(str(prop)), 80)) if isinstance(prop, str) else bounded_repr(prop)
