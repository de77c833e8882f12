"""Property definitions the sandbox portal starts with (contacts and notes).

Shapes follow ``GET /crm/v3/properties/{object}``. The SAL properties (``sal_status`` ...)
are deliberately absent: the HubSpot connector has a command that creates them.
The notes object carries a custom ``sal_handoff_key`` so note creation can be made
idempotent by searching for it first.
"""

from __future__ import annotations

from typing import Any

LIFECYCLE_STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]

_STRING = ("string", "text")
_NUMBER = ("number", "number")
_DATETIME = ("datetime", "date")
_DATE = ("date", "date")
_BOOL = ("bool", "booleancheckbox")

_CONTACT_PROPS: dict[str, tuple[str, str]] = {
    "email": _STRING,
    "firstname": _STRING,
    "lastname": _STRING,
    "company": _STRING,
    "jobtitle": _STRING,
    "phone": _STRING,
    "industry": _STRING,
    "numemployees": _NUMBER,
    "country": _STRING,
    "hubspotscore": _NUMBER,
    "lifecyclestage": ("enumeration", "radio"),
    "hs_lead_status": ("enumeration", "radio"),
    "lastmodifieddate": _DATETIME,
    "createdate": _DATETIME,
    "hs_object_id": _NUMBER,
    "hs_lifecyclestage_marketingqualifiedlead_date": _DATETIME,
    "recent_conversion_event_name": _STRING,
    "num_conversion_events": _NUMBER,
    "hs_analytics_num_page_views": _NUMBER,
    "hs_analytics_source": ("enumeration", "select"),
    "salesforceleadid": _STRING,
    "salesforcecontactid": _STRING,
    "demo_requested": _BOOL,
    "trial_started": _BOOL,
    "webinar_attended_date": _DATE,
    "pricing_page_views": _NUMBER,
    "notes_last_updated": _DATETIME,
    "timeline": ("enumeration", "select"),
}

_READ_ONLY = {"lastmodifieddate", "createdate", "hs_object_id"}

_NOTE_PROPS: dict[str, tuple[str, str]] = {
    "hs_note_body": ("string", "html"),
    "hs_timestamp": _DATETIME,
    "hs_object_id": _NUMBER,
    "hs_createdate": _DATETIME,
    "hs_lastmodifieddate": _DATETIME,
    "hubspot_owner_id": ("enumeration", "select"),
    "sal_handoff_key": _STRING,
}

_OPTIONS: dict[str, list[str]] = {
    "lifecyclestage": LIFECYCLE_STAGES,
    "hs_lead_status": [
        "NEW",
        "OPEN",
        "IN_PROGRESS",
        "OPEN_DEAL",
        "UNQUALIFIED",
        "ATTEMPTED_TO_CONTACT",
        "CONNECTED",
        "BAD_TIMING",
    ],
    "hs_analytics_source": [
        "ORGANIC_SEARCH",
        "PAID_SEARCH",
        "EMAIL_MARKETING",
        "SOCIAL_MEDIA",
        "REFERRALS",
        "OTHER_CAMPAIGNS",
        "DIRECT_TRAFFIC",
        "OFFLINE",
        "PAID_SOCIAL",
    ],
    "demo_requested": ["true", "false"],
    "trial_started": ["true", "false"],
    "timeline": ["now", "this quarter", "0-3 months", "next year", "no timeline"],
}


def property_def(
    name: str,
    type_: str,
    field_type: str,
    group: str = "contactinformation",
    options: list[str] | None = None,
    *,
    label: str | None = None,
    custom: bool = False,
    read_only: bool = False,
) -> dict[str, Any]:
    """One property definition shaped like HubSpot's properties API returns it."""
    return {
        "name": name,
        "label": label or name.replace("_", " ").title(),
        "type": type_,
        "fieldType": field_type,
        "groupName": group,
        "description": "",
        "options": [
            {"label": o, "value": o, "displayOrder": i, "hidden": False}
            for i, o in enumerate(options or [])
        ],
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": name == "email",
        "hidden": False,
        "hubspotDefined": not custom,
        "formField": not read_only,
        "modificationMetadata": {
            "archivable": custom,
            "readOnlyDefinition": not custom,
            "readOnlyValue": read_only,
        },
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": "2024-01-01T00:00:00.000Z",
        "archived": False,
    }


def default_contact_properties() -> dict[str, dict[str, Any]]:
    """Contact properties of a fresh sandbox portal, by name."""
    return {
        name: property_def(
            name,
            t,
            f,
            options=_OPTIONS.get(name),
            read_only=name in _READ_ONLY,
            custom=name
            in ("demo_requested", "trial_started", "webinar_attended_date", "pricing_page_views",
                     "timeline"),
        )
        for name, (t, f) in _CONTACT_PROPS.items()
    }


def default_note_properties() -> dict[str, dict[str, Any]]:
    """Note properties of a fresh sandbox portal, by name."""
    return {
        name: property_def(
            name,
            t,
            f,
            group="engagement",
            custom=name == "sal_handoff_key",
            read_only=name in ("hs_object_id", "hs_createdate", "hs_lastmodifieddate"),
        )
        for name, (t, f) in _NOTE_PROPS.items()
    }
