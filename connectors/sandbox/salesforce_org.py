"""What an org does to an integration's writes: its configuration and its rules.

A real org is not an empty database: validation rules refuse records, the active lead
assignment rule re-owns leads on every REST update that does not send
``Sforce-Auto-Assign: FALSE``, triggers hit governor limits on large batches, tasks can't
be given to queues or inactive users, field-level security hides fields. Every knob lives
on :class:`SalesforceOrg` (``store.org``; ``Sandbox(org=...)``), and every rule is a
function here, called once per record by :mod:`connectors.sandbox.salesforce_records`.
Sources for each behaviour are in docs/sandbox.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.salesforce_schema import FieldSecurity

Record = Mapping[str, Any]


def error(code: str, message: str, fields: tuple[str, ...] | list[str] = ()) -> dict[str, Any]:
    """One per-record error (note: ``statusCode``, not ``errorCode``)."""
    return {"statusCode": code, "message": message, "fields": list(fields)}


@dataclass(frozen=True)
class ValidationRule:
    """An org validation rule: ``fails(after, before)`` True refuses the record."""

    name: str
    sobject: str
    message: str
    fails: Callable[[Record, Record], bool]
    error_field: str | None = None
    active: bool = True


@dataclass(frozen=True)
class AssignmentRule:
    """The active lead assignment rule: ``owner_for(lead, store)`` -> new OwnerId or None."""

    name: str
    owner_for: Callable[[Record, Any], str | None]
    active: bool = True


def round_robin_by_country(lead: Record, store: Any) -> str | None:
    """The sandbox's example rule: one active rep per country (stable), else keep the owner."""
    reps = sorted(uid for uid, u in store.users.items() if u.get("IsActive") and u.get("IsRep"))
    if not reps:
        return None
    country = str(lead.get("Country") or "")
    digest = hashlib.sha256(country.encode()).digest()
    return reps[digest[0] % len(reps)]


def reason_required(org: SalesforceOrg) -> ValidationRule:
    """The usual rule that goes with a rejection status: a reason must be picked."""
    status, reason = org.rejection_status, org.rejection_reason_field
    return ValidationRule(
        name="Rejection_Reason_Required",
        sobject="Lead",
        message=f"Pick a {reason.removesuffix('__c').replace('_', ' ').lower()} "
        f"when the status is {status}.",
        error_field=reason,
        fails=lambda after, _before: after.get("Status") == status and not after.get(reason),
    )


@dataclass
class SalesforceOrg:
    """The emulated org's configuration; change fields at any time (tests do)."""

    security: FieldSecurity = field(default_factory=FieldSecurity)
    validation_rules: list[ValidationRule] = field(default_factory=list)
    assignment_rule: AssignmentRule | None = field(
        default_factory=lambda: AssignmentRule("Round robin by country", round_robin_by_country))
    #: whether a composite subrequest inherits the top-level Sforce-Auto-Assign header
    #: (documented: only Accept, Authorization and Content-Type are inherited)
    composite_inherits_auto_assign: bool = False
    #: collections of more than this many records fail in an org trigger (None: never)
    trigger_batch_limit: int | None = None
    #: the org permission "Update Records with Inactive Owners"
    inactive_owner_updates: bool = False
    #: queues configured to accept Tasks (Salesforce "queues for tasks")
    task_queues: bool = False
    #: field history tracking: sObject -> tracked fields (LeadHistory rows)
    history_tracked: dict[str, set[str]] = field(
        default_factory=lambda: {"Lead": {"Status", "Owner"}})
    #: HubSpot's own Salesforce sync creates a Lead this long after a contact becomes an MQL
    lead_sync_delay_seconds: float | None = None
    #: share of writes that SOQL only sees ``late_visible_seconds`` after their SystemModstamp
    late_visible_share: float = 0.0
    late_visible_seconds: float = 0.0
    #: closed tasks whose due date is older than this are archived (queryAll only)
    task_archive_days: int = 365
    rejection_status: str = "Closed - Not Converted"
    rejection_reason_field: str = "Rejection_Reason__c"
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.validation_rules:
            self.validation_rules = [reason_required(self)]

    def active_rules(self, sobject: str) -> list[ValidationRule]:
        return [r for r in self.validation_rules if r.active and r.sobject == sobject]


# -- per-record rules ------------------------------------------------------------------------


def validation_errors(org: SalesforceOrg, sobject: str, after: Record,
                      before: Record) -> list[dict[str, Any]]:
    """FIELD_CUSTOM_VALIDATION_EXCEPTION for every active rule the record breaks."""
    return [
        error("FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.message,
              [rule.error_field] if rule.error_field else [])
        for rule in org.active_rules(sobject)
        if rule.fails(after, before)
    ]


def owner_errors(org: SalesforceOrg, store: Any, sobject: str,
                 values: Record) -> list[dict[str, Any]]:
    """A Task given to a queue or an inactive user; a record given to an inactive user."""
    owner = values.get("OwnerId")
    if not isinstance(owner, str) or not owner:
        return []
    if owner.startswith("00G"):
        if sobject == "Task" and not org.task_queues:
            return [error("FIELD_INTEGRITY_EXCEPTION",
                          f"Assigned To ID: id value of incorrect type: {owner}", ["OwnerId"])]
        return []
    user = store.users.get(owner)
    if user is not None and not user.get("IsActive") and not org.inactive_owner_updates:
        return [error("INACTIVE_OWNER_OR_USER", "operation performed with inactive user")]
    return []


def auto_assign_requested(header: str | None) -> bool:
    """The Sforce-Auto-Assign header: absent or TRUE (any case) or a rule id -> assign."""
    if header is None:
        return True
    return header.strip().upper() != "FALSE"


def reassigned_owner(org: SalesforceOrg, store: Any, sobject: str, after: Record,
                     auto_assign: bool) -> str | None:
    """The OwnerId the active lead assignment rule gives ``after`` (None: unchanged)."""
    rule = org.assignment_rule
    if sobject != "Lead" or not auto_assign or rule is None or not rule.active:
        return None
    return rule.owner_for(after, store)


def trigger_errors(org: SalesforceOrg, sobject: str, batch_size: int) -> list[dict[str, Any]]:
    """What an org trigger that hit a governor limit leaves on every record of the batch."""
    limit = org.trigger_batch_limit
    if limit is None or batch_size <= limit:
        return []
    message = (f"{sobject}Trigger: execution of BeforeUpdate\n\ncaused by: "
               "System.LimitException: Too many SOQL queries: 101")
    return [error("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", message)]


def late_visible(org: SalesforceOrg, record_id: str, modstamp: str) -> bool:
    """Whether this version of the record is one SOQL sees late (deterministic per write)."""
    share = org.late_visible_share
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{org.seed}:{record_id}:{modstamp}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share
