"""The audit database: the ONE module that writes the SQLite file.

It holds the outbox that makes write-back exactly-once: a page's decisions, their pending
writes (one per sink) and the cursor that covers them are committed in one transaction
before any CRM call; writes are marked in flight (committed) before a sink is called and
their results committed after. Everything else reads through :mod:`sync_agent.audit.queries`.

The file is created mode 0600, runs in WAL mode (readers in other processes never block
the agent) and carries its schema version in ``PRAGMA user_version``. One connection is
shared by the agent's threads behind a re-entrant lock.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sync_agent.audit.migrations import migrate
from sync_agent.audit.queries import QueriesMixin
from sync_agent.audit.records import (
    OUTBOX_COLUMNS,
    NewDecision,
    OutboxItem,
    Prior,
    SinkPrior,
    WriteUpdate,
    chunks,
    decision_from_row,
    dumps,
    explanation_json,
    iso,
    outbox_items,
    slim_handoff,
)
from sync_agent.model import OPEN_WRITES, HandoffStatus, WriteState, _jsonable, sql_in

__all__ = ["AuditLog", "NewDecision", "OutboxItem", "Prior", "WriteUpdate", "decision_from_row"]

#: (event id, record id, kind, occurred at in epoch ms, whether its record must be read)
WebhookRow = tuple[str, str, str, int | None, bool]

_OPEN = sql_in(*OPEN_WRITES)
_SUPERSEDABLE = sql_in(
    WriteState.PENDING, WriteState.IN_FLIGHT, WriteState.RETRYABLE, WriteState.WAITING,
    WriteState.DEAD,
)
_UNSETTLED = sql_in(WriteState.PENDING, WriteState.RETRYABLE, WriteState.WAITING, WriteState.DEAD)
#: writes whose result a sink was (or will be) given: what it shows for the lead
_SENT = sql_in(WriteState.WRITTEN, WriteState.PENDING, WriteState.IN_FLIGHT, WriteState.RETRYABLE)


class AuditLog(QueriesMixin):
    """Owner of the audit database file."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self.db = db
        self.path = path
        self.conn: sqlite3.Connection = db.conn
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | Path) -> AuditLog:
        """Open (creating mode 0600 and migrating as needed) the audit database at ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL, not NORMAL: a power loss must not undo the in-flight mark committed before a
        # CRM call, or the re-send would skip reconciliation and duplicate a note.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
        return cls(sqlite_utils.Database(conn), path)

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE .. COMMIT), rolled back on any error."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Read rows as dicts (under the lock, so the writer thread never interleaves)."""
        with self._lock:
            return list(self.db.query(sql, params))

    # ------------------------------------------------------------------ runs and events

    def start_run(
        self, pipeline: str, mode: str, now: datetime, rules_name: str = "", rules_hash: str = ""
    ) -> int:
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (pipeline, mode, started_at, rules_name, rules_hash) VALUES "
                "(?,?,?,?,?)",
                (pipeline, mode, iso(now), rules_name, rules_hash),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, now: datetime, outcome: str, counts: Mapping[str, int], error: str = ""
    ) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET ended_at=?, outcome=?, counts=?, error=? WHERE id=?",
                (iso(now), outcome, dumps(dict(counts)), error or None, run_id),
            )

    def record_event(
        self, kind: str, message: str, now: datetime, pipeline: str | None = None
    ) -> None:
        with self.transaction() as c:
            c.execute(
                "INSERT INTO events (at, pipeline, kind, message) VALUES (?,?,?,?)",
                (iso(now), pipeline, kind, message),
            )

    # ------------------------------------------------------------------ connector state

    def connector_states(self, config: Any) -> dict[str, ConnectorState]:
        """A :class:`ConnectorState` for each connector instance of ``config``."""
        return {name: ConnectorState(self, name) for name in config.connectors}

    def get_state(self, instance: str, key: str) -> Any:
        found = self.rows(
            "SELECT value FROM connector_state WHERE instance=? AND key=?", (instance, key)
        )
        return json.loads(found[0]["value"]) if found else None

    def put_state(self, instance: str, items: Mapping[str, Any], now: datetime) -> None:
        """Save several values of one connector instance in one transaction."""
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO connector_state (instance, key, value, updated_at) VALUES (?,?,?,?) "
                "ON CONFLICT (instance, key) DO UPDATE SET value=excluded.value, "
                "updated_at=excluded.updated_at",
                [(instance, key, dumps(value), iso(now)) for key, value in items.items()],
            )

    # ------------------------------------------------------------------ cursors

    def get_cursor(self, pipeline: str, kind: str = "run") -> dict[str, Any] | None:
        found = self.rows(
            "SELECT position FROM cursors WHERE pipeline=? AND kind=?", (pipeline, kind)
        )
        return json.loads(found[0]["position"]) if found else None

    def _save_cursor(
        self,
        c: sqlite3.Connection,
        pipeline: str,
        kind: str,
        position: Mapping[str, Any],
        now: datetime,
    ) -> None:
        c.execute(
            "INSERT INTO cursors (pipeline, kind, position, updated_at) VALUES (?,?,?,?) "
            "ON CONFLICT (pipeline, kind) DO UPDATE SET position=excluded.position, "
            "updated_at=excluded.updated_at",
            (pipeline, kind, dumps(dict(position)), iso(now)),
        )

    # ------------------------------------------------------------------ the outbox

    def priors(self, pipeline: str, lead_keys: Sequence[str]) -> dict[str, Prior]:
        """What each known lead's sinks got (from any pipeline), and ``pipeline``'s latest
        decision of it; dry runs never count. Leads never decided are absent."""
        sinks: dict[str, dict[str, SinkPrior]] = defaultdict(dict)
        latest: dict[str, tuple[str, str]] = {}
        for chunk in chunks(list(lead_keys), 500):
            marks = ",".join("?" * len(chunk))
            sql = (
                "SELECT d.lead_key, w.sink, MAX(d.outcome = 'accepted') AS accepted, "
                # CROSS JOIN: walk the lead's decisions (indexed), not every write of the sink
                "(SELECT d2.outcome || char(31) || d2.score || char(31) || d2.reasons "
                " FROM decisions d2 CROSS JOIN writes w2 INDEXED BY writes_decision "
                " ON w2.decision_id = d2.id "
                " WHERE d2.lead_key = d.lead_key AND w2.sink = w.sink "
                f" AND w2.state IN {_SENT} ORDER BY d2.id DESC LIMIT 1) AS last "
                "FROM writes w JOIN decisions d ON d.id = w.decision_id "
                # +d.dry_run: look the leads up by key (decisions_lead), never walk the
                # report's (dry_run, decided_at, ...) index over every decision
                f"WHERE +d.dry_run = 0 AND d.lead_key IN ({marks}) GROUP BY d.lead_key, w.sink"
            )
            for row in self.rows(sql, chunk):
                sinks[row["lead_key"]][row["sink"]] = SinkPrior(
                    bool(row["accepted"]), _last_sent(row["last"])
                )
            sql = (
                "SELECT lead_key, rules_hash, IFNULL(fingerprint, '') AS fingerprint "
                "FROM decisions WHERE id IN (SELECT MAX(id) FROM decisions WHERE pipeline = ? "
                f"AND +dry_run = 0 AND lead_key IN ({marks}) GROUP BY lead_key)"
            )
            for row in self.rows(sql, [pipeline, *chunk]):
                latest[row["lead_key"]] = (row["rules_hash"], row["fingerprint"])
        return {
            key: Prior(sinks.get(key, {}), *latest.get(key, ("", "")))
            for key in set(sinks) | set(latest)
        }

    def record_page(
        self,
        *,
        run_id: int,
        pipeline: str,
        decisions: Sequence[NewDecision],
        malformed: Sequence[tuple[str, str]],
        source: str,
        now: datetime,
        cursor: tuple[str, Mapping[str, Any]] | None,
        dry_run: bool = False,
    ) -> list[OutboxItem]:
        """ONE transaction: decisions, their pending writes, malformed leads, the page's cursor."""
        items: list[OutboxItem] = []
        with self.transaction() as c:
            for new in decisions:
                decision_id = self._insert_decision(c, run_id, pipeline, new, now, dry_run)
                if new.sinks and not dry_run:
                    handoff = slim_handoff(new.handoff_key, new.mql, new.decision, new.note)
                    for sink in new.sinks:
                        self._supersede(c, sink, new.mql.key, decision_id, now)
                        cur = c.execute(
                            "INSERT INTO writes (decision_id, pipeline, sink, handoff_key, "
                            "state, created_at, updated_at) "
                            "VALUES (?,?,?,?,?,?,?)",
                            (decision_id, pipeline, sink, new.handoff_key, WriteState.PENDING,
                             iso(now), iso(now)),
                        )
                        items.append(
                            OutboxItem(
                                int(cur.lastrowid or 0), decision_id, sink, 0, False, handoff, now
                            )
                        )
            c.executemany(
                "INSERT INTO malformed (run_id, pipeline, source, raw_id, reason, seen_at) "
                "VALUES (?,?,?,?,?,?)",
                [
                    (run_id, pipeline, source, str(raw), str(reason), iso(now))
                    for raw, reason in malformed
                ],
            )
            if cursor is not None:
                self._save_cursor(c, pipeline, cursor[0], cursor[1], now)
        return items

    @staticmethod
    def _supersede(
        c: sqlite3.Connection, sink: str, lead_key: str, decision_id: int, now: datetime
    ) -> None:
        """Older writes of this lead to this sink (from any pipeline) must never land after
        the new decision's: a late retry, or the reconciling re-send of one a crash cut off in
        flight, would put an outdated SAL status back. They are marked superseded (never due
        again, whatever result still comes back for them) and, unless settled, skipped; their
        decisions' status is rolled up again."""
        older = (  # CROSS JOIN: from the lead's decisions (indexed), not the sink's writes
            "SELECT w.id FROM decisions d CROSS JOIN writes w INDEXED BY writes_decision "
            "ON w.decision_id = d.id "
            "WHERE d.lead_key = ? AND d.id < ? AND w.sink = ? AND w.superseded = 0"
        )
        ids = [r[0] for r in c.execute(older, (lead_key, decision_id, sink))]
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        c.execute(
            "UPDATE writes SET superseded = 1, state = CASE WHEN state IN "
            f"{_SUPERSEDABLE} THEN ? ELSE state END, last_error = CASE WHEN state IN "
            f"{_SUPERSEDABLE} THEN 'superseded by a newer decision' ELSE last_error END, "
            f"next_attempt_at = NULL, updated_at = ? WHERE id IN ({marks})",
            (WriteState.SKIPPED, iso(now), *ids),
        )
        c.execute(_ROLLUP.format(marks=marks), ids)

    def _insert_decision(
        self,
        c: sqlite3.Connection,
        run_id: int,
        pipeline: str,
        new: NewDecision,
        now: datetime,
        dry_run: bool,
    ) -> int:
        m, d = new.mql, new.decision
        mql_date = m.fields.get("mql_date")
        status = (
            HandoffStatus.DRY_RUN
            if dry_run
            else (HandoffStatus.PENDING if new.sinks else new.status)
        )
        cur = c.execute(
            "INSERT INTO decisions (run_id, pipeline, lead_key, source, source_id, crm_ids, "
            "outcome, score, "
            "reasons, explanation, fast_lane, rules_name, rules_hash, snapshot, modified_at, "
            "fingerprint, "
            "mql_date, decided_at, handoff_key, note, dry_run, status) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                run_id,
                pipeline,
                m.key,
                m.source,
                m.source_id,
                dumps(dict(m.crm_ids)),
                d.outcome.value,
                d.score,
                dumps(list(d.reasons)),
                explanation_json(d.explanation),
                d.fast_lane,
                d.ruleset_name,
                d.ruleset_hash,
                dumps(dict(m.fields)),
                iso(m.modified_at),
                new.fingerprint,
                _jsonable(mql_date) if mql_date is not None else None,
                iso(d.decided_at),
                new.handoff_key,
                new.note,
                int(dry_run),
                status,
            ),
        )
        return int(cur.lastrowid or 0)

    def mark_in_flight(
        self, write_ids: Sequence[int], now: datetime, reconcile_at: datetime | None = None
    ) -> None:
        """Committed BEFORE a sink is called: a crash after this makes the retry reconcile,
        not before ``reconcile_at`` (the results, when they come, set the next attempt)."""
        with self.transaction() as c:
            c.executemany(
                "UPDATE writes SET state=?, attempts=attempts+1, sent=1, "
                "next_attempt_at=?, updated_at=? WHERE id=?",
                [(WriteState.IN_FLIGHT, iso(reconcile_at), iso(now), i) for i in write_ids],
            )

    def record_results(self, outcomes: Sequence[WriteUpdate], now: datetime) -> None:
        """Commit what the sinks answered and roll each decision's status up from its writes."""
        with self.transaction() as c:
            # A superseded write keeps what it did (written, skipped) but is never open again.
            c.executemany(
                f"UPDATE writes SET state = CASE WHEN superseded AND ? IN {_UNSETTLED} THEN "
                f"'{WriteState.SKIPPED}' ELSE ? END, last_error=?, "
                "target_id=COALESCE(?, target_id), "
                "next_attempt_at=?, updated_at=?, attempts=MAX(0, attempts-?) WHERE id=?",
                [
                    (
                        o.state,
                        o.state,
                        o.error or None,
                        o.target_id,
                        iso(o.next_attempt_at),
                        iso(now),
                        int(o.refund),
                        o.write_id,
                    )
                    for o in outcomes
                ],
            )
            ids = [o.write_id for o in outcomes]
            for chunk in chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                c.execute(_ROLLUP.format(marks=marks), chunk)

    def due_writes(
        self,
        pipeline: str,
        now: datetime,
        *,
        after_id: int = 0,
        limit: int = 200,
        ids: Sequence[int] | None = None,
    ) -> list[OutboxItem]:
        """Open writes whose backoff has passed, oldest first (``ids`` restricts to those rows)."""
        sql = (
            "SELECT w.id AS wid, w.sink, w.attempts, w.sent, w.created_at AS wcreated, "
            f"w.handoff_key AS write_key, {OUTBOX_COLUMNS} "
            "FROM writes w "
            "JOIN decisions d ON d.id = w.decision_id WHERE w.pipeline = ? AND w.id > ? "
            f"AND w.state IN {_OPEN} AND w.superseded = 0 "
            "AND (w.next_attempt_at IS NULL OR w.next_attempt_at <= ?)"
        )
        params: list[Any] = [pipeline, after_id, iso(now)]
        if ids is not None:
            sql += f" AND w.id IN ({','.join('?' * len(ids))})"
            params += list(ids)
        sql += " ORDER BY w.id LIMIT ?"
        return outbox_items(self.rows(sql, [*params, limit]))

    def requeue_dead(
        self, pipeline: str | None, ids: Sequence[int] | None, now: datetime
    ) -> list[int]:
        """Dead letters back to pending with a fresh attempt budget; returns their write ids."""
        sql = "SELECT id FROM writes WHERE state=?"
        params: list[Any] = [WriteState.DEAD]
        if pipeline:
            sql, params = sql + " AND pipeline=?", [*params, pipeline]
        if ids:
            sql += f" AND id IN ({','.join('?' * len(ids))})"
            params += list(ids)
        found = [r["id"] for r in self.rows(sql, params)]
        with self.transaction() as c:
            c.executemany(
                "UPDATE writes SET state=?, attempts=0, next_attempt_at=NULL, "
                "updated_at=? WHERE id=?",
                [(WriteState.PENDING, iso(now), i) for i in found],
            )
        return found

    # ------------------------------------------------------------------ webhook events

    def record_webhook_events(
        self, source: str, events: Sequence[WebhookRow], now: datetime
    ) -> list[WebhookRow]:
        """Keep each event once per (source, event id); returns the ones not seen before.

        Events that need no read (``relevant`` False) are recorded as processed already.
        """
        fresh: list[WebhookRow] = []
        with self.transaction() as c:
            for event_id, record_id, kind, occurred_ms, relevant in events:
                occurred = (
                    iso(datetime.fromtimestamp(occurred_ms / 1000, UTC))
                    if occurred_ms is not None and 0 <= occurred_ms < 253_402_300_800_000
                    else None
                )
                cur = c.execute(
                    "INSERT OR IGNORE INTO webhook_events (source, event_id, record_id, kind, "
                    "occurred_at, received_at, processed_at) VALUES (?,?,?,?,?,?,?)",
                    (source, event_id, record_id, kind, occurred, iso(now),
                     None if relevant else iso(now)),
                )
                if cur.rowcount:
                    fresh.append((event_id, record_id, kind, occurred_ms, relevant))
        return fresh

    def open_webhook_events(self, source: str) -> list[tuple[str, str]]:
        """(event id, record id) of events whose record was not read yet, oldest first."""
        rows = self.rows(
            "SELECT event_id, record_id FROM webhook_events WHERE source = ? AND "
            "processed_at IS NULL ORDER BY received_at, event_id",
            (source,),
        )
        return [(r["event_id"], r["record_id"]) for r in rows]

    def finish_webhook_events(self, source: str, event_ids: Sequence[str], now: datetime) -> None:
        """Their records were read and decided (or tried: the scheduled poll is the net)."""
        with self.transaction() as c:
            c.executemany(
                "UPDATE webhook_events SET processed_at = ? WHERE source = ? AND event_id = ?",
                [(iso(now), source, e) for e in event_ids],
            )

    def prune_webhook_events(self, before: datetime) -> int:
        """Forget processed events received before ``before`` (the sender's retries are over
        by then, so no duplicate can still come)."""
        with self.transaction() as c:
            cur = c.execute(
                "DELETE FROM webhook_events WHERE received_at < ? AND processed_at IS NOT NULL",
                (iso(before),),
            )
            return int(cur.rowcount)

    # ------------------------------------------------------------------ renames

    #: every table with a pipeline column (aggregates too: reports over long periods)
    _PIPELINE_TABLES = ("runs", "decisions", "writes", "cursors", "backfills", "malformed",
                        "events", "aggregates")  # fmt: skip

    def rename_pipeline(self, old: str, new: str) -> int:
        """Move ``old``'s history (cursor, decisions, outbox) to ``new``; returns the decisions
        moved. Refused (ValueError) when ``new`` has history of its own."""
        with self.transaction() as c:
            taken = c.execute(
                "SELECT 1 FROM runs WHERE pipeline = ? UNION SELECT 1 FROM cursors WHERE "
                "pipeline = ? LIMIT 1",
                (new, new),
            ).fetchone()
            if taken:
                raise ValueError(f"pipeline {new!r} already has history in this audit log")
            moved = c.execute("SELECT COUNT(*) FROM decisions WHERE pipeline = ?", (old,))
            count = int(moved.fetchone()[0])
            for table in self._PIPELINE_TABLES:
                c.execute(f"UPDATE {table} SET pipeline = ? WHERE pipeline = ?", (new, old))
        return count

    # ------------------------------------------------------------------ backfill checkpoints

    def open_backfill(
        self,
        pipeline: str,
        since_ms: int,
        until_ms: int,
        requested_until: str | None,
        reevaluate: bool,
        now: datetime,
    ) -> tuple[int, bool]:
        """Resume the unfinished backfill with the same window, else start one: (id, resumed)."""
        found = self.rows(
            "SELECT id, until_ms FROM backfills WHERE pipeline=? AND since_ms=? AND "
            "IFNULL(requested_until,'')=? "
            "AND reevaluate=? AND status='running' ORDER BY id DESC LIMIT 1",
            (pipeline, since_ms, requested_until or "", int(reevaluate)),
        )
        if found:
            return int(found[0]["id"]), True
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO backfills (pipeline, since_ms, until_ms, requested_until, "
                "reevaluate, status, started_at) "
                "VALUES (?,?,?,?,?,'running',?)",
                (pipeline, since_ms, until_ms, requested_until, int(reevaluate), iso(now)),
            )
            return int(cur.lastrowid or 0), False

    def backfill_window(self, backfill_id: int) -> tuple[int, int]:
        row = self.rows("SELECT since_ms, until_ms FROM backfills WHERE id=?", (backfill_id,))[0]
        return int(row["since_ms"]), int(row["until_ms"])

    def finish_backfill(self, backfill_id: int, now: datetime) -> None:
        with self.transaction() as c:
            c.execute(
                "UPDATE backfills SET status='done', ended_at=? WHERE id=?", (iso(now), backfill_id)
            )

    # ------------------------------------------------------------------ retention

    def prune(self, before: datetime) -> int:
        """Delete finished decisions decided before ``before``, keeping daily aggregates.

        Accepted decisions are never deleted (they are what stops a lead from being handed
        off twice): their snapshot, explanation and note are emptied instead. Open writes
        and dead letters awaiting replay are kept.
        """
        cutoff = iso(before)
        doomed = (
            "decided_at < ? AND status IN "
            + sql_in(HandoffStatus.WRITTEN, HandoffStatus.SKIPPED, HandoffStatus.DRY_RUN)
            + " "
            "AND NOT (outcome = 'accepted' AND dry_run = 0)"
        )
        with self.transaction() as c:
            c.execute(
                "INSERT INTO aggregates (day, pipeline, source, outcome, decisions) "
                "SELECT substr(decided_at,1,10), pipeline, source, outcome, COUNT(*) "
                f"FROM decisions WHERE {doomed} AND dry_run = 0 GROUP BY 1,2,3,4 "
                "ON CONFLICT (day, pipeline, source, outcome) DO UPDATE SET decisions = "
                "decisions + excluded.decisions",
                (cutoff,),
            )
            c.execute(
                "DELETE FROM writes WHERE decision_id IN "
                f"(SELECT id FROM decisions WHERE {doomed})",
                (cutoff,),
            )
            cur = c.execute(f"DELETE FROM decisions WHERE {doomed}", (cutoff,))
            c.execute(
                "UPDATE decisions SET snapshot = '{}', explanation = '[]', note = '' "
                "WHERE decided_at < ? AND outcome = 'accepted' AND status IN "
                + sql_in(HandoffStatus.WRITTEN, HandoffStatus.SKIPPED),
                (cutoff,),
            )
            c.execute("DELETE FROM malformed WHERE seen_at < ?", (cutoff,))
            return int(cur.rowcount)


_ROLLUP = f"""
UPDATE decisions SET status = (
    SELECT CASE
        WHEN SUM(w.state = '{WriteState.DEAD}') > 0 THEN '{HandoffStatus.DEAD}'
        WHEN SUM(w.state = '{WriteState.RETRYABLE}') > 0 THEN '{HandoffStatus.RETRYABLE}'
        WHEN SUM(w.state IN {sql_in(WriteState.PENDING, WriteState.IN_FLIGHT)}) > 0
            THEN '{HandoffStatus.PENDING}'
        WHEN SUM(w.state = '{WriteState.WAITING}') > 0 THEN '{HandoffStatus.WAITING}'
        WHEN SUM(w.state = '{WriteState.WRITTEN}') > 0 THEN '{HandoffStatus.WRITTEN}'
        ELSE '{HandoffStatus.SKIPPED}' END
    FROM writes w WHERE w.decision_id = decisions.id)
WHERE id IN (SELECT decision_id FROM writes WHERE id IN ({{marks}}))
"""


class ConnectorState:
    """One connector instance's :class:`~connectors.base.StateStore`, in the audit database."""

    def __init__(self, log: AuditLog, instance: str) -> None:
        self.log = log
        self.instance = instance

    def get(self, key: str) -> Any:
        return self.log.get_state(self.instance, key)

    def put(self, key: str, value: Any) -> None:
        self.put_many({key: value})

    def put_many(self, items: Mapping[str, Any]) -> None:
        self.log.put_state(self.instance, items, datetime.now(UTC))


def _last_sent(text: str | None) -> tuple[str, float, tuple[str, ...]] | None:
    """``outcome␟score␟reasons-json`` as compared by :meth:`Prior.unchanged_for`."""
    if not text:
        return None
    outcome, score, reasons = text.split(chr(31), 2)
    return outcome, round(float(score), 6), tuple(json.loads(reasons))
