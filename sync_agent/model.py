"""Domain types shared by every layer: the canonical MQL, the decision, the handoff.

Connectors map their source records onto :class:`MQL` (canonical field names, see
:data:`CANONICAL_FIELDS`); the rules engine turns an MQL into a :class:`Decision`; the
sync engine wraps an accepted or rejected decision into a :class:`Handoff` for the sinks,
which answer with one :class:`WriteResult` per handoff. All types are plain frozen
dataclasses so they pickle, compare and serialise without surprises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

FieldType = Literal["string", "number", "date", "bool"]

#: Canonical lead fields and the type the rules engine coerces them to.
#: Values may arrive as strings (some APIs send every property as a string); the rules
#: engine coerces at comparison time and records an uncoercible value as "not met".
CANONICAL_FIELDS: Mapping[str, FieldType] = {
    "email": "string",
    "first_name": "string",
    "last_name": "string",
    "company": "string",
    "title": "string",
    "phone": "string",
    "industry": "string",
    "employees": "number",
    "annual_revenue": "number",
    "country": "string",
    "lead_score": "number",
    "lifecycle_stage": "string",
    "lead_source": "string",
    "mql_date": "date",
    "last_activity_date": "date",
    "created_date": "date",
    # intent signals
    "demo_requested": "bool",
    "trial_started": "bool",
    "webinar_attended_date": "date",
    "pricing_page_views": "number",
    "page_views": "number",
    "conversion_events": "number",
    "recent_conversion": "string",
    # BANT
    "budget": "string",
    "authority": "string",
    "need": "string",
    "timeline": "string",
    # relationship flags
    "is_customer": "bool",
}

#: The field of a lead that says which canonical fields a source read from a related record
#: (``{"employees": "company.numberofemployees"}``): kept with the lead's snapshot, shown
#: in explanations; no rule can use it (it is not a canonical field).
FIELD_ORIGINS = "field_origins"


@dataclass(frozen=True)
class MQL:
    """A marketing qualified lead as read from a source, in canonical form.

    ``fields`` holds canonical names (and ``<raw prefix>.<property>`` raw names) mapped to
    the values as the source sent them. ``crm_ids`` links the same person in systems:
    its own id under the source instance's name, and ids the source knows in other
    systems under their connector type's name (``{"eu-portal": "101", "crm": "00Q..."}``).
    """

    source: str
    source_id: str
    fields: Mapping[str, Any]
    modified_at: datetime | None = None
    crm_ids: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Stable identity of the lead across runs: ``<source>:<id>``."""
        return f"{self.source}:{self.source_id}"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    REVIEW = "review"


@dataclass(frozen=True)
class Check:
    """One node of a decision's explanation.

    ``kind`` is one of gate, disqualifier, criterion, fast_lane, threshold, condition.
    ``value`` is the actual value seen (conditions only); ``points``/``max_points`` are
    set on criteria; ``children`` hold the conditions a node was made of.
    """

    kind: str
    name: str
    passed: bool
    detail: str = ""
    value: Any = None
    points: float | None = None
    max_points: float | None = None
    children: tuple[Check, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name, "passed": self.passed}
        if self.detail:
            out["detail"] = self.detail
        if self.value is not None:
            out["value"] = _jsonable(self.value)
        if self.points is not None:
            out["points"] = self.points
            out["max_points"] = self.max_points
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        return cls(
            kind=data["kind"],
            name=data["name"],
            passed=bool(data["passed"]),
            detail=data.get("detail", ""),
            value=data.get("value"),
            points=data.get("points"),
            max_points=data.get("max_points"),
            children=tuple(cls.from_dict(c) for c in data.get("children", ())),
        )


@dataclass(frozen=True)
class Decision:
    """The outcome of evaluating one lead against one ruleset version.

    ``reasons`` are short, human-readable strings (gate/disqualifier names, "score 82 >= 70",
    "fast lane: trial_and_webinar"); ``explanation`` is the full tree of checks.
    ``ruleset_hash`` identifies the exact ruleset content that decided.
    """

    outcome: Outcome
    score: float
    reasons: tuple[str, ...]
    explanation: tuple[Check, ...]
    ruleset_name: str
    ruleset_hash: str
    decided_at: datetime
    fast_lane: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "score": self.score,
            "reasons": list(self.reasons),
            "explanation": [c.to_dict() for c in self.explanation],
            "ruleset_name": self.ruleset_name,
            "ruleset_hash": self.ruleset_hash,
            "decided_at": self.decided_at.isoformat(),
            "fast_lane": self.fast_lane,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            outcome=Outcome(data["outcome"]),
            score=float(data["score"]),
            reasons=tuple(data.get("reasons", ())),
            explanation=tuple(Check.from_dict(c) for c in data.get("explanation", ())),
            ruleset_name=data["ruleset_name"],
            ruleset_hash=data["ruleset_hash"],
            decided_at=datetime.fromisoformat(data["decided_at"]),
            fast_lane=data.get("fast_lane"),
        )


@dataclass(frozen=True)
class Handoff:
    """A decision on its way to a CRM.

    ``key`` is the idempotency key of this handoff (stable across retries and restarts):
    sinks use it so that a retried write never creates a second note or task.
    ``note`` is the context note for sales (why accepted, signals, follow-up SLA);
    ``follow_up_hours`` and ``due_at`` are the agent's follow-up SLA for it, so every sink
    (a note's text, a task's due date) states the same deadline.
    """

    key: str
    mql: MQL
    decision: Decision
    note: str
    follow_up_hours: float = 24.0
    due_at: datetime | None = None


class WriteState(StrEnum):
    """A write's state: in the outbox (``writes.state``) and in what a sink answers.

    A sink answers WRITTEN, SKIPPED (nothing to write, with a reason: converted lead...),
    WAITING (the record to write to does not exist yet: a CRM sync creates it later),
    RETRYABLE (failed for now) or DEAD (failed for good: a dead letter that only ``replay``
    brings back). The outbox adds PENDING (not sent yet) and IN_FLIGHT (handed to a sink;
    a crash here makes the next attempt reconcile).
    """

    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    WRITTEN = "written"
    SKIPPED = "skipped"
    WAITING = "waiting"
    RETRYABLE = "retryable"
    DEAD = "dead"


#: Writes still to be (re)sent.
OPEN_WRITES = (WriteState.PENDING, WriteState.IN_FLIGHT, WriteState.RETRYABLE, WriteState.WAITING)


class HandoffStatus(StrEnum):
    """A decision's status (``decisions.status``): its writes rolled up (worst first:
    dead, retryable, pending, waiting, written, skipped), or DRY_RUN when nothing was to
    be written."""

    PENDING = WriteState.PENDING.value
    WRITTEN = WriteState.WRITTEN.value
    SKIPPED = WriteState.SKIPPED.value
    WAITING = WriteState.WAITING.value
    RETRYABLE = WriteState.RETRYABLE.value
    DEAD = WriteState.DEAD.value
    DRY_RUN = "dry_run"


class OutcomeKind(StrEnum):
    """What sales did after a handoff (``outcomes.kind``), read back from a CRM."""

    FIRST_TOUCH = "first_touch"  # a person acted on the lead (task done, status moved, ...)
    SQL = "sql"  # sales qualified it
    OPPORTUNITY = "opportunity"  # converted / an opportunity exists
    REJECTED = "rejected"  # sales rejected it (with a reason when the CRM has one)
    RECYCLED = "recycled"  # sent back to marketing / nurture
    SLA_BREACHED = "sla_breached"  # no first touch within the follow-up SLA


class SlaActionKind(StrEnum):
    """What a follow-up SLA breach makes a sink do in its CRM (``[sla] actions``)."""

    MARK = "mark"  # set the lead's SLA status field/property to "breached"
    ESCALATE = "escalate"  # a task (or note) for a configured user or the owner's manager
    REASSIGN = "reassign"  # give the lead to a configured owner or queue


#: what joins an SLA action's key to its handoff's: ``<handoff key>:sla:<kind>``
SLA_ACTION_SEP = ":sla:"


def sla_action_key(handoff_key: str, kind: SlaActionKind | str) -> str:
    """The idempotency key of one breach action of a handoff."""
    return f"{handoff_key}{SLA_ACTION_SEP}{SlaActionKind(kind).value}"


@dataclass(frozen=True)
class SlaAction:
    """One breach action for a sink (``Sink.act``), queued once through the outbox.

    ``key`` is its idempotency key (``<handoff key>:sla:<kind>``): a retry or a replay
    updates what the first attempt made instead of making it twice. ``handoff`` is the
    accepted handoff it follows (its lead, its note); ``target`` the configured user or
    queue (escalation: "" = the lead owner's manager).
    """

    key: str
    kind: SlaActionKind
    handoff: Handoff
    deadline: datetime
    target: str = ""


def sql_in(*states: StrEnum) -> str:
    """``('a','b')`` for SQL ``IN``; the states are this module's enum values, never input."""
    return "(" + ",".join(f"'{s.value}'" for s in states) + ")"


@dataclass(frozen=True)
class WriteResult:
    """What a sink did with one handoff."""

    key: str
    status: WriteState
    reason: str = ""
    target_id: str | None = None  # the record written in the target system
    #: RETRYABLE, and the write may have landed (a create whose answer was lost): the retry
    #: reconciles, and only once the target can show what landed (``reconcile_after``)
    uncertain: bool = False


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)
