"""The snapshot query's plan: a rowid range, and the latest-decision probe on the lead index.

SQLite chooses plans by the indexes it sees. The report's covering ``decisions_window``
index (``dry_run, decided_at, ...``) looks attractive for both parts of the simulation's
query, and with it the probe scans the whole window once per row: quadratic, minutes for
200,000 decisions. The plan is pinned; this test reads it back from ``EXPLAIN QUERY PLAN``
on a log with every migration applied.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sync_agent.audit import AuditLog
from sync_agent.simulate.log import FOREVER, Window, snapshot_sql


@pytest.mark.parametrize("with_outcomes", [False, True])
@pytest.mark.parametrize(
    "window",
    [Window("", FOREVER, None), Window("2026-01-01", "2026-02-01", "hubspot-mqls")],
    ids=["all", "one-month-one-pipeline"],
)
def test_the_range_reads_by_rowid_and_the_probe_by_lead(
    tmp_path: Path, window: Window, with_outcomes: bool
) -> None:
    path = tmp_path / "audit.db"
    AuditLog.open(path).close()  # every migration, the report's covering index included
    sql, params = snapshot_sql(window, with_outcomes)
    with sqlite3.connect(path) as conn:
        plan = [row[3] for row in conn.execute(
            "EXPLAIN QUERY PLAN " + sql, {**params, "lo": 1, "hi": 512})]
        indexes = {row[1] for row in conn.execute("PRAGMA index_list(decisions)")}
    assert "decisions_window" in indexes, "the index the planner would otherwise pick exists"
    assert any(step.startswith("SEARCH d USING INTEGER PRIMARY KEY") for step in plan), plan
    assert any(step.startswith("SEARCH l USING INDEX decisions_lead") for step in plan), plan
    assert not any("decisions_window" in step for step in plan), plan
