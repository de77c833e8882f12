"""Reading a source value by the type its property declares, before the rules see it.

Sources send most values as text, and the text alone is ambiguous: ``"100-500"`` is a
company size range, ``"a;b"`` two options of a multi-select or one name with a semicolon,
``"1762041600000"`` a date or a count. A CRM's schema says which (schema discovery gives
each property's type, field type and options); the connectors describe it as a
:class:`PropertyType` and the mapping reads each value with :func:`read_value`:

* numbers: ``"1,200"`` is 1200; range text, or an enumeration option whose *label* is a
  range (``"51-200 employees"``), is a :class:`~sync_agent.rules.shapes.NumberRange`;
* multi-selects (``multi``, or a ``checkbox`` enumeration, or a ``multipicklist``): the
  ``;``-joined text becomes :class:`~sync_agent.rules.shapes.Options`, each option read as
  the field's type;
* ``date`` properties hold a calendar day (midnight UTC, whatever time part came along);
  ``datetime`` ones an instant (ISO text or epoch milliseconds);
* yes/no: ``true``, ``"true"``, ``"Yes"``, ``"1"`` ... (or an option whose label says so).

Anything that does not read as its type is passed on as sent, so the rules record it as
unreadable rather than us guessing. Without a declared type (a lead file, ``rules
explain``) :func:`read_plain` keeps the mapping's older, lighter reading: clean numbers,
dates and yes/no words, plus range text in number fields. Pure: no I/O, never raises.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cached_property
from itertools import islice
from typing import Any, Final

from sync_agent.rules.limits import MAX_NUMBER_DIGITS, MAX_OPTIONS
from sync_agent.rules.shapes import NumberRange, Options, parse_range

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_EPOCH_MS = re.compile(r"\d{11,14}")
_TRUE = frozenset({"true", "yes", "1", "on", "y", "t", "checked"})
_FALSE = frozenset({"false", "no", "0", "off", "n", "f", "unchecked"})

#: Type names CRMs declare, by how a value is read. Anything else reads as text.
READS_AS: Final[dict[str, str]] = {
    **dict.fromkeys(("number", "double", "int", "integer", "long", "currency", "percent"),
                    "number"),
    "date": "date",
    **dict.fromkeys(("datetime", "date-time", "date_time"), "datetime"),
    **dict.fromkeys(("bool", "boolean"), "bool"),
    **dict.fromkeys(("enumeration", "picklist", "multipicklist"), "enumeration"),
}  # fmt: skip


@dataclass(frozen=True)
class PropertyType:
    """A source property's declared type, as schema discovery gives it.

    ``type`` and ``field_type`` are the CRM's own words (``enumeration`` / ``checkbox``,
    ``multipicklist``, ``double`` ...: see :data:`READS_AS`); ``options`` are the
    enumeration's ``(value, label)`` pairs; ``multi`` marks a multi-select explicitly.
    ``title`` is the name people see in the CRM; ``read_only`` a value only the CRM sets;
    ``retired`` why the property should no longer be relied on (empty: it can be), and
    ``instead`` the properties to use in its place (the system's current ones).
    """

    name: str
    type: str
    field_type: str = ""
    options: tuple[tuple[str, str], ...] = ()
    multi: bool = False
    title: str = ""
    read_only: bool = False
    retired: str = ""
    instead: tuple[str, ...] = ()

    @cached_property
    def reads_as(self) -> str:
        """number, date, datetime, bool, enumeration or text."""
        return READS_AS.get(self.type.strip().lower(), "text")

    @cached_property
    def is_multi(self) -> bool:
        """Several options joined by ``;``: declared so, a multipicklist, or checkboxes."""
        kind, field = self.type.strip().lower(), self.field_type.strip().lower()
        checkboxes = kind == "enumeration" and field == "checkbox"
        return self.multi or kind == "multipicklist" or checkboxes

    @cached_property
    def _labels(self) -> dict[str, str]:
        return dict(self.options)

    def label(self, value: Any) -> str | None:
        """The label of the option whose value is ``value``, if the property has one."""
        return self._labels.get(value) if isinstance(value, str) else None


def read_value(value: Any, kind: str, declared: PropertyType | None = None) -> Any:
    """``value`` read for a field of type ``kind`` (number, date, bool, string), by the
    property's declared type when known; what cannot be read is returned as sent."""
    if declared is None:
        return read_plain(value, kind)
    if _blank(value):
        return None
    if declared.is_multi:
        return _options(value, kind, declared)
    return _read_one(value, kind, declared)


def read_plain(value: Any, kind: str) -> Any:
    """Without a declared type: clean text becomes the field's type, else stays as sent."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        if kind == "number":
            number = read_number(value, thousands=False)
            return value if number is None else number
        if kind == "date":
            return parse_datetime(value) or value
        if kind == "bool":
            flag = read_bool(value)
            return value if flag is None else flag
    return value


def _options(value: Any, kind: str, declared: PropertyType) -> Options | None:
    items: Iterable[Any]
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = [value]
    read = [
        _read_one(item.strip() if isinstance(item, str) else item, kind, declared)
        for item in islice(items, MAX_OPTIONS)
        if not _blank(item) and not isinstance(item, list | tuple | dict)
    ]
    return Options(dict.fromkeys(read)) if read else None


def _read_one(value: Any, kind: str, declared: PropertyType) -> Any:
    if kind == "number":
        number = read_number(value, thousands=True)
        if number is None and declared.options:
            label = declared.label(value)
            number = read_number(label, thousands=True) if label is not None else None
        return value if number is None else number
    if kind == "date":
        when = read_datetime(value)
        if when is None:
            return value
        if declared.reads_as == "date":
            return when.replace(hour=0, minute=0, second=0, microsecond=0)
        return when
    if kind == "bool":
        flag = read_bool(value)
        if flag is None and declared.options:
            label = declared.label(value)
            flag = read_bool(label) if label is not None else None
        return value if flag is None else flag
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_number(value: Any, *, thousands: bool) -> int | float | NumberRange | None:
    """A finite number or a range, or None. Text of more than MAX_NUMBER_DIGITS digits is
    not a number (``int()`` refuses 4,300 and more; no real count has 33)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**MAX_NUMBER_DIGITS else None
    if isinstance(value, float | Decimal):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, NumberRange):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if len(text) > MAX_NUMBER_DIGITS and sum(map(str.isdigit, text)) > MAX_NUMBER_DIGITS:
        return None
    if thousands and _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else None
    return parse_range(value)


def read_bool(value: Any) -> bool | None:
    """Yes/no as CRMs send it: booleans, 0/1, and words ("true", "Yes", "checked")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def read_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO text, epoch milliseconds (text or number), a date or
    a datetime; else None."""
    if isinstance(value, str):
        return parse_datetime(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**14:
        return _from_epoch_ms(value)
    return None


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 (``Z``/offset/date-only) or epoch milliseconds -> aware UTC; else None."""
    text = text.strip()
    if _EPOCH_MS.fullmatch(text):
        return _from_epoch_ms(int(text))
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO, or "0001-01-01T00:00+01:00" (year 0)
        return None


def _from_epoch_ms(ms: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
