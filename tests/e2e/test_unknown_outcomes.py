"""A note whose create answer was lost is reconciled only once HubSpot's search can see it.

The sandbox serves the note batch create, then cuts the answer (a dropped connection after
HubSpot committed); its search index lags 90 s behind. Retrying with the ordinary backoff
(60 s) would search too early, find nothing, and create every note of the batch again.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.sandbox import Faults, Sandbox
from sync_agent.audit import AuditLog
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def test_a_lost_note_create_answer_waits_for_the_search_index(tmp_path: Path) -> None:
    clock = Clock()
    faults = Faults(seed=3, search_lag_ms=90_000)
    with Sandbox(contacts=120, seed=21, mql_share=1.0, clock=clock, faults=faults) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        clock.now += timedelta(minutes=5)  # the seeded contacts are searchable by now
        sb.faults.cut_next(1, "batch_create")  # the first note batch lands, its answer is lost
        [first] = run_once(config, clock=clock, pipeline="hubspot-mqls")
        assert first.accepted > 0 and first.writes.retryable > 0
        for seconds in (65, 11, 600, 60):  # runs come often (a scheduler every minute)
            clock.now += timedelta(seconds=seconds)
            run_once(config, clock=clock)
        state = sb.state()
    notes = Counter(n["properties"].get("sal_handoff_key") for n in state["notes"])
    with AuditLog.open(config.audit_db) as log:
        accepted = {r["handoff_key"] for r in log.rows(
            "SELECT handoff_key FROM decisions WHERE outcome = 'accepted'")}  # fmt: skip
        open_writes = log.rows("SELECT count(*) AS n FROM writes WHERE state IN "
                               "('pending', 'in_flight', 'retryable')")[0]["n"]  # fmt: skip
    assert set(notes) == accepted
    assert max(notes.values()) == 1, "a note was created twice"
    assert open_writes == 0
