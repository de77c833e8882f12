"""Everything configurable about the HubSpot connector, in one settings model.

Endpoints, the MQL filter, the default field mapping, limits, timeouts, retry policy and
the write-back property names and values all live here, so pointing the agent at the
sandbox or at a real portal, or at a portal with custom property names, is configuration
only. The model is the ``[connectors.<name>]`` table's schema (``extra="forbid"``): the
agent's config loader reports every problem in it at once, with file and line;
:meth:`HubSpotSettings.from_options` does the same for a plain mapping.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, GetPydanticSchema, ValidationInfo, field_validator, model_validator
from pydantic_core import core_schema

from connectors.mapping import FieldMapping, mapping_schema
from sync_agent.model import CANONICAL_FIELDS
from sync_agent.settings import SettingsModel, TupleSettingsModel, hint, validate_or_raise

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
    "annual_revenue": "annualrevenue",
    "country": "country",
    # lead_score: none by default. HubSpot's legacy "hubspotscore" stopped updating on 31 Aug
    # 2025; map lead_score to the portal's own score property (its new scoring tool's).
    "lifecycle_stage": "lifecyclestage",
    "lead_source": "hs_analytics_source",
    # (the legacy hs_lifecyclestage_*_date are cleared when a contact moves a stage back)
    "mql_date": "hs_v2_date_entered_marketingqualifiedlead",
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

#: Canonical fields the company knows better than the contact form (industry as HubSpot's
#: enumeration, a head count, revenue as a number).
DEFAULT_PREFER_COMPANY: Mapping[str, str] = {
    "industry": "industry",
    "employees": "numberofemployees",
    "annual_revenue": "annualrevenue",
    "country": "country",
}

DEFAULT_MQL_FILTER: tuple[Mapping[str, Any], ...] = (
    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"},
)
OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY",
             "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN")
SEARCH_BODY_MAX = 3_000
#: HubSpot allows 6 filters per group; the keyset uses at most 3 of them.
MAX_USER_FILTERS = 3
#: Documented private-app limits per tier: (calls per 10 s, calls per day).
TIERS = {"free": (100, 250_000), "starter": (100, 250_000),
         "professional": (190, 625_000), "enterprise": (190, 1_000_000)}
Scalar = str | int | float | bool
OutcomeName = Literal["accepted", "rejected", "review"]


def _default_status_values() -> dict[OutcomeName, str]:
    return {"accepted": "accepted", "rejected": "rejected", "review": "review"}


class SalProperties(SettingsModel):
    """Names of the contact (and note) properties the sink writes."""

    status: str = Field("sal_status", min_length=1)
    score: str = Field("sal_score", min_length=1)
    reason: str = Field("sal_reason", min_length=1)
    decided_at: str = Field("sal_decided_at", min_length=1)
    handoff_key: str = Field("sal_handoff_key", min_length=1)
    #: the follow-up SLA status the ``mark`` action sets ([sla], docs/sla.md)
    sla_status: str = Field("sal_sla_status", min_length=1)


class HubSpotOutcomes(TupleSettingsModel):
    """``[connectors.<name>.outcomes]``: what the read-back of sales' follow-up looks for
    (``docs/loop.md``). Contacts have no standard rejection reason (the Leads object's
    ``hs_lead_disqualification_reason`` needs Sales Hub Pro+), so its property is
    configuration (``sales-loop.md``)."""

    #: read outcomes back after every run (and with ``sync-agent outcomes``)
    enabled: bool = True
    #: ``hs_lead_status`` values that mean sales rejected the contact
    rejected_statuses: tuple[str, ...] = ("UNQUALIFIED",)
    #: the contact property holding the rejection reason ("" reads none)
    rejection_reason_property: str = ""
    #: ``hs_lead_status`` values that mean sales sent it back to marketing
    recycled_statuses: tuple[str, ...] = ("BAD_TIMING",)
    #: ``hs_lead_status`` values that mean nobody has worked it yet ("" = no value)
    new_statuses: tuple[str, ...] = ("", "NEW", "OPEN")

    @model_validator(mode="after")
    def _apart(self) -> HubSpotOutcomes:
        both = sorted(set(self.rejected_statuses) & set(self.recycled_statuses))
        both += sorted((set(self.rejected_statuses) | set(self.recycled_statuses))
                       & set(self.new_statuses))
        if both:
            raise ValueError(f"{', '.join(both)}: a lead status can mean one outcome only "
                             "(rejected_statuses, recycled_statuses, new_statuses)")
        return self


class FilterSpec(SettingsModel):
    """One MQL filter as an admin writes it: ``{ property, operator, value | values }``."""

    property: str = Field(min_length=1)
    operator: str = Field("EQ", json_schema_extra=hint(", ".join(OPERATORS)))
    value: Scalar | None = None
    values: list[Scalar] | None = None
    high_value: Scalar | None = None

    @field_validator("operator")
    @classmethod
    def _operator(cls, value: str) -> str:
        if value.upper() not in OPERATORS:
            raise ValueError(f"unknown operator {value!r} (one of {', '.join(OPERATORS)})")
        return value.upper()

    def search_filter(self) -> dict[str, Any]:
        """The filter as HubSpot's search body wants it (values as strings)."""
        out: dict[str, Any] = {"propertyName": self.property, "operator": self.operator}
        if self.values is not None:
            out["values"] = [_text(v) for v in self.values]
        if self.value is not None:
            out["value"] = _text(self.value)
        if self.high_value is not None:
            out["highValue"] = _text(self.high_value)
        return out


def _text(value: Scalar) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _filters(specs: list[FilterSpec]) -> tuple[Mapping[str, Any], ...]:
    return tuple(spec.search_filter() for spec in specs)


#: ``mql_filter``: a list of :class:`FilterSpec` tables, kept in search-body form.
MqlFilter = Annotated[
    tuple[Mapping[str, Any], ...],
    GetPydanticSchema(lambda _type, handler: core_schema.no_info_after_validator_function(
        _filters, handler(list[FilterSpec]))),
    Field(json_schema_extra=hint('{ property = "lifecyclestage", operator = "EQ", '
                                 'value = "marketingqualifiedlead" }')),
]


class HubSpotSettings(SettingsModel):
    """The HubSpot connector's configuration (see ``docs/hubspot.md`` for each key)."""

    base_url: str = Field(DEFAULT_BASE_URL, min_length=1)
    ca_bundle: str | None = None
    tier: Literal["free", "starter", "professional", "enterprise"] | None = None
    mql_filter: MqlFilter = Field(DEFAULT_MQL_FILTER, validate_default=False)
    modified_property: str = Field("lastmodifieddate", min_length=1)
    page_size: int = Field(200, ge=1, le=200)
    overlap_ms: int = Field(300_000, ge=0)  # re-read behind the cursor: late-visible changes
    max_seen: int = Field(10_000, ge=0)
    extra_properties: tuple[str, ...] = ("salesforceleadid",)
    #: read each contact's primary company (``associatedcompanyid``): ICP data lives there
    company_context: bool = True
    #: canonical fields read from the company first, when it has a value
    prefer_company: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_PREFER_COMPANY))
    #: company properties read besides those (rules reach them as company.<name>)
    company_properties: tuple[str, ...] = ("name", "domain", "lifecyclestage")
    #: how long a cached schema (property definitions) is trusted
    schema_refresh_hours: float = Field(24.0, ge=0)
    field_map: Annotated[FieldMapping, mapping_schema(DEFAULT_FIELD_MAP)] = FieldMapping(
        DEFAULT_FIELD_MAP
    )
    sal: SalProperties = SalProperties()
    status_values: dict[OutcomeName, str] = Field(default_factory=_default_status_values)
    #: the value the SLA ``mark`` action writes to ``sal.sla_status``
    sla_breached_value: str = Field("breached", min_length=1)
    stage_order: tuple[str, ...] = DEFAULT_STAGE_ORDER
    advance_stage: str | None = None
    #: review decisions (a person must decide) give the contact to this owner
    #: (``hubspot_owner_id``); "" leaves the owner. Only contacts without an owner, unless
    #: ``review_owner_overrides``: someone who already owns a contact keeps it.
    review_owner_id: str = Field("", json_schema_extra=hint(
        "a HubSpot owner id, digits only: Settings > Users & Teams, or GET /crm/v3/owners"))
    review_owner_overrides: bool = False
    #: a note on review contacts too, saying why the lead needs a person
    review_note: bool = False
    batch_size: int = Field(100, ge=1, le=100)
    property_group: str = Field("contactinformation", min_length=1)
    note_property_group: str = Field("engagement", min_length=1)
    note_max_chars: int = Field(65_536, ge=1)
    burst_per_10s: int = Field(100, ge=1)
    search_per_s: int = Field(5, ge=1)
    daily: int = Field(250_000, ge=1)
    daily_max_share: float = Field(0.5, gt=0, le=1)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(30.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    backoff_base: float = Field(1.0, ge=0)
    backoff_max: float = Field(60.0, ge=0)
    #: outcome read-back: rejection/recycle lead statuses, reason property
    outcomes: HubSpotOutcomes = HubSpotOutcomes()

    @model_validator(mode="before")
    @classmethod
    def _lists_and_tier(cls, data: Any) -> Any:
        """TOML arrays become tuples; ``tier`` sets the documented limits (unless given);
        ``mql_filter`` may be one table; ``status_values`` overlays the defaults."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for key in ("extra_properties", "stage_order", "company_properties"):
            if isinstance(data.get(key), list):
                data[key] = tuple(data[key])
        if data.get("tier") in TIERS:
            burst, daily = TIERS[data["tier"]]
            data.setdefault("burst_per_10s", burst)
            data.setdefault("daily", daily)
        if isinstance(data.get("status_values"), Mapping):
            data["status_values"] = {**_default_status_values(), **data["status_values"]}
        return data

    @field_validator("mql_filter", mode="before")
    @classmethod
    def _mql_filter(cls, value: Any) -> Any:
        items = [value] if isinstance(value, Mapping) else value
        if not isinstance(items, list) or not items:
            raise ValueError("must be a table or a non-empty list of tables")
        if len(items) > MAX_USER_FILTERS:
            raise ValueError(f"at most {MAX_USER_FILTERS} filters (HubSpot allows 6 per "
                             "search; the agent's keyset uses 3)")
        return items

    @field_validator("review_owner_id")
    @classmethod
    def _owner_id(cls, value: str) -> str:
        if value and not (value.isascii() and value.isdigit()):
            raise ValueError(f"must be a HubSpot owner id (digits only), not {value!r}")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("prefer_company")
    @classmethod
    def _canonical(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(f"unknown canonical field(s): {', '.join(unknown)}")
        return value

    @field_validator("advance_stage")
    @classmethod
    def _stage(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and value not in info.data.get("stage_order", DEFAULT_STAGE_ORDER):
            raise ValueError(f"{value!r} is not in stage_order")
        return value

    def whole_problems(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        size = self.search_body_size()
        if size <= SEARCH_BODY_MAX:
            return []
        return [(("field_map",), f"a search request would be {size} characters; HubSpot "
                 f"accepts {SEARCH_BODY_MAX}", "map fewer properties or trim extra_properties")]

    @property
    def timeout(self) -> tuple[float, float]:
        """``(connect, read)`` seconds, passed as ``_request_timeout`` on every call."""
        return (self.connect_timeout, self.read_timeout)

    def properties_to_read(self) -> list[str]:
        """Contact properties requested by the source: mapped, keyset and extra ones (and
        the primary company's id when company data is read)."""
        extra = (*self.extra_properties, *(("associatedcompanyid",) if self.company_context
                                           else ()))  # fmt: skip
        return properties_to_read(self.field_map, extra, self.modified_property)

    def company_properties_to_read(self) -> list[str]:
        """Company properties requested for the company context."""
        return sorted({*self.prefer_company.values(), *self.company_properties,
                       "hs_lastmodifieddate"})  # fmt: skip

    def search_body_size(self) -> int:
        """The longest contacts search body we send (HubSpot refuses > 3,000 characters)."""
        return search_body_size(self.mql_filter, self.modified_property,
                                self.properties_to_read(), self.page_size)  # fmt: skip

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, file: str = "config") -> HubSpotSettings:
        """Validate a plain table; raises ``ConfigError`` listing every problem."""
        return validate_or_raise(cls, options, file=file, title="HubSpot settings")

    @classmethod
    def coerce(cls, options: HubSpotSettings | Mapping[str, Any]) -> HubSpotSettings:
        """Settings as given, or validated from a plain table."""
        if isinstance(options, HubSpotSettings):
            return options
        return cls.from_options(options)


def properties_to_read(field_map: FieldMapping, extra: tuple[str, ...], modified: str) -> list[str]:
    wanted = set(field_map.source_properties()) | set(extra)
    wanted |= {modified, "hs_object_id", "lifecyclestage"}
    return sorted(wanted)


def search_body_size(mql_filter: tuple[Mapping[str, Any], ...], modified: str,
                     properties: list[str], page_size: int) -> int:
    stamp = "1735689600000"
    filters = [*mql_filter,
               {"propertyName": modified, "operator": "GTE", "value": stamp},
               {"propertyName": modified, "operator": "LTE", "value": stamp}]
    body = {"filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": properties, "limit": page_size, "after": "0"}
    return len(json.dumps(body))
