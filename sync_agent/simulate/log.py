"""Reading the audit log for a simulation: read-only, streamed, one id range at a time.

A simulation never changes the audit database: the file is opened read-only (``mode=ro``,
``query_only``), never created and never migrated, so it can run next to a live agent
(WAL: neither blocks the other). Everything it reads comes through :func:`snapshots`, a
cursor over one id range: rows are fetched a page at a time, never all at once, and
ranges let several processes share one log.

Which snapshots: each lead's latest non-dry-run decision in the window
``[since, until)`` (by ``decided_at``), per pipeline: a lead counts once in each pipeline
that decided it. Decisions recorded after the simulation started (``last_id``) are left
out, so a running agent cannot make a lead count twice.

Sales outcomes (``outcomes``, schema v3) are joined by lead: the events of every handoff
of that lead in that pipeline (a handoff key belongs to one pipeline). A log from before
v3 simply has none.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Above every ISO timestamp: the open end of a window.
FOREVER = "9999-12-31T23:59:59"
#: Rows fetched per round trip: big enough to amortise the call, small enough to stay flat.
PAGE = 512
#: Separators of the outcome events packed into one column (ASCII unit/record separators).
UNIT, RECORD = "\x1f", "\x1e"


class SimulationError(Exception):
    """The simulation cannot run (no audit log, not an audit log, a candidate that changed);
    the message says what to do. The CLI prints it without a traceback."""


@dataclass(frozen=True)
class Window:
    """Which decisions: ``decided_at`` in ``[since, until)`` (ISO text), one pipeline or all,
    ids up to ``last_id`` (0: no bound)."""

    since: str = ""
    until: str = FOREVER
    pipeline: str | None = None
    last_id: int = 0


@dataclass(frozen=True)
class LogFacts:
    """What the log holds, read before simulating (cheap aggregate queries)."""

    decisions: int  # non-dry-run decisions in the whole log
    in_window: int  # non-dry-run decisions in the window (several per re-decided lead)
    first_id: int  # the id range of those
    last_id: int
    pipelines: tuple[str, ...]  # every pipeline with a decision in the log
    outcomes: int  # sales outcome events in the log (0 before schema v3)


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection to the audit database at ``path``; SimulationError when there
    is no such file or it is not an audit log."""
    if not path.is_file():
        raise SimulationError(
            f"no audit log at {path}: run `sync-agent run` first (or check --config)"
        )
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
        conn.execute("PRAGMA query_only = ON")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise SimulationError(f"cannot read {path} as an audit log: {exc}") from None
    if "decisions" not in tables:
        conn.close()
        raise SimulationError(f"{path} is not a sync-agent audit log (it has no decisions)")
    return conn


def _has_outcomes(conn: sqlite3.Connection) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='outcomes'")
    return found.fetchone() is not None


def _where(window: Window, alias: str = "d") -> tuple[str, dict[str, Any]]:
    clauses = [f"{alias}.dry_run = 0", f"{alias}.decided_at >= :since",
               f"{alias}.decided_at < :until"]  # fmt: skip
    params: dict[str, Any] = {"since": window.since, "until": window.until}
    if window.pipeline is not None:
        clauses.append(f"{alias}.pipeline = :pipeline")
        params["pipeline"] = window.pipeline
    if window.last_id:
        clauses.append(f"{alias}.id <= :last_id")
        params["last_id"] = window.last_id
    return " AND ".join(clauses), params


def read_facts(path: Path, window: Window) -> LogFacts:
    """Counts and the id range of the window; never reads a snapshot."""
    with closing(connect(path)) as conn:
        where, params = _where(window)
        in_window, first, last = conn.execute(
            f"SELECT COUNT(*), MIN(d.id), MAX(d.id) FROM decisions d WHERE {where}", params
        ).fetchone()
        total = conn.execute("SELECT COUNT(*) FROM decisions WHERE dry_run = 0").fetchone()[0]
        pipelines = tuple(
            r[0] for r in conn.execute("SELECT DISTINCT pipeline FROM decisions ORDER BY 1")
        )
        outcomes = (
            conn.execute("SELECT COUNT(*) FROM outcomes").fetchone()[0]
            if _has_outcomes(conn)
            else 0
        )
    return LogFacts(int(total), int(in_window), int(first or 0), int(last or 0), pipelines,
                    int(outcomes))  # fmt: skip


def pipelines_in_log(path: Path) -> tuple[str, ...]:
    """The pipelines that have decisions in the log (for validating ``--pipeline``)."""
    with closing(connect(path)) as conn:
        rows = conn.execute("SELECT DISTINCT pipeline FROM decisions ORDER BY 1").fetchall()
    return tuple(r[0] for r in rows)


#: The columns :func:`snapshots` yields, in order.
COLUMNS = ("id", "pipeline", "lead_key", "decided_at", "outcome", "score", "rules_name",
           "rules_hash", "snapshot", "known")  # fmt: skip

_OUTCOMES = f"""(SELECT group_concat(o.kind || '{UNIT}' || IFNULL(o.reason, ''), '{RECORD}')
  FROM outcomes o WHERE o.lead_key = d.lead_key AND o.handoff_key IN (
    SELECT h.handoff_key FROM decisions h WHERE h.lead_key = d.lead_key
    AND h.pipeline = d.pipeline))"""


def snapshot_sql(window: Window, with_outcomes: bool) -> tuple[str, dict[str, Any]]:
    """The latest decision of each (pipeline, lead) in the window whose id is in
    ``[:lo, :hi]``, oldest first. "Latest" is a NOT EXISTS probe on the
    ``(lead_key, pipeline)`` index, so each id range is answered on its own: no
    GROUP BY over the whole log, no temporary table. Both plans are pinned: left to itself,
    SQLite prefers the report's covering ``decisions_window`` index (``dry_run``,
    ``decided_at``, ...) for the range and for the probe, which scans the whole window once
    per row (200,000 decisions: minutes instead of seconds)."""
    where, params = _where(window)
    later, _ = _where(window, "l")
    known = _OUTCOMES if with_outcomes else "NULL"
    sql = (
        "SELECT d.id, d.pipeline, d.lead_key, d.decided_at, d.outcome, d.score, "
        f"d.rules_name, d.rules_hash, d.snapshot, {known} FROM decisions d NOT INDEXED "
        f"WHERE d.id BETWEEN :lo AND :hi AND {where} AND NOT EXISTS (SELECT 1 FROM decisions l "
        "INDEXED BY decisions_lead WHERE l.lead_key = d.lead_key AND l.pipeline = d.pipeline "
        f"AND l.id > d.id AND {later}) "
        "ORDER BY d.id"
    )
    return sql, params


def snapshots(
    conn: sqlite3.Connection, window: Window, lo: int, hi: int, with_outcomes: bool
) -> Generator[list[tuple[Any, ...]], None, None]:
    """Pages of rows (:data:`COLUMNS`) for ids ``lo..hi``: a cursor, ``PAGE`` rows at a time."""
    sql, params = snapshot_sql(window, with_outcomes and _has_outcomes(conn))
    cursor = conn.execute(sql, {**params, "lo": lo, "hi": hi})
    try:
        while page := cursor.fetchmany(PAGE):
            yield page
    finally:
        cursor.close()


def recorded_detail(conn: sqlite3.Connection, decision_id: int) -> tuple[str, str]:
    """The recorded reasons and explanation (JSON text) of one decision: read for the
    examples only, so that the hot query reads no more than it needs."""
    row = conn.execute(
        "SELECT reasons, explanation FROM decisions WHERE id = ?", (decision_id,)
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else ("[]", "[]")
