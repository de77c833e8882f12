"""``matches`` patterns, run by RE2 (the ``google-re2`` package), never by :mod:`re`.

Python's :mod:`re` backtracks: ``^(\\w+\\s?)+$`` against a 60-character title from a web
form runs for minutes while holding the GIL, so not even SIGTERM stops it. RE2 guarantees
time linear in the text for every pattern it accepts, which is why it refuses the few
constructs that need backtracking (backreferences, lookaround, atomic groups); those
become ``rules check`` problems instead. We use the library rather than vetting patterns
by hand: "does this pattern backtrack catastrophically" has no reliable simple test.

The text is matched as UTF-8 bytes (the fast path of the binding); lone surrogates, which
JSON can carry but UTF-8 cannot, are passed through as their raw bytes and never raise.
Only the first :data:`~sync_agent.rules.limits.MAX_TEXT_CHARS` characters are searched.
"""

from __future__ import annotations

import re as stdlib_re
from typing import Any

import re2  # type: ignore[import-untyped]  # google-re2 ships no type information

from sync_agent.rules.limits import MAX_TEXT_CHARS

#: Constructs RE2 refuses, spotted to give a useful hint (RE2's own message is terse).
_UNSUPPORTED = (
    (stdlib_re.compile(r"\\[1-9]|\(\?P=|\\k<"), "a backreference"),
    (stdlib_re.compile(r"\(\?<?[=!]"), "lookaround"),
    (stdlib_re.compile(r"\(\?>"), "an atomic group"),
    (stdlib_re.compile(r"[*+?}]\+"), "a possessive quantifier"),
)


class Pattern:
    """A compiled RE2 pattern; :meth:`found` is True when it matches anywhere in the text."""

    __slots__ = ("_regexp", "source")

    def __init__(self, source: str, regexp: Any) -> None:
        self.source = source
        self._regexp = regexp

    def found(self, text: str) -> bool:
        data = text[:MAX_TEXT_CHARS].encode("utf-8", "surrogatepass")
        return self._regexp.search(data) is not None

    def __repr__(self) -> str:
        return f"Pattern({self.source!r})"


def compile_pattern(source: str, case_sensitive: bool) -> Pattern | str:
    """The compiled pattern, or why RE2 refuses it (a sentence for a problem message)."""
    options = re2.Options()
    options.case_sensitive = case_sensitive
    options.log_errors = False  # RE2 would otherwise print to stderr itself
    try:
        return Pattern(source, re2.compile(source, options))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "invalid pattern"
        reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        for construct, name in _UNSUPPORTED:
            if construct.search(source):
                return f"RE2 does not support {name} ({reason})"
        return f"RE2 cannot read it: {reason}"
