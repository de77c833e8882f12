"""The operators a condition may use: what argument each takes and how it compares.

The table drives both validation (argument shape, field types allowed) and compilation
(:func:`make_predicate`). A predicate receives the lead's value already coerced to the
leaf's kind (never missing, never unreadable) and ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sync_agent.rules.limits import MAX_TEXT_CHARS
from sync_agent.rules.spec import Leaf

Predicate = Callable[[Any, datetime], bool]

ANY_TYPE: Final = frozenset({"string", "number", "date", "bool"})
ORDERED: Final = frozenset({"number", "date"})


@dataclass(frozen=True)
class OpInfo:
    """``arg``: none, scalar, members, pair, days, text or regex; ``types``: field types allowed."""

    arg: str
    types: frozenset[str]
    doc: str


OPS: Final[dict[str, OpInfo]] = {
    "equals": OpInfo("scalar", ANY_TYPE, "the value equals `value`"),
    "not_equals": OpInfo("scalar", ANY_TYPE, "the value is present and differs from `value`"),
    "in": OpInfo(
        "members", frozenset({"string", "number"}), "the value is one of `value` or `list`"
    ),
    "not_in": OpInfo("members", frozenset({"string", "number"}), "present and not one of them"),
    "gt": OpInfo("scalar", ORDERED, "greater than `value`"),
    "gte": OpInfo("scalar", ORDERED, "greater than or equal to `value`"),
    "lt": OpInfo("scalar", ORDERED, "less than `value`"),
    "lte": OpInfo("scalar", ORDERED, "less than or equal to `value`"),
    "between": OpInfo("pair", ORDERED, "within `value = [low, high]`, both ends included"),
    "present": OpInfo("none", ANY_TYPE, "the field has a non-blank value"),
    "missing": OpInfo("none", ANY_TYPE, "the field is absent or blank"),
    "contains": OpInfo("text", frozenset({"string"}), "the text contains `value`"),
    "not_contains": OpInfo("text", frozenset({"string"}), "present and does not contain `value`"),
    "starts_with": OpInfo("text", frozenset({"string"}), "the text starts with `value`"),
    "ends_with": OpInfo("text", frozenset({"string"}), "the text ends with `value`"),
    "matches": OpInfo("regex", frozenset({"string"}), "the regular expression `value` is found"),
    "within_days": OpInfo("days", frozenset({"date"}), "the date is at most `value` days ago"),
    "older_than_days": OpInfo(
        "days", frozenset({"date"}), "the date is more than `value` days ago"
    ),
    "is_true": OpInfo("none", frozenset({"bool"}), "the yes/no field is yes"),
    "is_false": OpInfo("none", frozenset({"bool"}), "the yes/no field is no"),
}

ALIASES: Final[dict[str, str]] = {
    "eq": "equals",
    "==": "equals",
    "=": "equals",
    "is": "equals",
    "ne": "not_equals",
    "!=": "not_equals",
    "neq": "not_equals",
    ">": "gt",
    ">=": "gte",
    "<": "lt",
    "<=": "lte",
    "greater_than": "gt",
    "less_than": "lt",
    "at_least": "gte",
    "at_most": "lte",
    "exists": "present",
    "is_present": "present",
    "is_missing": "missing",
    "regex": "matches",
    "in_last_days": "within_days",
    "not_within_days": "older_than_days",
}

_SYMBOLS: Final[dict[str, str]] = {
    "equals": "=",
    "not_equals": "≠",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
}


def canonical_op(name: str) -> str | None:
    """The operator's canonical name, accepting aliases; None if unknown."""
    key = name.strip().lower()
    return key if key in OPS else ALIASES.get(key)


def all_op_names() -> list[str]:
    return [*OPS, *ALIASES]


def make_label(field: str, op: str, shown: str) -> str:
    """Readable condition text: ``lead_score >= 70``, ``email present``."""
    if op == "within_days":
        return f"{field} within the last {shown} days"
    if op == "older_than_days":
        return f"{field} older than {shown} days"
    verb = _SYMBOLS.get(op, op.replace("_", " "))
    return f"{field} {verb} {shown}".rstrip()


def make_predicate(leaf: Leaf) -> Predicate:
    """A fast comparison for one validated leaf (the value is already coerced)."""
    op, target = leaf.op, leaf.value
    simple: dict[str, Predicate] = {
        "equals": lambda v, now: v == target,
        "not_equals": lambda v, now: v != target,
        "gt": lambda v, now: v > target,
        "gte": lambda v, now: v >= target,
        "lt": lambda v, now: v < target,
        "lte": lambda v, now: v <= target,
        "present": lambda v, now: True,
        "missing": lambda v, now: False,
        "is_true": lambda v, now: v is True,
        "is_false": lambda v, now: v is False,
    }
    if op in simple:
        return simple[op]
    return _make_other(leaf)


def _make_other(leaf: Leaf) -> Predicate:
    op, target, members = leaf.op, leaf.value, leaf.values
    if op == "in":
        return lambda v, now: v in members
    if op == "not_in":
        return lambda v, now: v not in members
    if op == "between":
        low, high = leaf.bounds or (None, None)
        return lambda v, now: low <= v <= high
    if op == "contains":  # only the first MAX_TEXT_CHARS (see limits): bounded work per lead
        return lambda v, now: target in v[:MAX_TEXT_CHARS]
    if op == "not_contains":
        return lambda v, now: target not in v[:MAX_TEXT_CHARS]
    if op == "starts_with":
        return lambda v, now: v.startswith(target)
    if op == "ends_with":
        return lambda v, now: v.endswith(target)
    if op == "matches":  # RE2: linear time, first MAX_TEXT_CHARS only (see rules.regex)
        found = leaf.pattern.found if leaf.pattern else None
        return lambda v, now: found is not None and found(v)
    return _relative_days(op, timedelta(days=float(target)))


def _relative_days(op: str, span: timedelta) -> Predicate:
    """within_days / older_than_days, computing the cut-off once per clock value."""
    last: list[tuple[datetime, datetime]] = []  # [(now, now - span)], replaced whole

    def cutoff(now: datetime) -> datetime:
        pair = last[0] if last else None
        if pair is None or pair[0] is not now:
            pair = (now, now - span)
            last[:] = [pair]
        return pair[1]

    if op == "within_days":
        return lambda v, now: v >= cutoff(now)
    return lambda v, now: v < cutoff(now)
