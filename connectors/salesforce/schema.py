"""Salesforce schema discovery: the Lead's fields as describe gives them, cached.

``GET .../sobjects/Lead/describe`` (one call, kept in the instance's state: see
:mod:`connectors.schema_cache`) gives each field's ``type`` (``picklist``,
``multipicklist``, ``double``, ``boolean``, ``date``, ``datetime`` ...), ``label``,
``picklistValues`` and whether the integration user may change it (``updateable``; fields
field-level security hides are absent). Rules reach a Lead's fields as
``salesforce.<Field>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from connectors.base import Instance, SourceSchema, StateStore
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.settings import SalesforceSettings
from connectors.schema_cache import cached_answers
from sync_agent.rules.reading import PropertyType

PREFIX = "salesforce"


def parse_describe(describe: Any) -> dict[str, PropertyType]:
    """Declared types from an sObject describe. Entries that are not fields are skipped;
    never raises."""
    fields = describe.get("fields") if isinstance(describe, Mapping) else None
    found: dict[str, PropertyType] = {}
    for item in fields if isinstance(fields, list) else ():
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name:
            continue
        found[name] = PropertyType(
            name, _word(item.get("type")), "", _pairs(item.get("picklistValues")),
            title=_word(item.get("label")), read_only=item.get("updateable") is False,
        )  # fmt: skip
    return found


def fetch(client: SalesforceClient) -> dict[str, Any]:
    """The raw answers kept: the Lead and Task describes, the org's Lead Status values."""
    return {
        "lead": client.get("sobjects/Lead/describe"),
        "task": client.get("sobjects/Task/describe"),
        "lead_statuses": client.query_all(
            "SELECT ApiName, IsConverted, IsDefault FROM LeadStatus ORDER BY SortOrder"),
    }  # fmt: skip


def load_answers(client: SalesforceClient, settings: SalesforceSettings, state: StateStore, *,
                 refresh: bool = False) -> tuple[dict[str, Any], str, str]:  # fmt: skip
    """The org's describe answers, from the instance's cache unless old or ``refresh``."""
    return cached_answers(state, lambda: fetch(client),
                          refresh_hours=settings.schema_refresh_hours, force=refresh)  # fmt: skip


def build_schema(answers: Mapping[str, Any], settings: SalesforceSettings) -> SourceSchema:
    canonical = {c: (PREFIX, p) for c, p in settings.field_map.fields.items()}
    return SourceSchema({PREFIX: parse_describe(answers.get("lead"))}, canonical,
                        mapped_by={c: ("field_map", c) for c in canonical})  # fmt: skip


def describe(instance: Instance, refresh: bool) -> SourceSchema:
    """``ConnectorSpec.describe``: the org's Lead schema."""
    settings: SalesforceSettings = instance.settings
    client = SalesforceClient(settings, instance.secrets)
    answers, fetched_at, stale = load_answers(client, settings, instance.state, refresh=refresh)
    return replace(build_schema(answers, settings), fetched_at=fetched_at, stale=stale)


def _word(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _pairs(options: Any) -> tuple[tuple[str, str], ...]:
    pairs = []
    for option in options if isinstance(options, list) else ():
        if isinstance(option, Mapping) and isinstance(option.get("value"), str):
            if option.get("active") is False:
                continue
            label = option.get("label")
            pairs.append((option["value"], label if isinstance(label, str) else option["value"]))
    return tuple(pairs)
