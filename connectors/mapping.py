"""Field mapping from a source's properties to canonical MQL fields, shared by connectors.

A :class:`FieldMapping` is configuration: ``{canonical_name: source_property}``, with
defaults per connector (in its ``settings.py``) that options may override under
``field_map``. :meth:`FieldMapping.map_record` turns one record's properties into the
dict an :class:`~sync_agent.model.MQL` carries:

* canonical names, read for the type in :data:`~sync_agent.model.CANONICAL_FIELDS` by
  the type each property *declares* when the connector passes its schema
  (:class:`PropertyType`, from each connector's schema discovery): ranges
  such as ``"100-500"``, ``;``-joined multi-selects, dates vs date-times, ``"1,200"``,
  booleans as each CRM spells them (:mod:`sync_agent.rules.reading`). Without a schema,
  only clean text is parsed (plus range text for numbers). Anything that does not read as
  its type is kept as sent, so the rules engine records it as unreadable rather than us
  guessing; empty strings are ``None``;
* plus EVERY raw property, as sent, under ``<source>.<property>`` (``hubspot.`` /
  ``salesforce.``), so rules can reach properties nobody mapped.

:func:`to_mql` builds an MQL or, for a record that cannot become one (no id, properties
not an object, a value past the caps of :func:`bounded`, anything else that goes wrong),
returns ``(raw id or "?", reason)`` for ``Page.malformed``. It never raises: one poison
value would otherwise fail the source on every run, and the cursor would never move.
Every value it passes on is bounded (text length, digits, nesting, lone surrogates), so
the rules engine, the lead fingerprint and the audit log's JSON can take it. Nothing here
does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import GetPydanticSchema
from pydantic_core import core_schema

from sync_agent.errors import Problem
from sync_agent.model import CANONICAL_FIELDS, FIELD_ORIGINS, MQL, FieldType
from sync_agent.rules.bounds import PRINTABLE_BITS, ValueRefused, bounded, bounded_key
from sync_agent.rules.reading import PropertyType, parse_datetime, read_plain, read_value
from sync_agent.rules.shown import bounded_repr, clip, printable

__all__ = [
    "FieldMapping",
    "PropertyType",
    "Related",
    "Schema",
    "ValueRefused",
    "bounded",
    "coerce",
    "mapping_schema",
    "parse_datetime",
    "to_mql",
]

#: Declared property types by property name, from the source's schema discovery.
Schema = Mapping[str, PropertyType]


@dataclass(frozen=True)
class Related:
    """A record related to the one mapped (a contact's company): its properties, their
    declared types, and the canonical fields to read from it first (``{canonical: prop}``)."""

    properties: Mapping[str, Any]
    schema: Schema = field(default_factory=dict)
    prefer: Mapping[str, str] = field(default_factory=dict)

Malformed = tuple[str, str]
#: A record id longer than this is not an id (HubSpot's are numbers, Salesforce's 18 chars).
MAX_ID_CHARS = 255


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

    def map_record(
        self,
        properties: Mapping[str, Any],
        prefix: str,
        schema: Schema | None = None,
        related: Mapping[str, Related] | None = None,
    ) -> dict[str, Any]:
        """Canonical fields, each read by its property's declared type in ``schema`` (or,
        without one, lightly: :func:`~sync_agent.rules.reading.read_plain`), plus every raw
        property as sent under ``<prefix>.``.

        ``related`` records (a contact's company) add their properties under their own
        prefix (``company.<name>``), and a canonical field they ``prefer`` is read from
        them when they hold a value (else from the record itself); which ones were is kept
        under :data:`~sync_agent.model.FIELD_ORIGINS`, for explanations.

        Every value is first made safe to pass on (:func:`bounded`); a value that cannot be
        raises :class:`ValueRefused`, which :func:`to_mql` turns into a malformed record.
        """
        clean = {bounded_key(prop): bounded(value, prop) for prop, value in properties.items()}
        types = schema or {}
        out: dict[str, Any] = {}
        for canonical, prop in self.fields.items():
            kind = CANONICAL_FIELDS.get(canonical, "string")
            out[canonical] = read_value(clean.get(prop), kind, types.get(prop))
        for prop, value in clean.items():
            out[f"{prefix}.{prop}"] = value
        origins: dict[str, str] = {}
        for name, other in (related or {}).items():
            values = {bounded_key(p): bounded(v, p) for p, v in other.properties.items()}
            for prop, value in values.items():
                out[f"{name}.{prop}"] = value
            for canonical, prop in other.prefer.items():
                value = read_value(values.get(prop), CANONICAL_FIELDS.get(canonical, "string"),
                                   other.schema.get(prop))  # fmt: skip
                if value is not None:
                    out[canonical] = value
                    origins[canonical] = f"{name}.{prop}"
        if origins:
            out[FIELD_ORIGINS] = origins
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
    schema: Schema | None = None,
    related: Mapping[str, Related] | None = None,
) -> MQL | Malformed:
    """An MQL of source instance ``source``, or ``(raw id or "?", reason)`` when the record
    cannot become one. Raw properties go under ``<raw_prefix>.`` (the connector type's);
    canonical fields are read by the declared types in ``schema`` when given (each
    connector's schema discovery builds it).

    Total: whatever goes wrong with one record (a value past the caps, a property that
    cannot be read, a bug) makes that record malformed with the reason, and the page goes on;
    one poison value must never stop a source (the cursor would never move again).
    """
    shown = _shown_id(raw_id)
    try:
        result = _to_mql(source, raw_id, shown, properties, mapping, raw_prefix, modified_at,
                         crm_ids, schema, related)  # fmt: skip
    except ValueRefused as exc:
        result = shown, str(exc)
    except Exception as exc:  # one record's trouble never stops the page
        result = shown, f"cannot map the record: {_describe(exc)}"
    return result if isinstance(result, MQL) else (clip(result[0], MAX_ID_CHARS), result[1])


def _to_mql(
    source: str,
    raw_id: Any,
    shown: str,
    properties: Any,
    mapping: FieldMapping,
    raw_prefix: str,
    modified_at: datetime | None,
    crm_ids: Mapping[str, Any] | None,
    schema: Schema | None,
    related: Mapping[str, Related] | None = None,
) -> MQL | Malformed:
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or shown == "?":
        return shown, "record has no id"
    if _too_long(raw_id):
        return shown, f"record id is longer than {MAX_ID_CHARS} characters"
    if not isinstance(properties, Mapping):
        return shown, f"properties is {type(properties).__name__}, not an object"
    ids = {k: _id_text(v) for k, v in (crm_ids or {}).items() if v not in (None, "")}
    return MQL(
        source=source,
        source_id=shown,
        fields=mapping.map_record(properties, raw_prefix, schema, related),
        modified_at=modified_at,
        crm_ids=ids,
    )


def _shown_id(raw_id: Any) -> str:
    """The record id as text (``?`` when there is none); never raises, however long."""
    if raw_id is None or raw_id == "":
        return "?"
    if isinstance(raw_id, str):
        return printable(raw_id)
    if isinstance(raw_id, int) and raw_id.bit_length() > PRINTABLE_BITS:
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


def coerce(value: Any, kind: FieldType | str) -> Any:
    """Light coercion without a declared type: parse clean strings into the field's type
    (range text too, for numbers), else keep the value."""
    return read_plain(value, kind)


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
