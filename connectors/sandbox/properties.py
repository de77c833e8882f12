"""Property definitions the sandbox portal starts with, shaped like the properties API.

The catalog (names, types, options) is :mod:`connectors.sandbox.hubspot_catalog`; this
module turns it into what ``GET /crm/v3/properties/{object}`` returns for each property:
``name, label, type, fieldType, groupName, description, options[{label, value,
displayOrder, hidden}], displayOrder, calculated, externalOptions, hasUniqueValue, hidden,
hubspotDefined, formField, modificationMetadata{archivable, readOnlyDefinition,
readOnlyOptions, readOnlyValue}, createdAt, updatedAt, archived``.
The SAL properties (``sal_status`` ...) are deliberately absent: the HubSpot connector has
a command that creates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from connectors.sandbox import hubspot_catalog as catalog

LIFECYCLE_STAGES = [value for value, _label in catalog.LIFECYCLE_STAGES]
_CREATED = "2019-08-06T02:41:08.029Z"


def property_def(
    name: str,
    type_: str,
    field_type: str,
    group: str = "contactinformation",
    options: Iterable[str | tuple[str, str]] | None = None,
    *,
    label: str | None = None,
    custom: bool = False,
    read_only: bool = False,
    calculated: bool = False,
    external_options: bool = False,
    display_order: int = -1,
    description: str = "",
) -> dict[str, Any]:
    """One property definition shaped like HubSpot's properties API returns it."""
    pairs = [(o, o) if isinstance(o, str) else o for o in options or ()]
    return {
        "name": name,
        "label": label or name.replace("_", " ").title(),
        "type": type_,
        "fieldType": field_type,
        "groupName": group,
        "description": description,
        "options": [
            {"label": lab, "value": value, "displayOrder": i, "hidden": False}
            for i, (value, lab) in enumerate(pairs)
        ],
        "displayOrder": display_order,
        "calculated": calculated,
        "externalOptions": external_options,
        "hasUniqueValue": name == "email",
        "hidden": False,
        "hubspotDefined": not custom,
        "formField": not read_only,
        "modificationMetadata": {
            "archivable": custom,
            "readOnlyDefinition": not custom,
            "readOnlyOptions": not custom and type_ == "enumeration" and read_only,
            "readOnlyValue": read_only,
        },
        "createdAt": _CREATED,
        "updatedAt": _CREATED,
        "archived": False,
    }


def _build(specs: Mapping[str, catalog.Spec], group: str) -> dict[str, dict[str, Any]]:
    built = {}
    for order, (name, (type_, field_type, label, options, flags)) in enumerate(specs.items()):
        built[name] = property_def(
            name, type_, field_type, group, list(options), label=label,
            custom="custom" in flags, read_only="read_only" in flags,
            calculated="calculated" in flags, external_options="external" in flags,
            display_order=order,
            description=_DESCRIPTIONS.get(name, ""),
        )
    return built


_DESCRIPTIONS = {
    "hubspotscore": "Legacy HubSpot score. Score properties were sunset on 31 August 2025 "
    "and replaced by the new scoring tool: the value no longer changes.",
    "numemployees": "The number of company employees (a range)",
    "associatedcompanyid": "The id of the contact's primary associated company",
}


def default_contact_properties() -> dict[str, dict[str, Any]]:
    """Contact properties of a fresh sandbox portal, by name."""
    return _build(catalog.CONTACT, catalog.GROUPS["contacts"])


def default_company_properties() -> dict[str, dict[str, Any]]:
    """Company properties of a fresh sandbox portal, by name."""
    return _build(catalog.COMPANY, catalog.GROUPS["companies"])


def default_note_properties() -> dict[str, dict[str, Any]]:
    """Note properties of a fresh sandbox portal, by name."""
    return _build(catalog.NOTE, catalog.GROUPS["notes"])
