"""Create the SAL properties the sink writes, if the portal lacks them.

Contacts get ``sal_status`` (enumeration of the configured status values),
``sal_score`` (number), ``sal_reason`` (text), ``sal_decided_at`` (datetime) and
``sal_handoff_key`` (text); notes get ``sal_handoff_key`` (what makes note creation
idempotent). Names come from the settings, so renamed properties are created as named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hubspot.crm.properties import OptionInput, PropertyCreate

from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.errors import UnexpectedResponse
from connectors.hubspot.settings import HubSpotSettings
from sync_agent.errors import PermanentApiError


@dataclass(frozen=True)
class PropertySpec:
    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    group: str
    options: tuple[str, ...] = ()

    def to_sdk(self) -> PropertyCreate:
        options = [OptionInput(label=o, value=o, display_order=i, hidden=False)
                   for i, o in enumerate(self.options)]
        return PropertyCreate(name=self.name, label=self.label, type=self.type,
                              field_type=self.field_type, group_name=self.group,
                              options=options or None,
                              description="Written by sync-agent (SAL hand-off)")


@dataclass(frozen=True)
class SetupReport:
    created: list[PropertySpec]
    existing: list[PropertySpec]
    dry_run: bool


def wanted_properties(settings: HubSpotSettings) -> list[PropertySpec]:
    """The properties the sink needs, named as configured."""
    sal = settings.sal
    group = settings.property_group
    statuses = tuple(dict.fromkeys(settings.status_values.values()))
    return [
        PropertySpec("contacts", sal.status, "SAL status", "enumeration", "select", group,
                     statuses),
        PropertySpec("contacts", sal.score, "SAL score", "number", "number", group),
        PropertySpec("contacts", sal.reason, "SAL reason", "string", "textarea", group),
        PropertySpec("contacts", sal.decided_at, "SAL decided at", "datetime", "date", group),
        PropertySpec("contacts", sal.handoff_key, "SAL handoff key", "string", "text", group),
        PropertySpec("contacts", sal.sla_status, "SAL SLA status", "string", "text", group),
        PropertySpec("notes", sal.handoff_key, "SAL handoff key", "string", "text",
                     settings.note_property_group),
    ]


def existing_property_names(client: HubSpotClient, object_type: str) -> set[str]:
    body = client.get_properties(object_type).body
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise UnexpectedResponse(f"HubSpot {object_type} properties answer has no 'results'")
    return {str(p["name"]) for p in results if isinstance(p, dict) and "name" in p}


def setup_properties(client: HubSpotClient, settings: HubSpotSettings, *,
                     dry_run: bool = False) -> SetupReport:
    """Create whichever wanted properties are missing (none when ``dry_run``)."""
    wanted = wanted_properties(settings)
    present: dict[str, set[str]] = {}
    for spec in wanted:
        if spec.object_type not in present:
            present[spec.object_type] = existing_property_names(client, spec.object_type)
    missing = [s for s in wanted if s.name not in present[s.object_type]]
    existing = [s for s in wanted if s.name in present[s.object_type]]
    created: list[PropertySpec] = []
    for spec in [] if dry_run else missing:
        try:
            client.create_property(spec.object_type, spec.to_sdk())
        except PermanentApiError as error:
            if error.status != 409:  # 409: a retried create that had landed, or a race
                raise
            existing.append(spec)
            continue
        created.append(spec)
    return SetupReport(missing if dry_run else created, existing, dry_run)


__all__: list[Any] = ["PropertySpec", "SetupReport", "setup_properties", "wanted_properties"]
