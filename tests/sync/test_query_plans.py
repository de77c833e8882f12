"""The engine's per-page look-ups and the status query keep their cheap plans.

The report's covering index ``decisions_window`` starts with ``dry_run``; SQLite keeps no
statistics here, so it takes ``dry_run = 0`` for a selective key. Left to itself it walks
that index over every decision for the per-page "what did this lead get before" look-up
(quadratic over a backfill) and for the status query's newest decisions (every decision
read and sorted on each ``status``, ``/healthz`` and ``/metrics``). The statements are
captured as the library runs them, then explained on the same database.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sync_agent.audit import AuditLog
from sync_agent.audit.health import pipeline_facts


def _plans(log: AuditLog, call: object) -> dict[str, list[str]]:
    seen: list[str] = []
    log.conn.set_trace_callback(seen.append)
    try:
        call()  # type: ignore[operator]
    finally:
        log.conn.set_trace_callback(None)
    plans = {}
    for sql in seen:
        if "FROM decisions" in sql and sql.lstrip().upper().startswith(("SELECT", "WITH")):
            plans[sql] = [row[3] for row in log.conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert plans, "the call read decisions"
    return plans


def test_the_per_page_lookup_finds_leads_by_key(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "audit.db") as log:
        keys = [f"hubspot:{n}" for n in range(600)]  # two chunks of look-ups
        plans = _plans(log, lambda: log.priors("hubspot-mqls", keys))
    for sql, plan in plans.items():
        assert not any("decisions_window" in step for step in plan), (sql, plan)
        assert any("decisions_lead" in step for step in plan), (sql, plan)


def test_status_reads_the_newest_decisions_without_sorting_them_all(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "audit.db") as log:
        plans = _plans(log, lambda: pipeline_facts(log, "hubspot-mqls"))
    newest = [p for sql, p in plans.items() if "ORDER BY id DESC LIMIT" in sql]
    assert newest
    for plan in newest:
        assert not any("decisions_window" in step or "TEMP B-TREE" in step for step in plan), plan


def test_the_database_has_the_index_these_plans_avoid(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "audit.db"), sqlite3.connect(tmp_path / "audit.db") as conn:
        names = {row[1] for row in conn.execute("PRAGMA index_list(decisions)")}
    assert {"decisions_window", "decisions_lead"} <= names
