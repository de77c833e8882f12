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
not an object), returns ``(raw id or "?", reason)`` for ``Page.malformed``. Nothing here
raises on bad data and nothing does I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import GetPydanticSchema
from pydantic_core import core_schema

from sync_agent.errors import Problem
from sync_agent.model import CANONICAL_FIELDS, MQL, FieldType

Malformed = tuple[str, str]

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
        """Canonical fields (coerced) plus every raw property under ``<prefix>.``."""
        out: dict[str, Any] = {}
        for canonical, prop in self.fields.items():
            kind = CANONICAL_FIELDS.get(canonical, "string")
            out[canonical] = coerce(properties.get(prop), kind)
        for prop, value in properties.items():
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
    cannot become one. Raw properties go under ``<raw_prefix>.`` (the connector type's)."""
    shown = "?" if raw_id is None or raw_id == "" else str(raw_id)
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or shown == "?":
        return shown, "record has no id"
    if not isinstance(properties, Mapping):
        return shown, f"properties is {type(properties).__name__}, not an object"
    ids = {k: str(v) for k, v in (crm_ids or {}).items() if v not in (None, "")}
    return MQL(
        source=source,
        source_id=shown,
        fields=mapping.map_record(properties, raw_prefix),
        modified_at=modified_at,
        crm_ids=ids,
    )


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
