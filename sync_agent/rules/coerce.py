"""Coercion of lead values as sources send them (some APIs send every property as a string).

Each coercer returns the typed value or :data:`BAD`; it never raises, because evaluation
must survive any lead. Absent values (``None``, empty or blank strings) are :data:`MISSING`
before any coercion, so "not there" and "there but unreadable" stay distinguishable in
the explanation.

Two shapes are more than one value (:mod:`sync_agent.rules.shapes`): a number field reads
range text ("100-500", "1000+") as a :class:`NumberRange`, and a list of values (a
multi-select read by its declared type, or a JSON array) is read option by option into
:class:`Options` (blank options dropped, unreadable ones skipped, nested lists ignored).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any, Final

from sync_agent.rules.limits import MAX_NUMBER_DIGITS, MAX_OPTIONS
from sync_agent.rules.shapes import NumberRange, Options, parse_range


class _Marker:
    """A named sentinel that prints well in explanations and debuggers."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return self.label


MISSING: Final = _Marker("<missing>")
BAD: Final = _Marker("<unreadable>")

_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_EPOCH = re.compile(r"^-?\d{9,}$")
_TRUE = frozenset({"true", "yes", "y", "1", "on", "t", "checked"})
_FALSE = frozenset({"false", "no", "n", "0", "off", "f", "unchecked"})


#: Values read as several options (JSON gives lists; the mapping gives Options, a tuple).
MULTI: Final = (list, tuple, set, frozenset)


def is_missing(raw: Any) -> bool:
    """``None`` and blank strings count as absent (APIs send "" for cleared properties),
    and so does a list of options none of which is there."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    return isinstance(raw, MULTI) and not any(not _blank(o) for o in islice(raw, MAX_OPTIONS))


def _blank(option: Any) -> bool:
    return option is None or (isinstance(option, str) and not option.strip())


def many(raw: Any, one: Callable[[Any], Any]) -> Any:
    """A list of values read option by option with ``one``: :class:`Options`, or BAD when
    no option is readable. Only the first MAX_OPTIONS count; nested lists are not read."""
    read = []
    for option in islice(raw, MAX_OPTIONS):
        if _blank(option) or isinstance(option, (*MULTI, dict)):
            continue
        value = one(option)
        if value is not BAD:
            read.append(value)
    return Options(read) if read else BAD


def to_number(raw: Any) -> Any:
    """A finite float, a NumberRange ("100-500", "1000+"), Options (a list), or BAD.
    Accepts "1200", "1,200", " 12.5 ", 12; refuses booleans and text of more than
    MAX_NUMBER_DIGITS digits."""
    if isinstance(raw, bool):
        return BAD
    if isinstance(raw, int | float):
        value = float(raw) if not isinstance(raw, int) or abs(raw) < 2**63 else math.inf
    elif isinstance(raw, str):
        text = raw.strip()
        if len(text) > MAX_NUMBER_DIGITS and sum(map(str.isdigit, text)) > MAX_NUMBER_DIGITS:
            return BAD  # the mapping's cap too: a run of digits this long is not a count
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
        try:
            value = float(text)
        except ValueError:
            return parse_range(raw) or BAD
    elif isinstance(raw, Decimal):  # e.g. read back from a database
        value = float(raw) if raw.is_finite() else math.inf
    elif raw.__class__ is NumberRange:
        return raw
    elif isinstance(raw, MULTI):
        return many(raw, to_number)
    else:
        return BAD
    return value if math.isfinite(value) else BAD


def to_bool(raw: Any) -> Any:
    """True/False from booleans, 0/1 and the words CRMs use ("yes", "on"); else BAD."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        return bool(raw) if raw in (0, 1) else BAD
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    elif isinstance(raw, MULTI):
        return many(raw, to_bool)
    return BAD


def to_date(raw: Any) -> Any:
    """An aware UTC datetime from ISO text, epoch milliseconds, date or datetime."""
    try:
        if isinstance(raw, datetime):
            return raw.astimezone(UTC) if raw.tzinfo else raw.replace(tzinfo=UTC)
        if isinstance(raw, date):
            return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
        if isinstance(raw, bool):
            return BAD
        if isinstance(raw, int | float):
            return datetime.fromtimestamp(raw / 1000, tz=UTC)
        if isinstance(raw, str):
            text = raw.strip()
            if _EPOCH.match(text):
                return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is UTC:  # the usual "Z" suffix: nothing to convert
                return parsed
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(raw, MULTI):
            return many(raw, to_date)
    except (ValueError, OverflowError, OSError, TypeError):
        return BAD
    return BAD


def to_day(raw: Any) -> Any:
    """The calendar day (UTC) of a date value, for rules written with a plain TOML date."""
    when = to_date(raw)
    if when.__class__ is Options:
        return Options(w.date() for w in when)
    return when if when is BAD else when.date()


def to_text(raw: Any) -> Any:
    """Text as the admin would read it: numbers and booleans become their usual spelling."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        try:
            return repr(raw) if isinstance(raw, float) and not raw.is_integer() else str(int(raw))
        except ValueError:  # an integer past Python's 4,300-digit limit for text
            return BAD
    if isinstance(raw, datetime | date):
        return raw.isoformat()
    if isinstance(raw, Decimal):
        return str(raw)
    if raw.__class__ is NumberRange:
        return raw.text.strip()
    if isinstance(raw, MULTI):
        return many(raw, to_text)
    return BAD


def to_folded_text(raw: Any) -> Any:
    """Text folded for case-insensitive comparison (the default for string operators)."""
    text = to_text(raw)
    if text.__class__ is Options:
        return Options(t.casefold() for t in text)
    return text if text is BAD else text.casefold()


#: Coercer per value kind; the compiler picks one per (field, kind) and caches the result.
COERCERS: Final[dict[str, Callable[[Any], Any]]] = {
    "number": to_number,
    "bool": to_bool,
    "date": to_date,
    "day": to_day,
    "string": to_text,
    "istring": to_folded_text,
    "any": lambda raw: raw,  # present / missing: is_missing has decided already
}

#: Words for explanations: "cannot read 'abc' as a number".
KIND_WORDS: Final[dict[str, str]] = {
    "number": "a number",
    "bool": "a yes/no value",
    "date": "a date",
    "day": "a date",
    "string": "text",
    "istring": "text",
    "any": "a value",
}
