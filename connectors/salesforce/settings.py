"""Everything configurable about the Salesforce connector, in one settings model.

Endpoints, API version, limits, the lead query, write-back field names and Status values,
the Task shape and the field mapping all live here with their defaults, so pointing the
connector at the sandbox or at a real org, or at an org with other custom fields, is
configuration only. The model is the ``[connectors.<name>]`` table's schema
(``extra="forbid"``); :meth:`SalesforceSettings.from_options` validates a plain table and
reports EVERY problem at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from connectors.mapping import FieldMapping, mapping_schema
from connectors.salesforce.ids import is_queue, is_user, looks_like_id, to18
from sync_agent.model import CANONICAL_FIELDS
from sync_agent.settings import SettingsModel, TupleSettingsModel, hint, validate_or_raise

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
#: Canonical fields a created Lead gets by default (LastName and Company are required:
#: "[not provided]" when the lead has none).
CREATE_FIELDS = ("email", "first_name", "last_name", "company", "title", "phone", "country",
                 "lead_source")
#: Canonical fields a created Lead never takes: the agent sets Status, the org CreatedDate.
NOT_CREATABLE = ("lifecycle_stage", "created_date")
#: Fields the connector reads from every lead whatever the mapping says.
SYSTEM_FIELDS = ("Id", "SystemModstamp", "IsConverted", "OwnerId")
#: Salesforce caps sObject Collections at 200 records per call.
MAX_COLLECTION = 200


_TASK_OWNER = hint("a User id (005...), e.g. the inside-sales lead's: a queue cannot own a Task")
_LEAD_OWNER = hint("a queue id (00G...) or a User id (005...): Setup > Queues or Users, or "
                   "SELECT Id, Name FROM Group WHERE Type = 'Queue'")
#: What a Task subject may name: ``{name}`` of the lead, ``{sla_hours}``, ``{score}``.
SUBJECT_FIELDS = {"name": "Ada Lovelace (Analytical Engines)", "sla_hours": "24", "score": 82.0}
_HTTPS = hint("simple-salesforce only speaks https; for the local sandbox use its https URL "
              "and ca_bundle")


class SalesforceOutcomes(TupleSettingsModel):
    """``[connectors.<name>.outcomes]``: what the read-back of sales' follow-up looks for
    (``docs/loop.md``). Salesforce has no standard rejection field: orgs use a Status plus a
    custom reason picklist, so both are configuration (``sales-loop.md``)."""

    #: read outcomes back after every run (and with ``sync-agent outcomes``)
    enabled: bool = True
    #: Lead Status values that mean sales rejected the lead
    rejected_statuses: tuple[str, ...] = ("Closed - Not Converted",)
    #: the Lead field holding the rejection reason ("" reads none)
    rejection_reason_field: str = ""
    #: Lead Status values that mean sales qualified it (SQL); a conversion counts as one too
    sql_statuses: tuple[str, ...] = ()
    #: Lead Status values that mean sales sent it back to marketing (nurture)
    recycled_statuses: tuple[str, ...] = ("Recycled",)
    #: read Status changes from LeadHistory (needs field history tracking on Lead Status);
    #: off, or for a lead without history rows, the current Status and SystemModstamp are used
    status_history: bool = True

    @model_validator(mode="after")
    def _apart(self) -> SalesforceOutcomes:
        named = [("rejected_statuses", self.rejected_statuses),
                 ("sql_statuses", self.sql_statuses),
                 ("recycled_statuses", self.recycled_statuses)]
        for i, (name, values) in enumerate(named):
            for other, others in named[i + 1:]:
                both = sorted(set(values) & set(others))
                if both:
                    raise ValueError(f"{', '.join(both)} is in both {name} and {other}: "
                                     "a Status means one outcome")
        return self


class SalesforceSettings(SettingsModel):
    """Connector settings; every field can be set under ``[connectors.<name>]``."""

    # where and how to connect
    instance_url: str = Field("", json_schema_extra=_HTTPS)  # "" = from the token answer
    login_url: str = Field("https://login.salesforce.com", json_schema_extra=_HTTPS)
    api_version: str = "62.0"
    ca_bundle: str = ""
    connect_timeout: float = Field(5.0, ge=0.1, le=600)
    read_timeout: float = Field(60.0, ge=0.1, le=3600)
    max_attempts: int = Field(3, ge=1, le=10)  # per call, for 5xx / timeouts / bad answers
    backoff_base: float = Field(1.0, ge=0, le=600)
    backoff_max: float = Field(30.0, ge=0, le=3600)
    max_relogins: int = Field(3, ge=0, le=10)  # per call, on 401 INVALID_SESSION_ID
    daily_max_share: float = Field(0.5, ge=0, le=1)  # stop before this share is used
    # source
    source_condition: str = Field(
        "Status = 'MQL'", json_schema_extra=hint("a SOQL condition such as Status = 'MQL'"))
    query_batch_size: int = Field(2000, ge=200, le=2000)
    #: re-read this far behind the cursor: late-visible writes are found, read ones dropped
    lookback_seconds: float = Field(300.0, ge=0, le=86_400)
    max_seen: int = Field(20_000, ge=100)  # versions remembered for that dedupe
    #: how long cached describe answers (field types, picklists, statuses) are trusted
    schema_refresh_hours: float = Field(24.0, ge=0)
    extra_fields: tuple[str, ...] = ()
    field_map: Annotated[FieldMapping, mapping_schema(DEFAULT_FIELD_MAP)] = FieldMapping(
        DEFAULT_FIELD_MAP)
    # sink: matching
    email_chunk: int = Field(100, ge=1, le=500)  # emails per matching query
    id_chunk: int = Field(200, ge=1, le=500)
    # sink: write-back
    batch_size: int = Field(MAX_COLLECTION, ge=1, le=MAX_COLLECTION)
    use_composite: bool = True  # fold up to 5 collections/queries into one Composite call
    lock_retries: int = Field(2, ge=0, le=10)  # in-call retries of UNABLE_TO_LOCK_ROW
    status_accepted: str = "SAL - Accepted"
    status_rejected: str = "SAL - Rejected"
    status_review: str = ""  # "" leaves Status unchanged
    #: Status is only moved from these values; unset: from the statuses the agent writes
    #: and ``new_statuses`` (a lead sales already works keeps its Status); ["*"]: any.
    update_status_from: tuple[str, ...] | None = None
    new_statuses: tuple[str, ...] = ("Open - Not Contacted", "MQL")
    #: the org's lead assignment rules run on our updates only when asked (REST default: they
    #: do, and would silently re-own every lead the agent touches)
    run_assignment_rules: bool = False
    score_field: str = "SAL_Score__c"  # "" skips a field
    date_field: str = "SAL_Date__c"
    reason_field: str = "SAL_Reason__c"
    reason_max_chars: int = Field(255, ge=1, le=131_072)
    # sink: the Task for the lead owner (accepted handoffs only)
    create_task: bool = True
    task_key_field: str = "SAL_Handoff_Key__c"  # external id field on Task
    task_subject: str = "SAL: follow up with {name} within {sla_hours}h"
    task_status: str = "Not Started"
    task_priority: str = "High"
    #: who gets the Task when the lead's owner can't (a queue, an inactive user): a User
    #: id; unset, the integration user creating it
    fallback_task_owner: str = Field("", json_schema_extra=_TASK_OWNER)
    #: The Task's due date: this many hours after the decision; unset, the agent's own
    #: follow-up SLA (``[writeback] follow_up_sla_hours``) decides, as for the note.
    sla_hours: float | None = Field(None, ge=0, le=24 * 365)
    # sink: follow-up SLA breach actions ([sla] actions, docs/sla.md)
    #: Lead field the ``mark`` action sets (a Text field the org adds; "" skips the mark)
    sla_status_field: str = "SAL_SLA_Status__c"
    sla_breached_value: str = "breached"
    #: the ``escalate`` Task's subject: may name {name}, {sla_hours} and {score}
    escalation_subject: str = "SLA breached: {name} not followed up within {sla_hours}h"
    # sink: the review band (a score a person must decide on)
    #: review decisions give the lead to this queue (00G...) or user (005...); "" leaves the
    #: owner. A lead sales already works (a Status the agent may not move) keeps its owner.
    review_owner: str = Field("", json_schema_extra=_LEAD_OWNER)
    #: upsert a Task for review decisions too (keyed by the handoff key, like accepted ones)
    review_task: bool = False
    #: who gets the review Task: a User id; unset, the review owner when it is a user, else
    #: the lead's owner (for a queue-owned lead: ``fallback_task_owner``)
    review_task_owner: str = Field("", json_schema_extra=_TASK_OWNER)
    review_task_subject: str = "SAL review: decide on {name} (score {score:g})"
    # sink: Leads for accepted MQLs that never reached Salesforce
    #: create the Lead when an accepted handoff with an e-mail matches none; off, it waits
    #: for the CRM's own sync ([writeback] wait_for_record_hours), then is a dead letter
    create_missing_leads: bool = False
    #: leave it this long after the decision to the CRM's own sync (HubSpot's Salesforce
    #: connector creates the Lead minutes after a contact becomes an MQL); keep it below
    #: [writeback] wait_for_record_hours, or the write is a dead letter first
    create_missing_after_minutes: float = Field(60.0, ge=0, le=7 * 24 * 60)
    #: Lead External ID field (unique) holding the handoff key: the create is an upsert on
    #: it, so a retried create finds the Lead it made instead of making a second one
    lead_key_field: str = "SAL_Handoff_Key__c"
    #: OwnerId of a created Lead (a queue or a user); "" lets the org's active lead
    #: assignment rule choose, as it does for web-to-lead
    create_lead_owner: str = Field("", json_schema_extra=_LEAD_OWNER)
    #: canonical fields copied onto a created Lead (through field_map)
    create_fields: tuple[str, ...] = CREATE_FIELDS
    #: outcome read-back: rejection/SQL/recycled statuses, reason field, history
    outcomes: SalesforceOutcomes = SalesforceOutcomes()

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            data = dict(data)
            for key in ("extra_fields", "update_status_from", "new_statuses", "create_fields"):
                if isinstance(data.get(key), list):
                    data[key] = tuple(data[key])
        return data

    @field_validator("login_url", "instance_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if value and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("create_fields")
    @classmethod
    def _create_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [f for f in value if f not in CANONICAL_FIELDS]
        if unknown:
            raise ValueError(f"unknown canonical fields: {', '.join(unknown)} (one of "
                             f"{', '.join(sorted(CANONICAL_FIELDS))})")
        banned = [f for f in value if f in NOT_CREATABLE]
        if banned:
            raise ValueError(f"{', '.join(banned)} cannot be copied: the agent writes Status, "
                             "the org sets CreatedDate")
        return value

    @field_validator("review_owner", "create_lead_owner")
    @classmethod
    def _lead_owner(cls, value: str) -> str:
        if value and not (looks_like_id(value) and (is_queue(value) or is_user(value))):
            raise ValueError("must be a User id (005...) or a queue id (00G...)")
        return to18(value) if value else value

    @field_validator("fallback_task_owner", "review_task_owner")
    @classmethod
    def _task_owner(cls, value: str) -> str:
        if value and is_queue(value):
            raise ValueError("a queue cannot own a Task (Salesforce refuses it with "
                             "FIELD_INTEGRITY_EXCEPTION): give a User id (005...)")
        if value and not (looks_like_id(value) and is_user(value)):
            raise ValueError("must be a User id (005...)")
        return to18(value) if value else value

    @field_validator("task_subject", "review_task_subject", "escalation_subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        try:
            value.format(**SUBJECT_FIELDS)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"cannot be filled in ({type(exc).__name__}: {exc}): it may name "
                             "{name}, {sla_hours} and {score}, in braces") from exc
        return value

    def whole_problems(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        found: list[tuple[tuple[str | int, ...], str, str]] = []
        if self.review_owner and self.run_assignment_rules:
            found.append((("review_owner",), "the org's lead assignment rules run on every "
                          "update with run_assignment_rules = true and would re-own the lead "
                          "at once", "use one or the other"))
        if self.review_task and is_queue(self.review_owner) and not (
                self.review_task_owner or self.fallback_task_owner):
            found.append((("review_task",), "the review owner is a queue, and a queue cannot "
                          "own a Task", "set review_task_owner (or fallback_task_owner) to the "
                          "User id of the person who decides"))
        if self.create_missing_leads:
            found += self._create_problems()
        return found

    def _create_problems(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        found: list[tuple[tuple[str | int, ...], str, str]] = []
        if "email" not in self.create_fields:
            found.append((("create_fields",), "must hold email: later decisions find the "
                          "Lead by its e-mail", 'add "email"'))
        unmapped = [f for f in self.create_fields if not self.field_map.fields.get(f)]
        if unmapped:
            found.append((("create_fields",), f"{', '.join(unmapped)}: no Lead field in "
                          "field_map", "map them, or leave them out of create_fields"))
        if not self.lead_key_field:
            found.append((("lead_key_field",), "is needed to create Leads exactly once",
                          "a unique External ID text field on Lead, e.g. SAL_Handoff_Key__c"))
        return found

    @property
    def review_task_assignee(self) -> str:
        """Who gets every review Task, whoever owns the lead ("" = the lead's owner)."""
        return self.review_task_owner or (self.review_owner if is_user(self.review_owner)
                                          else "")

    @field_validator("source_condition")
    @classmethod
    def _condition(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a SOQL condition such as Status = 'MQL'")
        return value

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any], *, file: str = "config"
    ) -> SalesforceSettings:
        """Validate a plain table; raises ``ConfigError`` listing every problem."""
        return validate_or_raise(cls, options, file=file, title="Salesforce settings")

    @classmethod
    def coerce(cls, options: SalesforceSettings | Mapping[str, Any]) -> SalesforceSettings:
        """Settings as given, or validated from a plain table."""
        if isinstance(options, SalesforceSettings):
            return options
        return cls.from_options(options)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def status_for(self, outcome: str) -> str:
        """The Lead Status to write for an outcome ("" = leave it)."""
        return {"accepted": self.status_accepted, "rejected": self.status_rejected,
                "review": self.status_review}.get(outcome, "")

    def may_move_status(self, current: str | None) -> bool:
        """Whether the agent may change a Lead Status that is ``current`` now."""
        allowed = self.update_status_from
        if allowed is None:
            own = (self.status_accepted, self.status_rejected, self.status_review)
            allowed = (*own, *self.new_statuses)
        return not current or "*" in allowed or current in allowed

    def source_fields(self) -> list[str]:
        """Lead fields the source selects: system fields, mapped fields, extras."""
        wanted = [*SYSTEM_FIELDS, *self.field_map.source_properties(), *self.extra_fields]
        seen: dict[str, None] = {}
        for name in wanted:
            seen.setdefault(name, None)
        return list(seen)
