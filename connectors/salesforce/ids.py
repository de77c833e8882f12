"""Salesforce record ids: the 18-character form, and what kind of record an id names.

Ids are 15 characters (case-sensitive) or 18 (a 3-character checksum appended, what the API
returns). Settings and lead data may hold either; the connector compares 18-character ids
only. The key prefix names the object: ``005`` a User, ``00G`` a Group (queues are groups
of type Queue), ``00Q`` a Lead.
"""

from __future__ import annotations

import re

USER_PREFIX = "005"
QUEUE_PREFIX = "00G"
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")


def id_suffix(id15: str) -> str:
    """The 3-character checksum turning a case-sensitive 15-char id into the 18-char form."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for start in (0, 5, 10):
        chunk = id15[start : start + 5]
        suffix += alphabet[sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")]
    return suffix


def looks_like_id(value: str) -> bool:
    return bool(_ID.match(value))


def to18(value: str) -> str:
    """``value`` (a 15- or 18-character id) in its 18-character form."""
    return value if len(value) == 18 else value + id_suffix(value)


def is_queue(value: str | None) -> bool:
    return bool(value) and str(value).startswith(QUEUE_PREFIX)


def is_user(value: str | None) -> bool:
    return bool(value) and str(value).startswith(USER_PREFIX)
