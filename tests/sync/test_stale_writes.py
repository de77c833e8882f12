"""A write never lands after a newer decision for the same lead and sink was written, even
when the older one was cut off in flight by a crash and comes up for reconciliation later."""

from __future__ import annotations

import pytest
from sync_fakes import FakeClock, World
from test_outbox import Crash, crash_after

from sync_agent.audit import AuditLog
from sync_agent.engine import run_once
from sync_agent.model import WriteResult, WriteState


def test_an_interrupted_older_write_is_not_resent_over_a_newer_decision(
    make_config, worlds: tuple[World, World], clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, crm = worlds
    src.add("1", 10, minute=1)  # decided "rejected"
    config = make_config(page_size=4)
    with monkeypatch.context() as m:
        crash_after(m, "mark_in_flight", 1)  # killed after marking the write in flight
        with pytest.raises(Crash):
            run_once(config, clock=clock)
    src.touch("1", minute=2, lead_score=90)  # the lead changed: now it is accepted
    clock.advance(minutes=1)
    [second] = run_once(config, clock=clock)
    assert second.accepted == 1 and crm.sal["1"] == "accepted" and crm.notes
    clock.advance(seconds=config.reconcile_after_seconds + 60)
    run_once(config, clock=clock)  # the old "rejected" write is due for reconciliation now
    assert crm.sal["1"] == "accepted", "a stale write overwrote a newer decision"
    assert src.sal["1"] == "accepted"
    with AuditLog.open(config.audit_db) as log:
        rows = log.rows(
            "SELECT d.outcome, w.sink, w.state, w.last_error, w.updated_at FROM writes w "
            "JOIN decisions d ON d.id = w.decision_id ORDER BY w.id"
        )
    newer = {r["sink"]: r["updated_at"] for r in rows if r["outcome"] == "accepted"}
    for row in (r for r in rows if r["outcome"] == "rejected"):
        if row["state"] == "written":  # sent before the newer decision existed: fine
            assert row["updated_at"] <= newer[row["sink"]]
        else:
            assert row["state"] == "skipped" and "superseded" in row["last_error"]


def test_a_superseded_write_that_fails_in_flight_is_never_retried(
    make_config, worlds: tuple[World, World], clock: FakeClock
) -> None:
    """Results that come back for a superseded write don't make it due again."""
    src, crm = worlds
    src.add("1", 10, minute=1)
    config = make_config(page_size=4)
    crm.per_key["1"] = WriteResult("", WriteState.RETRYABLE, "UNABLE_TO_LOCK_ROW")
    run_once(config, clock=clock)  # the rejected write waits for a retry
    del crm.per_key["1"]
    src.touch("1", minute=2, lead_score=90)
    clock.advance(seconds=30)  # before the old write's backoff is over
    run_once(config, clock=clock)
    assert crm.sal["1"] == "accepted"
    clock.advance(hours=3)
    [later] = run_once(config, clock=clock)
    assert later.resumed == 0 and crm.sal["1"] == "accepted"


def test_writes_refunded_after_a_fatal_sink_error_wait_for_the_reconcile_window(
    make_config, worlds: tuple[World, World], clock: FakeClock
) -> None:
    """A fatal error (a revoked token) mid-call may follow chunks that landed: the refunded
    writes are re-sent, reconciling, only once the CRM can show what landed."""
    from sync_agent.errors import AuthError

    src, crm = worlds
    for i in range(1, 4):
        src.add(str(i), 90, minute=i)
    config = make_config(page_size=4)
    crm.fail_calls.append(AuthError("token revoked"))
    [failed] = run_once(config, clock=clock)
    assert failed.outcome == "auth"
    clock.advance(minutes=1)  # the operator fixed the token quickly
    [soon] = run_once(config, clock=clock)
    assert soon.resumed == 0, "re-sent before anything that landed could be seen"
    clock.advance(seconds=config.reconcile_after_seconds)
    [later] = run_once(config, clock=clock)
    assert later.resumed > 0 and later.outcome == "ok"
    assert set(crm.notes.values()) == {1}
