"""The MQL filter applied to contacts read by id (pure).

A webhook names contacts that changed; they are read by id (batch read, not search: the
search index trails writes by seconds), so the filter a search would apply is applied
here, with the search API's semantics: numbers compare as numbers, date properties as
epoch milliseconds (filter values in epoch ms or ISO form), text case-insensitively;
``NEQ``/``NOT_IN`` match a contact without the property, other comparisons need it;
``CONTAINS_TOKEN`` matches a whole word (``*`` wildcards allowed).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_agent.rules.reading import PropertyType

Props = Mapping[str, Any]
Key = tuple[int, Any]
_TOKENS = re.compile(r"[\s,;:()\[\]]+")


def matches(props: Props, filters: Sequence[Mapping[str, Any]],
            types: Mapping[str, PropertyType] | None = None) -> bool:
    """Whether a contact's properties pass every filter (the filters are ANDed)."""
    return all(_check(props, spec, types or {}) for spec in filters)


def _check(props: Props, spec: Mapping[str, Any], types: Mapping[str, PropertyType]) -> bool:
    name = str(spec.get("propertyName"))
    operator = str(spec.get("operator", "EQ")).upper()
    declared = types.get(name)
    dated = declared is not None and declared.reads_as in ("date", "datetime")
    value = props.get(name)
    present = value is not None and value != ""
    if operator == "HAS_PROPERTY":
        return present
    if operator == "NOT_HAS_PROPERTY":
        return not present
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        found = present and _has_token(str(value), str(spec.get("value", "")))
        return found if operator == "CONTAINS_TOKEN" else not found
    mine = _key(value, dated) if present else None
    if operator in ("IN", "NOT_IN"):
        wanted = {_key(v, dated) for v in spec.get("values") or ()}
        inside = mine is not None and mine in wanted
        return inside if operator == "IN" else not inside
    low = _key(spec.get("value"), dated)
    if operator == "EQ":
        return mine == low
    if operator == "NEQ":
        return mine != low
    if mine is None or mine[0] != low[0]:
        return False
    if operator == "BETWEEN":
        return low <= mine <= _key(spec.get("highValue"), dated)
    tests: dict[str, Callable[[Key, Key], bool]] = {
        "LT": lambda a, b: a < b, "LTE": lambda a, b: a <= b,
        "GT": lambda a, b: a > b, "GTE": lambda a, b: a >= b,
    }
    test = tests.get(operator)
    return test is not None and test(mine, low)


def _key(value: Any, dated: bool) -> Key:
    """A comparable key: numbers and dates numerically, other values as lower-case text."""
    if value is None or value == "":
        return (2, "")
    text = str(value).strip()
    if dated:
        millis = _millis(text)
        if millis is not None:
            return (0, millis)
    try:
        return (0, float(text))
    except ValueError:
        return (1, text.lower())


def _millis(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() * 1000


def _has_token(text: str, wanted: str) -> bool:
    lowered = text.lower()
    tokens = [lowered, *(t for t in _TOKENS.split(lowered) if t)]
    pattern = wanted.lower()
    if "*" in pattern:
        return any(fnmatch.fnmatchcase(token, pattern) for token in tokens)
    return pattern in tokens
