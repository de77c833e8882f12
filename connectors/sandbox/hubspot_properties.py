"""``/crm/v3/properties/{object}``: list, read and create property definitions.

The connector's ``setup-properties`` command creates the SAL properties through this; a
second create answers 409 ``OBJECT_ALREADY_EXISTS`` as HubSpot does.
"""

from __future__ import annotations

from typing import Any

from connectors.sandbox.hubspot_validate import ApiError
from connectors.sandbox.properties import property_def

PROPERTY_TYPES = {"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"}
FIELD_TYPES = {
    "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number",
    "phonenumber", "radio", "select", "text", "textarea",
}
_REQUIRED = ("name", "label", "type", "fieldType", "groupName")


def handle_properties(
    defs: dict[str, dict[str, Any]], endpoint: str, name: str | None, body: dict[str, Any]
) -> tuple[int, Any]:
    """Answer ``properties_list``, ``properties_get`` or ``properties_create``."""
    if endpoint == "properties_list":
        return 200, {"results": list(defs.values())}
    if endpoint == "properties_get":
        if name not in defs:
            raise ApiError(404, f"Unable to find property with name {name}", "OBJECT_NOT_FOUND")
        return 200, defs[name]
    return 201, create_property(defs, body)


def create_property(defs: dict[str, dict[str, Any]], body: dict[str, Any]) -> dict[str, Any]:
    """Validate and add a custom property definition."""
    missing = [field for field in _REQUIRED if not body.get(field)]
    if missing:
        raise ApiError(400, f"Missing required fields: {missing}", code="REQUIRED_FIELD")
    if body["type"] not in PROPERTY_TYPES or body["fieldType"] not in FIELD_TYPES:
        raise ApiError(400, f"Invalid type/fieldType {body['type']}/{body['fieldType']}")
    name = str(body["name"])
    if name in defs:
        raise ApiError(409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
    options = [str(o.get("value")) for o in body.get("options") or []]
    if body["type"] == "enumeration" and not options:
        raise ApiError(400, "Enumeration properties need options", code="INVALID_OPTIONS")
    created = property_def(
        name, body["type"], body["fieldType"], body["groupName"], options,
        label=body["label"], custom=True,
    )
    defs[name] = created
    return created
