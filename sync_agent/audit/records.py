"""Rows of the audit log as Python values: what the outbox carries, and their conversions.

Pure (no I/O): :mod:`sync_agent.audit.db` writes these, the engine reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sync_agent.model import (
    MQL,
    SLA_ACTION_SEP,
    Decision,
    Handoff,
    HandoffStatus,
    WriteState,
    _jsonable,
    sla_action_key,
)


def dumps(value: Any) -> str:
    """JSON for the audit columns: datetimes as ISO strings, unknown types as text."""
    return json.dumps(value, default=_jsonable, ensure_ascii=False, sort_keys=True)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True)
class NewDecision:
    """A decision to record, with a pending write for each of ``sinks`` (none: ``status``)."""

    mql: MQL
    decision: Decision
    handoff_key: str
    note: str
    sinks: tuple[str, ...] = ()
    status: HandoffStatus = HandoffStatus.SKIPPED
    fingerprint: str = ""


@dataclass(frozen=True)
class OutboxItem:
    """A write waiting for (or being retried by) a sink."""

    write_id: int
    decision_id: int
    sink: str
    attempts: int
    sent: bool
    handoff: Handoff
    created_at: datetime | None = None  # when the write was queued (how long it has waited)
    #: an SLA breach action (``mark``, ``escalate``, ``reassign``), not the handoff itself
    action: str = ""

    @property
    def key(self) -> str:
        """The key its sink answers under: the handoff's, or the action's."""
        return sla_action_key(self.handoff.key, self.action) if self.action else self.handoff.key


@dataclass(frozen=True)
class SinkPrior:
    """What one sink last got for a lead, whichever pipeline sent it."""

    accepted: bool  # an accepted handoff went to it: the lead is handed off there for good
    last: tuple[str, float, tuple[str, ...]] | None  # newest result sent: outcome, score, why


@dataclass(frozen=True)
class Prior:
    """What the log knows about a lead: per sink what it got (any pipeline), and this
    pipeline's latest decision (rules and content) for skipping unchanged re-reads."""

    sinks: Mapping[str, SinkPrior]
    rules_hash: str = ""
    fingerprint: str = ""

    def accepted_by(self, sink: str) -> bool:
        found = self.sinks.get(sink)
        return found is not None and found.accepted

    def unchanged_for(
        self, sink: str, outcome: str, score: float, reasons: tuple[str, ...]
    ) -> bool:
        """The sink already shows exactly this result (a re-decision that changed nothing)."""
        found = self.sinks.get(sink)
        return found is not None and found.last == (outcome, round(score, 6), tuple(reasons))


@dataclass(frozen=True)
class WriteUpdate:
    """A write's new state after a sink answered."""

    write_id: int
    state: WriteState
    error: str = ""
    target_id: str | None = None
    next_attempt_at: datetime | None = None
    refund: bool = False  # the attempt did not count (fatal error: operator must act)


def outbox_item(row: Mapping[str, Any]) -> OutboxItem:
    """Rebuild the handoff a write carries from its decision row (resume after a crash)."""
    modified = row["modified_at"]
    mql = MQL(
        source=row["source"],
        source_id=row["source_id"],
        fields=json.loads(row["snapshot"]),
        modified_at=datetime.fromisoformat(modified) if modified else None,
        crm_ids=json.loads(row["crm_ids"]),
    )
    handoff = slim_handoff(row["handoff_key"], mql, decision_from_row(row), row["note"])
    created = row.get("wcreated")
    write_key = row.get("write_key") or row["handoff_key"]
    action = write_key.rpartition(SLA_ACTION_SEP)[2] if write_key != row["handoff_key"] else ""
    return OutboxItem(
        int(row["wid"]),
        int(row["id"]),
        row["sink"],
        int(row["attempts"]),
        bool(row["sent"]),
        handoff,
        datetime.fromisoformat(created) if created else None,
        action,
    )


def slim_handoff(key: str, mql: MQL, decision: Decision, note: str) -> Handoff:
    """The handoff as sinks get it: canonical fields only, no explanation tree.

    Sinks write SAL fields from the outcome, score, reasons and dates, match by the
    canonical fields and crm ids, and take the context from the note; the full snapshot and
    explanation stay in the audit log. Keeping write batches small in memory is what lets a
    100,000-lead backfill run in constant memory with large batches in flight.
    """
    fields = {k: v for k, v in mql.fields.items() if "." not in k}
    return Handoff(
        key,
        replace(mql, fields=fields),
        replace(decision, explanation=()),
        note,
    )


def decision_from_row(row: Mapping[str, Any]) -> Decision:
    return Decision.from_dict(
        {
            "outcome": row["outcome"],
            "score": row["score"],
            "reasons": json.loads(row["reasons"]),
            "explanation": json.loads(row["explanation"]),
            "ruleset_name": row["rules_name"],
            "ruleset_hash": row["rules_hash"],
            "decided_at": row["decided_at"],
            "fast_lane": row["fast_lane"],
        }
    )


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
