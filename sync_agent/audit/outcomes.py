"""The ``outcomes`` table: what sales did after each handoff, as append-only events.

One row per (handoff, system, kind), written with ``INSERT OR IGNORE``: the first reading
of a fact stays, re-reading it changes nothing (``UNIQUE (handoff_key, system, kind)``,
migration v3). :func:`open_handoffs` lists what is still worth asking a system about: the
accepted handoffs written to it within a lookback window whose story has not finished
(no ``opportunity``, ``rejected`` or ``recycled`` recorded in that system yet).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sync_agent.audit.db import AuditLog
from sync_agent.model import Outcome, OutcomeKind, WriteState, sql_in

#: Kinds after which a handoff's story in that system is over: it is not read again.
FINAL = (OutcomeKind.OPPORTUNITY, OutcomeKind.REJECTED, OutcomeKind.RECYCLED)


@dataclass(frozen=True)
class OpenHandoff:
    """An accepted handoff a sink wrote, with what the outcome reader needs of it."""

    handoff_key: str
    lead_key: str
    source: str
    source_id: str
    crm_ids: Mapping[str, str]
    decided_at: datetime
    target_id: str | None
    known: frozenset[str]


@dataclass(frozen=True)
class NewOutcome:
    """One event to record (``kind`` an :class:`OutcomeKind` value)."""

    handoff_key: str
    lead_key: str
    kind: str
    at: datetime
    reason: str | None = None
    detail: Mapping[str, Any] | None = None


_OPEN = f"""
SELECT d.handoff_key, d.lead_key, d.source, d.source_id, d.crm_ids, d.decided_at,
       w.target_id,
       (SELECT group_concat(o.kind) FROM outcomes o
         WHERE o.handoff_key = d.handoff_key AND o.system = w.sink) AS known
FROM writes w JOIN decisions d ON d.id = w.decision_id
WHERE w.pipeline = :pipeline AND w.sink = :sink AND w.state = '{WriteState.WRITTEN.value}'
  AND d.outcome = '{Outcome.ACCEPTED.value}' AND d.dry_run = 0 AND d.decided_at >= :since
  AND NOT EXISTS (SELECT 1 FROM outcomes f WHERE f.handoff_key = d.handoff_key
                  AND f.system = w.sink AND f.kind IN {sql_in(*FINAL)})
ORDER BY d.decided_at, d.id
"""


def open_handoffs(audit: AuditLog, pipeline: str, sink: str,
                  since: datetime) -> list[OpenHandoff]:
    """Accepted handoffs of ``pipeline`` written to ``sink`` since ``since``, unfinished there."""
    out: dict[str, OpenHandoff] = {}
    for row in audit.rows(_OPEN, {"pipeline": pipeline, "sink": sink,
                                  "since": since.isoformat()}):
        if row["handoff_key"] in out:
            continue
        try:
            ids = json.loads(row["crm_ids"] or "{}")
        except ValueError:
            ids = {}
        out[row["handoff_key"]] = OpenHandoff(
            row["handoff_key"], row["lead_key"], row["source"], row["source_id"],
            {str(k): str(v) for k, v in ids.items()} if isinstance(ids, dict) else {},
            datetime.fromisoformat(row["decided_at"]), row["target_id"],
            frozenset((row["known"] or "").split(",")) - {""})
    return list(out.values())


def record_outcomes(audit: AuditLog, system: str, events: Sequence[NewOutcome],
                    now: datetime) -> list[NewOutcome]:
    """Insert the events not recorded yet (one transaction); return those that were new."""
    added: list[NewOutcome] = []
    with audit.transaction() as conn:
        for e in events:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO outcomes (lead_key, handoff_key, system, kind, at, "
                "reason, detail, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (e.lead_key, e.handoff_key, system, OutcomeKind(e.kind).value,
                 e.at.isoformat(), e.reason, json.dumps(dict(e.detail or {}), default=str),
                 now.isoformat()))
            if cursor.rowcount:
                added.append(e)
    return added


def last_read(audit: AuditLog, pipeline: str, sink: str) -> datetime | None:
    """When ``sink``'s outcomes were last read back for ``pipeline`` (a ``cursors`` row of
    kind ``outcomes:<sink>``), or None."""
    position = audit.get_cursor(pipeline, f"outcomes:{sink}") or {}
    stamp = position.get("read_at")
    try:
        return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None


def mark_read(audit: AuditLog, pipeline: str, sink: str, now: datetime) -> None:
    """Remember that ``sink``'s outcomes were read back now (see :func:`last_read`)."""
    with audit.transaction() as conn:
        conn.execute(
            "INSERT INTO cursors (pipeline, kind, position, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (pipeline, kind) DO UPDATE SET position = excluded.position, "
            "updated_at = excluded.updated_at",
            (pipeline, f"outcomes:{sink}", json.dumps({"read_at": now.isoformat()}),
             now.isoformat()))


def outcomes_of(audit: AuditLog, *, handoff_key: str | None = None,
                lead_key: str | None = None, system: str | None = None,
                kind: str | None = None) -> list[dict[str, Any]]:
    """Recorded outcome events (``detail`` parsed), oldest first, optionally filtered."""
    where, params = [], []
    for column, value in (("handoff_key", handoff_key), ("lead_key", lead_key),
                          ("system", system), ("kind", kind)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = "SELECT * FROM outcomes" + (" WHERE " + " AND ".join(where) if where else "")
    rows = audit.rows(sql + " ORDER BY at, id", params)
    for row in rows:
        try:
            row["detail"] = json.loads(row["detail"] or "{}")
        except ValueError:
            row["detail"] = {}
    return rows


def outcomes_by_handoff(audit: AuditLog, **filters: Any) -> dict[str, list[dict[str, Any]]]:
    """:func:`outcomes_of`, grouped by handoff key."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in outcomes_of(audit, **filters):
        out.setdefault(row["handoff_key"], []).append(row)
    return out
