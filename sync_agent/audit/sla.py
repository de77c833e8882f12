"""The audit side of the SLA watch: what it reads and the one transaction it writes.

A breach is two things committed together (:func:`record_breaches`): an ``outcomes`` row
of kind ``sla_breached`` (``UNIQUE (handoff_key, system, kind)``: at most one per handoff)
and, only when that row is new, one pending outbox write per configured action and sink.
A crash before the commit leaves nothing (the next watch finds the breach again); after
it, the writes are in the outbox and the next run's resume sends them. So a breach is
recorded once and each action queued once, whatever is killed when.

An action's write is an ordinary ``writes`` row of the accepted decision whose
``handoff_key`` is the action key ``<handoff key>:sla:<kind>``: retries, dead letters,
``replay`` and the in-flight reconciliation of the outbox apply to it unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync_agent.audit.db import AuditLog
from sync_agent.audit.records import chunks, dumps, iso
from sync_agent.model import (
    OutcomeKind,
    SlaActionKind,
    WriteState,
    sla_action_key,
)

#: ``outcomes.system`` of a breach: the agent's own watch judged it, over every system's
#: first touches (a read-back row names the connector instance it came from instead).
SLA_SYSTEM = "sla-watch"
action_key = sla_action_key  # ``<handoff key>:sla:<kind>``


@dataclass(frozen=True)
class Watched:
    """An accepted handoff the watch judges: written to ``sinks``, no breach recorded yet."""

    decision_id: int
    lead_key: str
    handoff_key: str
    decided_at: datetime
    sinks: tuple[str, ...]


@dataclass(frozen=True)
class Touch:
    """The earliest first touch recorded for a handoff (any system), and the lead owner
    the read-back saw (the newest ``detail["owner"]`` of its outcome rows)."""

    at: datetime | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Breach:
    """A breach to record, with the actions to queue: ``(sink, kind)`` pairs."""

    watched: Watched
    deadline: datetime
    owner: str | None
    actions: Sequence[tuple[str, SlaActionKind]] = field(default_factory=tuple)


def watched(audit: AuditLog, pipeline: str) -> list[Watched]:
    """Accepted handoffs of ``pipeline`` that reached a sink and have no breach recorded."""
    rows = audit.rows(
        "SELECT d.id, d.lead_key, d.handoff_key, d.decided_at, group_concat(DISTINCT w.sink) "
        "AS sinks FROM decisions d JOIN writes w ON w.decision_id = d.id "
        "AND w.handoff_key = d.handoff_key "
        "WHERE d.pipeline = ? AND d.outcome = 'accepted' AND d.dry_run = 0 "
        f"AND w.state = '{WriteState.WRITTEN}' AND w.superseded = 0 "
        "AND NOT EXISTS (SELECT 1 FROM outcomes o WHERE o.handoff_key = d.handoff_key "
        f"AND o.kind = '{OutcomeKind.SLA_BREACHED}') GROUP BY d.id ORDER BY d.id",
        (pipeline,),
    )
    return [
        Watched(int(r["id"]), r["lead_key"], r["handoff_key"],
                datetime.fromisoformat(r["decided_at"]), tuple(sorted(r["sinks"].split(","))))
        for r in rows
    ]


def touches(audit: AuditLog, handoff_keys: Sequence[str]) -> dict[str, Touch]:
    """What the read-back recorded for these handoffs: earliest first touch, owner."""
    out: dict[str, Touch] = {}
    for chunk in chunks(list(handoff_keys), 500):
        marks = ",".join("?" * len(chunk))
        rows = audit.rows(
            f"SELECT handoff_key, kind, at, detail FROM outcomes WHERE handoff_key IN ({marks}) "
            "ORDER BY id", chunk)
        for r in rows:
            seen = out.get(r["handoff_key"], Touch())
            at, owner = seen.at, seen.owner
            if r["kind"] == OutcomeKind.FIRST_TOUCH:
                when = _aware(r["at"])
                if when is not None and (at is None or when < at):
                    at = when
            found = _owner(r["detail"])
            out[r["handoff_key"]] = Touch(at, found or owner)
    return out


def record_breaches(
    audit: AuditLog, pipeline: str, breaches: Iterable[Breach], now: datetime
) -> list[int]:
    """ONE transaction: each breach's outcome row and, if it is new, its action writes.
    Returns the ids of the writes queued."""
    queued: list[int] = []
    with audit.transaction() as c:
        for b in breaches:
            w = b.watched
            detail = {"deadline": iso(b.deadline), "owner": b.owner,
                      "actions": [f"{sink}:{kind.value}" for sink, kind in b.actions]}
            cur = c.execute(
                "INSERT OR IGNORE INTO outcomes (lead_key, handoff_key, system, kind, at, "
                "detail, recorded_at) VALUES (?,?,?,?,?,?,?)",
                (w.lead_key, w.handoff_key, SLA_SYSTEM, OutcomeKind.SLA_BREACHED,
                 iso(b.deadline), dumps(detail), iso(now)))
            if not cur.rowcount:
                continue
            for sink, kind in b.actions:
                cur = c.execute(
                    "INSERT OR IGNORE INTO writes (decision_id, pipeline, sink, handoff_key, "
                    "state, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                    (w.decision_id, pipeline, sink, action_key(w.handoff_key, kind),
                     WriteState.PENDING, iso(now), iso(now)))
                if cur.rowcount:
                    queued.append(int(cur.lastrowid or 0))
    return queued


def record_outcome(
    audit: AuditLog, *, lead_key: str, handoff_key: str, system: str, kind: OutcomeKind,
    at: datetime, now: datetime, detail: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> bool:
    """Insert one outcome event (idempotent per handoff, system and kind); True when new.
    The watch never calls it: the read-back owns first touches; tests and tools do."""
    with audit.transaction() as c:
        cur = c.execute(
            "INSERT OR IGNORE INTO outcomes (lead_key, handoff_key, system, kind, at, reason, "
            "detail, recorded_at) VALUES (?,?,?,?,?,?,?,?)",
            (lead_key, handoff_key, system, kind, iso(at), reason, dumps(dict(detail or {})),
             iso(now)))
        return bool(cur.rowcount)


def open_breaches(audit: Any) -> dict[str, int]:
    """Breaches no first touch has followed yet, by pipeline (for ``sync-agent sla``)."""
    rows = audit.rows(
        "SELECT d.pipeline, COUNT(DISTINCT o.handoff_key) AS n FROM outcomes o "
        "JOIN decisions d ON d.lead_key = o.lead_key AND d.handoff_key = o.handoff_key "
        f"WHERE o.kind = '{OutcomeKind.SLA_BREACHED}' AND NOT EXISTS (SELECT 1 FROM outcomes t "
        f"WHERE t.handoff_key = o.handoff_key AND t.kind = '{OutcomeKind.FIRST_TOUCH}') "
        "GROUP BY d.pipeline")
    return {r["pipeline"]: int(r["n"]) for r in rows}


def _aware(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # naive: taken as UTC


def _owner(detail: str | None) -> str | None:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return None
    owner = data.get("owner") if isinstance(data, dict) else None
    return str(owner) if owner not in (None, "") else None
