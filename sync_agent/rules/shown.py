"""Values as people see them: bounded in length and depth, printable in any terminal.

A lead's value can be a megabyte of text, a list nested a thousand deep, an integer of
ten thousand digits or a string with lone surrogates (JSON allows ``"\\ud800"``). Shown as
is, these take seconds to lay out in a table, raise RecursionError or ValueError
(Python's int-to-text limit) or UnicodeEncodeError on output. Everything shown to people
goes through here; :mod:`reprlib` (the standard library's bounded ``repr``) does the
walking, with integers and strings clipped our way.
"""

from __future__ import annotations

import reprlib
from typing import Any

from sync_agent.rules.limits import MAX_SHOWN_CHARS
from sync_agent.text import printable

ELLIPSIS = "…"
#: Integers beyond this many bits have more than 4,300 digits: Python refuses to print them.
_PRINTABLE_BITS = 14_000


class _Bounded(reprlib.Repr):
    """``reprlib.Repr`` that also survives integers Python will not turn into text."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = self.maxdict = 8
        self.maxstring = self.maxother = MAX_SHOWN_CHARS
        self.maxlong = 60

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > _PRINTABLE_BITS:
            return f"<an integer of about {int(x.bit_length() * 0.30103):,} digits>"
        return super().repr_int(x, level)


_repr = _Bounded().repr


def bounded_repr(value: Any) -> str:
    """``repr(value)`` in at most about MAX_SHOWN_CHARS characters; never raises."""
    try:
        return clip(_repr(value))
    except Exception:  # a foreign object whose __repr__ fails: show its type instead
        return f"<{type(value).__name__}>"


def clip(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, ending in ``… (N characters)`` when cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}{ELLIPSIS} ({len(text):,} characters)"



def shown(value: Any) -> tuple[str, bool]:
    """A value as a table shows it, and whether it had to be cut."""
    text = value if isinstance(value, str) else bounded_repr(value)
    # reprlib marks what it left out of a list or dict with "..."
    cut = len(text) > MAX_SHOWN_CHARS or (not isinstance(value, str) and "..." in text)
    return printable(clip(text)), cut
