"""Retries with backoff across runs, dead letters after max_attempts, replay, fatal stops."""

from __future__ import annotations

from sync_fakes import FakeClock, World

from sync_agent.audit import AuditLog
from sync_agent.backoff import backoff_seconds
from sync_agent.engine import replay, run_once
from sync_agent.errors import AuthError, BudgetExhausted, RetriableError
from sync_agent.model import WriteResult, WriteState


def seed(src: World, n: int) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80, minute=i)


def test_backoff_grows_caps_and_honours_retry_after() -> None:
    assert [backoff_seconds(a, base=10, cap=100) for a in (1, 2, 3, 4, 5)] == [10, 20, 40, 80, 100]
    assert backoff_seconds(1, base=10, cap=100, retry_after=30) == 30
    assert backoff_seconds(2, base=10, cap=100, jitter=0.5) == 22.5
    assert backoff_seconds(1, base=10, cap=100, retry_after=500) == 100, "Retry-After is capped"


def test_retryable_results_wait_for_backoff_then_succeed(
    make_config, worlds, clock: FakeClock
) -> None:
    src, crm = worlds
    seed(src, 3)
    config = make_config(max_attempts=3)
    crm.per_key["2"] = WriteResult("", WriteState.RETRYABLE, "UNABLE_TO_LOCK_ROW")
    [first] = run_once(config, clock=clock)
    assert first.outcome == "failures" and first.exit_code == 1 and first.writes.retryable == 1
    del crm.per_key["2"]
    [early] = run_once(config, clock=clock)  # backoff (60 s+) not over: not retried yet
    assert early.resumed == 0 and "2" not in crm.sal
    clock.advance(minutes=2)
    [later] = run_once(config, clock=clock)
    assert later.resumed == 1 and later.writes.written == 1 and later.outcome == "ok"
    assert crm.sal["2"] == "accepted"
    assert crm.calls["write_recovering"] == 1, "a retried write reconciles"
    with AuditLog.open(config.audit_db) as log:
        [d] = log.show_lead("fake:2")
    assert {w["state"] for w in d["writes"]} == {"written"} and d["status"] == "written"


def test_writes_become_dead_letters_then_replay_delivers_them(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 2)
    config = make_config(max_attempts=2)
    crm.per_key["1"] = WriteResult("", WriteState.RETRYABLE, "locked")
    run_once(config, clock=clock)
    clock.advance(hours=1)
    [second] = run_once(config, clock=clock)
    assert second.writes.dead == 1
    with AuditLog.open(config.audit_db) as log:
        [dead] = log.dead_letters()
        assert dead["lead_key"] == "fake:1" and dead["sink"] == "fake2" and dead["attempts"] == 2
        assert log.show_lead("fake:1")[0]["status"] == "dead"
    clock.advance(hours=5)
    [third] = run_once(config, clock=clock)
    assert third.resumed == 0, "dead letters wait for replay"
    del crm.per_key["1"]  # the cause is fixed
    [replayed] = replay(config, clock=clock)
    assert replayed.mode == "replay" and replayed.writes.written == 1 and replayed.exit_code == 0
    assert crm.notes and set(crm.notes.values()) == {1} and len(crm.notes) == 2
    with AuditLog.open(config.audit_db) as log:
        assert log.dead_letters() == []
        assert log.show_lead("fake:1")[0]["status"] == "written"


def test_permanent_failure_is_a_dead_letter_at_once_and_replay_by_id(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 3)
    config = make_config()
    crm.per_key["3"] = WriteResult("", WriteState.DEAD, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    [summary] = run_once(config, clock=clock)
    assert summary.writes.dead == 1 and summary.exit_code == 1
    with AuditLog.open(config.audit_db) as log:
        [dead] = log.dead_letters()
    assert "VALIDATION" in dead["last_error"]
    assert replay(config, dead_letter_ids=[dead["id"] + 1000], clock=clock) == []
    crm.per_key.clear()
    [r] = replay(config, dead_letter_ids=[dead["id"]], clock=clock)
    assert r.writes.written == 1 and crm.sal["3"] == "accepted"


def test_skipped_results_are_recorded_with_their_reason(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 2)
    crm.per_key["1"] = WriteResult("", WriteState.SKIPPED, "lead converted")
    config = make_config()
    [summary] = run_once(config, clock=clock)
    assert summary.outcome == "ok" and summary.writes.skipped == 1
    with AuditLog.open(config.audit_db) as log:
        [d] = log.show_lead("fake:1")
    assert {w["last_error"] for w in d["writes"] if w["sink"] == "fake2"} == {"lead converted"}


def test_whole_call_retriable_error_parks_the_batch_with_retry_after(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 3)
    config = make_config()
    crm.fail_calls.append(RetriableError("503 Service Unavailable", retry_after=600))
    [summary] = run_once(config, clock=clock)
    assert summary.writes.retryable == 3 and summary.exit_code == 1
    clock.advance(minutes=5)
    assert run_once(config, clock=clock)[0].resumed == 0, "Retry-After is honoured"
    clock.advance(minutes=6)
    assert run_once(config, clock=clock)[0].writes.written == 3


def test_budget_stop_saves_state_and_exits_4_then_resumes(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config(page_size=2)
    crm.fail_calls.append(BudgetExhausted("daily API share used up"))
    [stopped] = run_once(config, clock=clock)
    assert stopped.outcome == "budget" and stopped.exit_code == 4
    with AuditLog.open(config.audit_db) as log:
        assert log.runs()[0]["outcome"] == "budget"
        assert log.write_states().get("written", 0) < 12
    clock.advance(seconds=config.reconcile_after_seconds)  # what landed is visible by now
    [resumed] = run_once(config, clock=clock)
    assert resumed.outcome == "ok"
    assert len(crm.sal) == 6 and set(crm.notes.values()) == {1} and len(crm.notes) == 6


def test_auth_error_stops_the_pipeline_without_spending_attempts(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 2)
    config = make_config(max_attempts=1)
    crm.fail_calls.append(AuthError("401 token expired"))
    [stopped] = run_once(config, clock=clock)
    assert stopped.outcome == "auth" and stopped.exit_code == 1 and "token expired" in stopped.error
    clock.advance(seconds=config.reconcile_after_seconds)
    [fixed] = run_once(config, clock=clock)
    assert fixed.writes.dead == 0 and len(crm.sal) == 2


def test_broken_ruleset_is_a_recorded_rules_failure(make_config, worlds, clock, tmp_path) -> None:
    src, _ = worlds
    seed(src, 1)
    config = make_config()
    (tmp_path / "sal.toml").write_text("broken\n")
    [summary] = run_once(config, clock=clock)
    assert summary.outcome == "rules" and "broken on purpose" in summary.error
    with AuditLog.open(config.audit_db) as log:
        assert log.runs()[0]["outcome"] == "rules"


def test_a_sink_that_is_down_is_not_called_again_in_the_same_run(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config(page_size=2, batch=2, max_attempts=2)
    crm.fail_calls.append(RetriableError("connection refused"))
    [summary] = run_once(config, clock=clock)
    assert crm.calls["write"] == 1, "later batches were parked without a call"
    assert summary.writes.retryable == 6 and len(src.sal) == 6, "the other sink kept working"
    with AuditLog.open(config.audit_db) as log:
        attempts = [
            r["attempts"] for r in log.rows("SELECT attempts FROM writes WHERE sink='fake2'")
        ]
    assert sorted(attempts) == [0, 0, 0, 0, 1, 1], "parking spends no attempt"
    clock.advance(hours=2)
    assert run_once(config, clock=clock)[0].writes.written == 6
    assert set(crm.notes.values()) == {1} and len(crm.notes) == 6


def test_a_newer_decision_supersedes_an_older_write_still_waiting(
    make_config, worlds, clock
) -> None:
    """A late retry must never put an outdated SAL status back over a newer decision."""
    src, crm = worlds
    src.add("1", 10, minute=1)  # rejected...
    config = make_config(max_attempts=5)
    crm.per_key["1"] = WriteResult("", WriteState.RETRYABLE, "UNABLE_TO_LOCK_ROW")
    run_once(config, clock=clock)  # ...and its write waits for a retry
    assert "1" not in crm.sal
    del crm.per_key["1"]
    lead = next(c for c in src.contacts if c["id"] == "1")
    lead["props"]["lead_score"] = 90  # the lead changes and is now accepted
    lead["modified_ms"] += 3_600_000
    clock.advance(minutes=1)  # the old write's backoff is not over yet
    run_once(config, clock=clock)
    assert crm.sal["1"] == "accepted"
    clock.advance(hours=2)  # the old write would be due now
    [later] = run_once(config, clock=clock)
    assert later.resumed == 0 and crm.sal["1"] == "accepted"
    with AuditLog.open(config.audit_db) as log:
        old, new = log.show_lead("fake:1")
    # the write that had landed stays written; the one still waiting is superseded
    states = sorted((w["state"], w["last_error"]) for w in old["writes"])
    assert states == [("skipped", "superseded by a newer decision"), ("written", None)]
    assert old["status"] == "written", "rolled up from its writes: one landed, one superseded"
    assert new["outcome"] == "accepted" and new["status"] == "written"
