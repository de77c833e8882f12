"""Field mapping from a source's properties to canonical MQL fields, shared by connectors.

A :class:`FieldMapping` is configuration: ``{canonical_name: source_property}``, with
defaults per connector (in its ``settings.py``) that options may override under
``field_map``. :meth:`FieldMapping.map_record` turns one record's properties into the
dict an :class:`~sync_agent.model.MQL` carries:

* canonical names, lightly coerced by the type in :data:`~sync_agent.model.CANONICAL_FIELDS`
  (numbers, dates and bools parsed from strings *only* when they parse cleanly; anything
  else is kept as sent, so the rules engine can record it as uncoercible rather than us
  guessing), empty strings as ``None``;
* plus EVERY raw property under ``<source>.<property>`` (``hubspot.`` / ``salesforce.``),
  so rules can reach properties nobody mapped.

:func:`to_mql` builds an MQL or, for a record that cannot become one (no id, properties
not an object, a value past the caps of :func:`bounded`, anything else that goes wrong),
returns ``(raw id or "?", reason)`` for ``Page.malformed``. It never raises: one poison
value would otherwise fail the source on every run, and the cursor would never move.
Every value it passes on is bounded (text length, digits, nesting, lone surrogates), so
the rules engine, the lead fingerprint and the audit log's JSON can take it. Nothing here
does I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import GetPydanticSchema
from pydantic_core import core_schema

from sync_agent.errors import Problem
from sync_agent.model import CANONICAL_FIELDS, MQL, FieldType
from sync_agent.rules.limits import (
    MAX_NUMBER_DIGITS,
    MAX_VALUE_CHARS,
    MAX_VALUE_DEPTH,
    MAX_VALUE_ITEMS,
)
from sync_agent.rules.shown import bounded_repr, clip, printable

Malformed = tuple[str, str]
#: A record id longer than this is not an id (HubSpot's are numbers, Salesforce's 18 chars).
MAX_ID_CHARS = 255

_INT = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?")
_EPOCH_MS = re.compile(r"\d{11,14}")
_TRUE = frozenset({"true", "yes", "1", "on", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "off", "n", "f"})


@dataclass(frozen=True)
class FieldMapping:
    """Which source property feeds each canonical field (``{canonical: property}``)."""

    fields: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        defaults: Mapping[str, str],
        overrides: Any = None,
        *,
        file: str = "config",
        location: str = "field_map",
    ) -> tuple[FieldMapping, list[Problem]]:
        """Defaults overlaid with ``overrides``; returns the mapping and EVERY problem found.

        An override value of ``""`` removes a default mapping. Unknown canonical names are
        problems (a typo would otherwise silently map nothing); raw properties remain
        reachable under the source prefix anyway.
        """
        merged = dict(defaults)
        problems: list[Problem] = []
        if overrides is None:
            return cls(merged), problems
        if not isinstance(overrides, Mapping):
            problems.append(Problem(file, location, "must be a table of canonical = property"))
            return cls(merged), problems
        for canonical, prop in overrides.items():
            where = f"{location}.{canonical}"
            if canonical not in CANONICAL_FIELDS:
                problems.append(
                    Problem(
                        file,
                        where,
                        f"unknown canonical field {canonical!r}",
                        hint="one of: " + ", ".join(sorted(CANONICAL_FIELDS)),
                    )
                )
            elif not isinstance(prop, str):
                problems.append(Problem(file, where, "must be a property name (string)"))
            elif prop == "":
                merged.pop(canonical, None)
            else:
                merged[canonical] = prop
        return cls(merged), problems

    @classmethod
    def merged(cls, defaults: Mapping[str, str], overrides: Mapping[str, str]) -> FieldMapping:
        """Defaults overlaid with validated overrides (``""`` removes a default)."""
        merged = dict(defaults)
        for canonical, prop in overrides.items():
            if prop == "":
                merged.pop(canonical, None)
            else:
                merged[canonical] = prop
        return cls(merged)

    def source_properties(self) -> list[str]:
        """The source properties to request, sorted and without duplicates."""
        return sorted(set(self.fields.values()))

    def map_record(self, properties: Mapping[str, Any], prefix: str) -> dict[str, Any]:
        """Canonical fields (coerced) plus every raw property under ``<prefix>.``.

        Every value is first made safe to pass on (:func:`bounded`); a value that cannot be
        raises :class:`ValueRefused`, which :func:`to_mql` turns into a malformed record.
        """
        clean = {prop: bounded(value, prop) for prop, value in properties.items()}
        out: dict[str, Any] = {}
        for canonical, prop in self.fields.items():
            kind = CANONICAL_FIELDS.get(canonical, "string")
            out[canonical] = coerce(clean.get(prop), kind)
        for prop, value in clean.items():
            out[f"{prefix}.{prop}"] = value
        return out


def to_mql(
    source: str,
    raw_id: Any,
    properties: Any,
    mapping: FieldMapping,
    *,
    raw_prefix: str,
    modified_at: datetime | None = None,
    crm_ids: Mapping[str, Any] | None = None,
) -> MQL | Malformed:
    """An MQL of source instance ``source``, or ``(raw id or "?", reason)`` when the record
    cannot become one. Raw properties go under ``<raw_prefix>.`` (the connector type's).

    Total: whatever goes wrong with one record (a value past the caps, a property that
    cannot be read, a bug) makes that record malformed with the reason, and the page goes on;
    one poison value must never stop a source (the cursor would never move again).
    """
    shown = _shown_id(raw_id)
    try:
        return _to_mql(source, raw_id, shown, properties, mapping, raw_prefix, modified_at,
                       crm_ids)  # fmt: skip
    except ValueRefused as exc:
        return shown, str(exc)
    except Exception as exc:  # one record's trouble never stops the page
        return shown, f"cannot map the record: {_describe(exc)}"


def _to_mql(
    source: str,
    raw_id: Any,
    shown: str,
    properties: Any,
    mapping: FieldMapping,
    raw_prefix: str,
    modified_at: datetime | None,
    crm_ids: Mapping[str, Any] | None,
) -> MQL | Malformed:
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or shown == "?":
        return shown, "record has no id"
    if _too_long(raw_id):
        return clip(shown, MAX_ID_CHARS), f"record id is longer than {MAX_ID_CHARS} characters"
    if not isinstance(properties, Mapping):
        return shown, f"properties is {type(properties).__name__}, not an object"
    ids = {k: _id_text(v) for k, v in (crm_ids or {}).items() if v not in (None, "")}
    return MQL(
        source=source,
        source_id=shown,
        fields=mapping.map_record(properties, raw_prefix),
        modified_at=modified_at,
        crm_ids=ids,
    )


def _shown_id(raw_id: Any) -> str:
    """The record id as text (``?`` when there is none); never raises, however long."""
    if raw_id is None or raw_id == "":
        return "?"
    if isinstance(raw_id, str):
        return printable(raw_id)
    if isinstance(raw_id, int) and raw_id.bit_length() > _PRINTABLE_BITS:
        return bounded_repr(raw_id)
    try:
        return printable(str(raw_id))
    except Exception:  # a foreign object whose __str__ fails
        return bounded_repr(raw_id)


def _too_long(raw_id: Any) -> bool:
    if isinstance(raw_id, int):
        return raw_id.bit_length() > 4 * MAX_ID_CHARS or len(str(raw_id)) > MAX_ID_CHARS
    return len(_shown_id(raw_id)) > MAX_ID_CHARS


def _id_text(value: Any) -> str:
    if _too_long(value):
        raise ValueRefused(f"a crm id is longer than {MAX_ID_CHARS} characters")
    return _shown_id(value)


def _describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, bounded and printable, never raising."""
    try:
        message = str(exc)
    except Exception:  # an exception whose __str__ fails
        message = ""
    name = type(exc).__name__
    return clip(printable(f"{name}: {message}" if message else name))


class ValueRefused(ValueError):
    """A property value the mapping will not pass on; its record becomes malformed."""


#: Integers of more bits have more than 4,300 digits: Python refuses to print them.
_PRINTABLE_BITS = 14_000
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
        if value.bit_length() > _PRINTABLE_BITS:
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


def _key(key: Any, prop: str) -> str:
    """Object keys as text: JSON has no other keys, and sorting mixed keys would raise."""
    if isinstance(key, str):
        return _text(key)
    return _text(str(_scalar(key, prop)))


def _name(prop: Any) -> str:
    return repr(clip(printable(str(prop)), 80)) if isinstance(prop, str) else bounded_repr(prop)


def coerce(value: Any, kind: FieldType | str) -> Any:
    """Light coercion: parse clean strings into the field's type, else keep the value."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip() == "":
            return None
        if kind == "number":
            return _number(value)
        if kind == "date":
            return parse_datetime(value) or value
        if kind == "bool":
            return _bool(value)
    return value


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 (``Z``/offset/date-only) or epoch milliseconds -> aware UTC; else None."""
    text = text.strip()
    if _EPOCH_MS.fullmatch(text):
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _number(text: str) -> Any:
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_DIGITS and sum(map(str.isdigit, stripped)) > MAX_NUMBER_DIGITS:
        return text  # not a number: int() would refuse past 4,300 digits, and no count has 33
    if _INT.fullmatch(stripped):
        return int(stripped)
    if _FLOAT.fullmatch(stripped):
        number = float(stripped)
        return number if math.isfinite(number) else text
    return text


def _bool(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return text


def mapping_schema(defaults: Mapping[str, str]) -> GetPydanticSchema:
    """Pydantic metadata for a ``field_map`` option: ``{canonical: property}`` overrides of
    ``defaults``, validated (an unknown canonical name is a problem at ``field_map.<name>``)
    and merged into a :class:`FieldMapping`. Use as ``Annotated[FieldMapping, ...]``."""
    names: Any = Literal.__getitem__(tuple(CANONICAL_FIELDS))

    def build(overrides: dict[str, str]) -> FieldMapping:
        return FieldMapping.merged(defaults, overrides)

    return GetPydanticSchema(
        lambda _type, handler: core_schema.no_info_after_validator_function(
            build, handler(dict[names, str])
        )
    )
