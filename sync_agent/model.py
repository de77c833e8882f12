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
#: Values may arrive as strings (HubSpot sends every property as a string); the rules
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

#: Prefix under which a source's raw, unmapped properties stay reachable by rules,
#: e.g. ``hubspot.hs_analytics_source`` or ``salesforce.Rating``.
RAW_PREFIXES = ("hubspot.", "salesforce.")


@dataclass(frozen=True)
class MQL:
    """A marketing qualified lead as read from a source, in canonical form.

    ``fields`` holds canonical names (and ``<source>.<property>`` raw names) mapped to
    the values as the source sent them. ``crm_ids`` links the same person in other
    systems, e.g. ``{"hubspot": "101", "salesforce": "00Q..."}``.
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
    ``note`` is the context note for sales (why accepted, signals, follow-up SLA).
    """

    key: str
    mql: MQL
    decision: Decision
    note: str


class WriteStatus(StrEnum):
    WRITTEN = "written"
    SKIPPED = "skipped"  # nothing to write, with a reason (converted lead, no match, ...)
    RETRYABLE = "retryable"  # failed for now: retry later
    PERMANENT = "permanent"  # failed for good: park as dead letter


@dataclass(frozen=True)
class WriteResult:
    """What a sink did with one handoff."""

    key: str
    status: WriteStatus
    reason: str = ""
    target_id: str | None = None  # the record written in the target system


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)
