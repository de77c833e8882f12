"""Text any output accepts: lone surrogates replaced.

A lone surrogate (``"\\ud800"``) is valid JSON text and a valid Python ``str``, so a source
can hand one over, but no UTF-8 encoder (terminal, file, SQLite, hash) accepts it. Everything
that turns strangers' text into bytes goes through here; one place, one rule: U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD."""
    return SURROGATE.sub("\ufffd", text)


def printable_value(value: Any) -> Any:
    """``value`` (str, or dicts and lists of them, keys too) made printable."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_value(k): printable_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(printable_value(v) for v in value)
    return value
