"""Everything configurable about the Salesforce connector, in one frozen dataclass.

Endpoints, API version, limits, the lead query, write-back field names and Status values,
the Task shape and the field mapping all live here with their defaults, so pointing the
connector at the sandbox or at a real org, or at an org with other custom fields, is
configuration only. :meth:`SalesforceSettings.from_options` validates a ``[connectors.
salesforce]`` table and reports EVERY problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from connectors.mapping import FieldMapping
from sync_agent.errors import ConfigError, Problem

#: Canonical field -> Lead field (standard fields only; custom ones via ``field_map``).
DEFAULT_FIELD_MAP: dict[str, str] = {
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "company": "Company",
    "title": "Title",
    "phone": "Phone",
    "industry": "Industry",
    "employees": "NumberOfEmployees",
    "country": "Country",
    "lead_source": "LeadSource",
    "lifecycle_stage": "Status",
    "created_date": "CreatedDate",
}
#: Fields the connector reads from every lead whatever the mapping says.
SYSTEM_FIELDS = ("Id", "SystemModstamp", "IsConverted", "OwnerId")
#: Salesforce caps sObject Collections at 200 records per call.
MAX_COLLECTION = 200


@dataclass(frozen=True)
class SalesforceSettings:
    """Connector settings; every field can be set under ``[connectors.salesforce]``."""

    # where and how to connect
    instance_url: str = ""  # required with a bare session id; else taken from the token answer
    login_url: str = "https://login.salesforce.com"
    api_version: str = "62.0"
    ca_bundle: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 3  # per call, for 5xx / timeouts / malformed answers
    backoff_base: float = 1.0
    backoff_max: float = 30.0
    max_relogins: int = 3  # per call, on 401 INVALID_SESSION_ID
    daily_max_share: float = 0.5  # stop before this share of the daily API allocation is used
    # source
    source_condition: str = "Status = 'MQL'"
    query_batch_size: int = 2000  # Sforce-Query-Options batchSize, 200..2000
    extra_fields: tuple[str, ...] = ()
    field_map: FieldMapping = field(default_factory=lambda: FieldMapping(DEFAULT_FIELD_MAP))
    # sink: matching
    email_chunk: int = 100  # emails per matching query (keeps the URL short)
    id_chunk: int = 200
    # sink: write-back
    batch_size: int = MAX_COLLECTION  # records per collection call, 1..200
    use_composite: bool = True  # fold up to 5 collections/queries into one Composite call
    lock_retries: int = 2  # in-call retries of UNABLE_TO_LOCK_ROW records
    status_accepted: str = "SAL - Accepted"
    status_rejected: str = "SAL - Rejected"
    status_review: str = ""  # "" leaves Status unchanged
    update_status_from: tuple[str, ...] = ()  # only move Status from these values (() = any)
    score_field: str = "SAL_Score__c"  # "" skips a field
    date_field: str = "SAL_Date__c"
    reason_field: str = "SAL_Reason__c"
    reason_max_chars: int = 255
    # sink: the Task for the lead owner (accepted handoffs only)
    create_task: bool = True
    task_key_field: str = "SAL_Handoff_Key__c"  # external id field on Task
    task_subject: str = "SAL: follow up with {name} within {sla_hours}h"
    task_status: str = "Not Started"
    task_priority: str = "High"
    sla_hours: float = 24.0

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], *, file: str = "config"
    ) -> SalesforceSettings:
        """Validate a config table; raises ``ConfigError`` listing every problem."""
        problems: list[Problem] = []
        values: dict[str, Any] = {}
        known = {f.name: f for f in fields(cls)}
        for key, value in options.items():
            spec = known.get(key)
            where = f"connectors.salesforce.{key}"
            if spec is None:
                problems.append(Problem(file, where, "unknown Salesforce setting",
                                        hint="see docs/salesforce.md for the settings"))
            elif key == "field_map":
                continue
            elif key in ("extra_fields", "update_status_from"):
                if not isinstance(value, (list, tuple)) or not all(
                        isinstance(v, str) for v in value):
                    problems.append(Problem(file, where, "must be a list of strings"))
                else:
                    values[key] = tuple(value)
            else:
                checked = _check_scalar(spec.default, value)
                if checked is None:
                    expected = type(spec.default).__name__
                    problems.append(Problem(file, where, f"must be {expected}, got {value!r}"))
                else:
                    values[key] = checked
        mapping, map_problems = FieldMapping.parse(
            DEFAULT_FIELD_MAP, options.get("field_map"), file=file,
            location="connectors.salesforce.field_map")
        values["field_map"] = mapping
        problems += map_problems
        problems += _ranges(values, file)
        if problems:
            raise ConfigError("invalid Salesforce settings", problems=problems)
        return cls(**values)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def status_for(self, outcome: str) -> str:
        """The Lead Status to write for an outcome ("" = leave it)."""
        return {"accepted": self.status_accepted, "rejected": self.status_rejected,
                "review": self.status_review}.get(outcome, "")

    def source_fields(self) -> list[str]:
        """Lead fields the source selects: system fields, mapped fields, extras."""
        wanted = [*SYSTEM_FIELDS, *self.field_map.source_properties(), *self.extra_fields]
        seen: dict[str, None] = {}
        for name in wanted:
            seen.setdefault(name, None)
        return list(seen)


def _check_scalar(default: Any, value: Any) -> Any:
    """``value`` converted to the default's type, or None when it does not fit."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else None
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return float(value) if ok else None
    if isinstance(default, str):
        return value if isinstance(value, str) else None
    return None


_RANGES: dict[str, tuple[float, float]] = {
    "batch_size": (1, MAX_COLLECTION), "query_batch_size": (200, 2000),
    "email_chunk": (1, 500), "id_chunk": (1, 500), "daily_max_share": (0.0, 1.0),
    "max_attempts": (1, 10), "max_relogins": (0, 10), "lock_retries": (0, 10),
    "connect_timeout": (0.1, 600), "read_timeout": (0.1, 3600), "sla_hours": (0.0, 24 * 365),
    "reason_max_chars": (1, 131_072), "backoff_base": (0.0, 600), "backoff_max": (0.0, 3600),
}


def _ranges(values: Mapping[str, Any], file: str) -> list[Problem]:
    problems = []
    for key, (low, high) in _RANGES.items():
        if key in values and not low <= values[key] <= high:
            problems.append(Problem(file, f"connectors.salesforce.{key}",
                                    f"must be between {low:g} and {high:g}, got {values[key]!r}"))
    for key in ("login_url", "instance_url"):
        url = values.get(key, "")
        if url and not url.startswith("https://"):
            problems.append(Problem(file, f"connectors.salesforce.{key}",
                                    "must be an https:// URL (simple-salesforce only speaks https)",
                                    hint="for the local sandbox use its https URL and ca_bundle"))
    if not values.get("source_condition", "x").strip():
        problems.append(Problem(file, "connectors.salesforce.source_condition",
                                "must be a SOQL condition such as Status = 'MQL'"))
    return problems
