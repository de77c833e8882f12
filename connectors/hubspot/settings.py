"""Everything configurable about the HubSpot connector, in one frozen dataclass.

Endpoints, the MQL filter, the default field mapping, limits, timeouts, retry policy and
the write-back property names and values all live here, so pointing the agent at the
sandbox or at a real portal, or at a portal with custom property names, is configuration
only. :meth:`HubSpotSettings.from_options` validates a config table and reports EVERY
problem at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.mapping import FieldMapping
from sync_agent.errors import ConfigError, Problem

DEFAULT_BASE_URL = "https://api.hubapi.com"

#: HubSpot standard contact properties -> canonical fields.
DEFAULT_FIELD_MAP: Mapping[str, str] = {
    "email": "email",
    "first_name": "firstname",
    "last_name": "lastname",
    "company": "company",
    "title": "jobtitle",
    "phone": "phone",
    "industry": "industry",
    "employees": "numemployees",
    "country": "country",
    "lead_score": "hubspotscore",
    "lifecycle_stage": "lifecyclestage",
    "lead_source": "hs_analytics_source",
    "mql_date": "hs_lifecyclestage_marketingqualifiedlead_date",
    "last_activity_date": "notes_last_updated",
    "created_date": "createdate",
    "page_views": "hs_analytics_num_page_views",
    "conversion_events": "num_conversion_events",
    "recent_conversion": "recent_conversion_event_name",
    # Intent and BANT signals are custom properties in most portals; these are the
    # conventional names (the sandbox has them). Rename them under [connectors.hubspot.field_map].
    "demo_requested": "demo_requested",
    "trial_started": "trial_started",
    "webinar_attended_date": "webinar_attended_date",
    "pricing_page_views": "pricing_page_views",
    "timeline": "timeline",
}

#: HubSpot's default lifecycle stages, in their forward order.
DEFAULT_STAGE_ORDER = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)

DEFAULT_MQL_FILTER = ({"propertyName": "lifecyclestage", "operator": "EQ",
                       "value": "marketingqualifiedlead"},)
_OPERATORS = {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
              "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
SEARCH_BODY_MAX = 3_000
#: HubSpot allows 6 filters per group; the keyset uses at most 3 of them.
MAX_USER_FILTERS = 3


@dataclass(frozen=True)
class SalProperties:
    """Names of the contact (and note) properties the sink writes."""

    status: str = "sal_status"
    score: str = "sal_score"
    reason: str = "sal_reason"
    decided_at: str = "sal_decided_at"
    handoff_key: str = "sal_handoff_key"


@dataclass(frozen=True)
class HubSpotSettings:
    """The HubSpot connector's configuration (see ``docs/hubspot.md`` for each key)."""

    base_url: str = DEFAULT_BASE_URL
    ca_bundle: str | None = None
    mql_filter: tuple[Mapping[str, Any], ...] = DEFAULT_MQL_FILTER
    modified_property: str = "lastmodifieddate"
    page_size: int = 200
    search_cap: int = 10_000
    overlap_ms: int = 60_000
    max_seen: int = 10_000
    field_map: FieldMapping = field(default_factory=lambda: FieldMapping(DEFAULT_FIELD_MAP))
    extra_properties: tuple[str, ...] = ("salesforceleadid",)
    sal: SalProperties = field(default_factory=SalProperties)
    status_values: Mapping[str, str] = field(
        default_factory=lambda: {"accepted": "accepted", "rejected": "rejected",
                                 "review": "review"}
    )
    advance_stage: str | None = None
    stage_order: tuple[str, ...] = DEFAULT_STAGE_ORDER
    batch_size: int = 100
    property_group: str = "contactinformation"
    note_property_group: str = "engagement"
    note_max_chars: int = 65_536
    burst_per_10s: int = 100
    search_per_s: int = 5
    daily: int = 250_000
    daily_max_share: float = 0.5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 5
    backoff_base: float = 1.0
    backoff_max: float = 60.0

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds, passed as ``_request_timeout`` on every call."""
        return (self.connect_timeout, self.read_timeout)

    def properties_to_read(self) -> list[str]:
        """Contact properties requested by the source: mapped, keyset and extra ones."""
        wanted = set(self.field_map.source_properties()) | set(self.extra_properties)
        wanted |= {self.modified_property, "hs_object_id", "lifecyclestage"}
        return sorted(wanted)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, file: str = "config") -> HubSpotSettings:
        """Validate a config table; raises ``ConfigError`` listing every problem."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        known = set(cls.__dataclass_fields__) | {"tier"}
        for key in options:
            if key not in known:
                problems.append(Problem(file, key, "unknown HubSpot setting"))
        _tier(options, values, problems, file)
        _scalars(options, values, problems, file)
        mapping, map_problems = FieldMapping.parse(
            DEFAULT_FIELD_MAP, options.get("field_map"), file=file
        )
        values["field_map"] = mapping
        problems += map_problems
        _structured(options, values, problems, file)
        if problems:
            raise ConfigError("invalid HubSpot settings", problems=problems)
        settings = cls(**values)
        size = settings.search_body_size()
        if size > SEARCH_BODY_MAX:
            raise ConfigError("invalid HubSpot settings", problems=[Problem(
                file, "field_map", f"a search request would be {size} characters; HubSpot "
                f"accepts {SEARCH_BODY_MAX}", hint="map fewer properties or trim "
                "extra_properties")])
        return settings

    def search_body_size(self) -> int:
        """The longest contacts search body we send (HubSpot refuses > 3,000 characters)."""
        stamp = "1735689600000"
        filters = [*self.mql_filter,
                   {"propertyName": self.modified_property, "operator": "GTE", "value": stamp},
                   {"propertyName": self.modified_property, "operator": "LTE", "value": stamp}]
        body = {"filterGroups": [{"filters": filters}],
                "sorts": [{"propertyName": self.modified_property, "direction": "ASCENDING"}],
                "properties": self.properties_to_read(), "limit": self.page_size,
                "after": "0"}
        return len(json.dumps(body))


_INTS = ("page_size", "search_cap", "overlap_ms", "max_seen", "batch_size", "note_max_chars",
         "burst_per_10s", "search_per_s", "daily", "max_attempts")
_FLOATS = ("daily_max_share", "connect_timeout", "read_timeout", "backoff_base", "backoff_max")
_STRS = ("base_url", "ca_bundle", "modified_property", "advance_stage", "property_group",
         "note_property_group")
_TIERS = {"free": (100, 250_000), "starter": (100, 250_000),
          "professional": (190, 625_000), "enterprise": (190, 1_000_000)}


def _tier(options: Mapping[str, Any], values: dict[str, Any], problems: list[Problem],
          file: str) -> None:
    """``tier`` sets the documented private-app burst and daily limits."""
    tier = options.get("tier")
    if tier is None:
        return
    if tier not in _TIERS:
        problems.append(Problem(file, "tier", f"unknown tier {tier!r}", hint=", ".join(_TIERS)))
        return
    values["burst_per_10s"], values["daily"] = _TIERS[tier]


def _scalars(options: Mapping[str, Any], values: dict[str, Any], problems: list[Problem],
             file: str) -> None:
    for key in _INTS:
        if key in options:
            value = options[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(Problem(file, key, "must be a non-negative integer"))
            else:
                values[key] = value
    for key in _FLOATS:
        if key in options:
            value = options[key]
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                problems.append(Problem(file, key, "must be a non-negative number"))
            else:
                values[key] = float(value)
    for key in _STRS:
        if key in options:
            if not isinstance(options[key], str) or not options[key]:
                problems.append(Problem(file, key, "must be a non-empty string"))
            else:
                values[key] = options[key]
    if "base_url" in values:
        values["base_url"] = values["base_url"].rstrip("/")
    page = values.get("page_size", 200)
    if not 1 <= page <= 200:
        problems.append(Problem(file, "page_size", "must be between 1 and 200"))
    elif values.get("search_cap", 10_000) < 2 * page:
        problems.append(Problem(file, "search_cap", "must be at least twice page_size"))
    if not 1 <= values.get("batch_size", 100) <= 100:
        problems.append(Problem(file, "batch_size", "must be between 1 and 100"))
    if not 0 < values.get("daily_max_share", 0.5) <= 1:
        problems.append(Problem(file, "daily_max_share", "must be in (0, 1]"))
    if values.get("max_attempts", 5) < 1:
        problems.append(Problem(file, "max_attempts", "must be at least 1"))
    if values.get("burst_per_10s", 100) < 1 or values.get("search_per_s", 5) < 1:
        problems.append(Problem(file, "burst_per_10s", "limits must be at least 1"))


def _structured(options: Mapping[str, Any], values: dict[str, Any], problems: list[Problem],
                file: str) -> None:
    if "mql_filter" in options:
        values["mql_filter"] = _filters(options["mql_filter"], problems, file)
    if "extra_properties" in options:
        extra = options["extra_properties"]
        if not isinstance(extra, list) or not all(isinstance(p, str) for p in extra):
            problems.append(Problem(file, "extra_properties", "must be a list of property names"))
        else:
            values["extra_properties"] = tuple(extra)
    if "sal" in options:
        values["sal"] = _sal(options["sal"], problems, file)
    if "status_values" in options:
        raw = options["status_values"]
        allowed = {"accepted", "rejected", "review"}
        if not isinstance(raw, Mapping) or not set(raw) <= allowed or not all(
            isinstance(v, str) for v in raw.values()
        ):
            problems.append(Problem(file, "status_values", "must map accepted/rejected/review "
                                    "to strings"))
        else:
            values["status_values"] = {**HubSpotSettings().status_values, **raw}
    if "stage_order" in options:
        order = options["stage_order"]
        if not isinstance(order, list) or not all(isinstance(s, str) for s in order):
            problems.append(Problem(file, "stage_order", "must be a list of stage names"))
        else:
            values["stage_order"] = tuple(order)
    stage = values.get("advance_stage")
    if stage is not None and stage not in values.get("stage_order", DEFAULT_STAGE_ORDER):
        problems.append(Problem(file, "advance_stage", f"{stage!r} is not in stage_order"))


def _filters(raw: Any, problems: list[Problem], file: str) -> tuple[Mapping[str, Any], ...]:
    """``mql_filter``: one table or a list of {property, operator, value|values}."""
    items = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(items, list) or not items:
        problems.append(Problem(file, "mql_filter", "must be a table or a non-empty list"))
        return DEFAULT_MQL_FILTER
    if len(items) > MAX_USER_FILTERS:
        problems.append(Problem(file, "mql_filter", f"at most {MAX_USER_FILTERS} filters"))
    out: list[Mapping[str, Any]] = []
    for index, item in enumerate(items):
        where = f"mql_filter[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("property"), str):
            problems.append(Problem(file, where, "needs a 'property' name"))
            continue
        operator = str(item.get("operator", "EQ")).upper()
        if operator not in _OPERATORS:
            problems.append(Problem(file, where, f"unknown operator {operator!r}",
                                    hint=", ".join(sorted(_OPERATORS))))
            continue
        spec: dict[str, Any] = {"propertyName": item["property"], "operator": operator}
        if "values" in item:
            spec["values"] = [str(v) for v in item["values"]]
        if "value" in item:
            spec["value"] = str(item["value"])
        if "high_value" in item:
            spec["highValue"] = str(item["high_value"])
        out.append(spec)
    return tuple(out)


def _sal(raw: Any, problems: list[Problem], file: str) -> SalProperties:
    """``[hubspot.sal]`` renames the written properties, e.g. ``status = "x_sal"``."""
    allowed = set(SalProperties.__dataclass_fields__)
    if not isinstance(raw, Mapping):
        problems.append(Problem(file, "sal", "must be a table of property names"))
        return SalProperties()
    bad = [k for k, v in raw.items() if k not in allowed or not isinstance(v, str) or not v]
    for key in bad:
        problems.append(Problem(file, f"sal.{key}", "unknown key or empty name",
                                hint=", ".join(sorted(allowed))))
    return SalProperties(**{k: v for k, v in raw.items() if k not in bad})
