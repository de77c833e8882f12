"""HubSpot schema discovery: contact and company property definitions, as rules see them.

``GET /crm/v3/properties/contacts`` and ``.../companies`` (two calls, cached per instance:
see :mod:`connectors.schema_cache`) give each property's ``type``, ``fieldType``,
``options`` (value and label), ``label`` and whether only HubSpot sets it
(``modificationMetadata.readOnlyValue``). Rules reach a contact's properties as
``hubspot.<name>`` and its primary company's as ``company.<name>``.

``hubspotscore``, HubSpot's legacy score, still exists but stopped updating on 31 August
2025 when HubSpot replaced it with its new scoring tool (real-portals.md): it is marked
retired, and :func:`score_properties` lists the portal's new score properties instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from connectors.base import SourceSchema, StateStore
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.settings import HubSpotSettings
from connectors.schema_cache import cached_answers
from sync_agent.rules.reading import PropertyType

#: Properties HubSpot keeps but no longer updates, and what to use instead.
RETIRED = {
    "hubspotscore": "HubSpot's legacy score stopped updating on 31 August 2025 (replaced by "
    "its new scoring tool); map lead_score to one of the portal's new score properties",
}
CONTACT_PREFIX = "hubspot"
COMPANY_PREFIX = "company"


def parse_properties(properties: Any) -> dict[str, PropertyType]:
    """Declared types from ``GET /crm/v3/properties/<object>`` (the body, or its ``results``
    list). Entries that are not properties are skipped; never raises."""
    if isinstance(properties, Mapping):
        properties = properties.get("results")
    found: dict[str, PropertyType] = {}
    for prop in properties if isinstance(properties, list) else ():
        name = prop.get("name") if isinstance(prop, Mapping) else None
        if not isinstance(name, str) or not name:
            continue
        meta = prop.get("modificationMetadata")
        read_only = isinstance(meta, Mapping) and meta.get("readOnlyValue") is True
        found[name] = PropertyType(
            name, _word(prop.get("type")), _word(prop.get("fieldType")),
            _pairs(prop.get("options")), title=_word(prop.get("label")),
            read_only=read_only or prop.get("calculated") is True,
            retired=RETIRED.get(name, ""),
        )  # fmt: skip
    return found


def score_properties(contacts: Mapping[str, PropertyType]) -> list[str]:
    """The portal's score properties a lead score can be read from (not the retired one)."""
    return sorted(
        name for name, prop in contacts.items()
        if not prop.retired and (prop.field_type == "calculation_score"
                                 or (prop.type == "number" and "score" in name.lower()))
    )  # fmt: skip


def fetch(client: HubSpotClient) -> dict[str, Any]:
    """The raw answers schema discovery keeps (two calls)."""
    return {
        "contacts": client.get_properties("contacts").body,
        "companies": client.get_properties("companies").body,
    }


def build_schema(answers: Mapping[str, Any], settings: HubSpotSettings) -> SourceSchema:
    """The schema rules are read and checked against: contact and company properties, and
    where each mapped canonical field is read from (company data first where preferred,
    the contact's property when the company has no value), with the option that maps it.
    The retired score names the portal's current score properties to use instead (not
    the agent's own ``sal_score``, which holds its decisions' scores), and so does an
    unmapped ``lead_score``."""
    contacts = parse_properties(answers.get("contacts"))
    own = {getattr(settings.sal, key) for key in type(settings.sal).model_fields}
    scores = tuple(name for name in score_properties(contacts) if name not in own)
    contacts = {n: replace(p, instead=scores) if p.retired else p for n, p in contacts.items()}
    namespaces = {
        CONTACT_PREFIX: contacts,
        COMPANY_PREFIX: parse_properties(answers.get("companies")),
    }
    mapped = settings.field_map.fields
    canonical = {c: (CONTACT_PREFIX, p) for c, p in mapped.items()}
    mapped_by = {c: ("field_map", c) for c in mapped}
    fallback: dict[str, tuple[str, str]] = {}
    if settings.company_context:
        for c, p in settings.prefer_company.items():
            if c in mapped:
                fallback[c] = (CONTACT_PREFIX, mapped[c])
            canonical[c] = (COMPANY_PREFIX, p)
            mapped_by[c] = ("prefer_company", c)
    return SourceSchema(namespaces, canonical, fallback=fallback, mapped_by=mapped_by,
                        suggested={"lead_score": scores})  # fmt: skip


def load_schema(client: HubSpotClient, settings: HubSpotSettings, state: StateStore, *,
                refresh: bool = False) -> SourceSchema:  # fmt: skip
    """The portal's schema, from the instance's cache unless old or ``refresh``."""
    answers, fetched_at, stale = cached_answers(
        state, lambda: fetch(client), refresh_hours=settings.schema_refresh_hours,
        force=refresh,
    )  # fmt: skip
    return replace(build_schema(answers, settings), fetched_at=fetched_at, stale=stale)


def _word(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _pairs(options: Any) -> tuple[tuple[str, str], ...]:
    pairs = []
    for option in options if isinstance(options, list) else ():
        if isinstance(option, Mapping) and isinstance(option.get("value"), str):
            label = option.get("label")
            pairs.append((option["value"], label if isinstance(label, str) else option["value"]))
    return tuple(pairs)
