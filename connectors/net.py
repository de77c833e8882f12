"""Words for a connection that never happened, with the setting to check.

urllib3 and requests describe a refused connection or an unknown host inside nested
exception text (``Max retries exceeded ... Caused by NewConnectionError(...)``), which tells
an admin nothing about what to fix. The usual cause is a wrong URL in the config, so the
message says where the agent tried to go, why it failed in a few words, and which
setting decides it; connectors add the setting's name.
"""

from __future__ import annotations

import re

import urllib3

_HOST = re.compile(r"host='([^']*)', port=(\d+)")


def unreachable(exc: BaseException) -> str | None:
    """``"127.0.0.1:9 (connection refused)"`` when ``exc`` is a failed connection (refused,
    unknown host, unreachable network); None for anything else (a timeout, a reset)."""
    cause = _connection_error(exc)
    if cause is None:
        return None
    text = str(cause)
    match = _HOST.search(text)
    where = f"{match.group(1)}:{match.group(2)}" if match else "the server"
    if isinstance(cause, urllib3.exceptions.NameResolutionError):
        return f"{where} (no such host)"
    lowered = text.lower()
    for words in ("connection refused", "network is unreachable", "no route to host"):
        if words in lowered:
            return f"{where} ({words})"
    return f"{where} (no connection)"


def _connection_error(exc: BaseException) -> BaseException | None:
    """The urllib3 connection failure behind ``exc`` (itself, its reason, or its context)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, urllib3.exceptions.NewConnectionError):
            return current  # NameResolutionError is one too
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return None
