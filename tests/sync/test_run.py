"""Incremental runs through the outbox, with fake connectors and an injected clock."""

from __future__ import annotations

import json

from sync_fakes import FakeClock, World

from sync_agent.audit import AuditLog
from sync_agent.engine import run_once


def seed(src: World, n: int, *, accept_every: int = 2) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80 if i % accept_every == 0 else 10, minute=i)


def test_run_decides_records_and_writes_every_lead(make_config, worlds, clock: FakeClock) -> None:
    src, crm = worlds
    seed(src, 7)
    config = make_config()
    [summary] = run_once(config, clock=clock)
    assert summary.outcome == "ok" and summary.exit_code == 0
    assert (summary.read, summary.decided, summary.accepted, summary.rejected) == (7, 7, 3, 4)
    assert summary.writes.written == 14  # 7 leads x 2 sinks
    assert crm.sal == {str(i): ("accepted" if i % 2 == 0 else "rejected") for i in range(1, 8)}
    assert set(crm.notes.values()) == {1} and len(crm.notes) == 3
    with AuditLog.open(config.audit_db) as log:
        assert {r["status"] for r in log.list_decisions()} == {"written"}
        assert log.write_states() == {"written": 14}
        assert (
            json.loads(log.rows("SELECT position FROM cursors")[0]["position"])["modified_ms"] > 0
        )


def test_second_run_picks_up_only_new_and_changed_mqls(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 5)
    config = make_config()
    run_once(config, clock=clock)
    src.add("6", 90, minute=100)
    src.touch("1", minute=101, lead_score=95)  # rejected before, re-qualifies now
    src.touch("2", minute=102)  # accepted before: must not be handed off again
    clock.advance(minutes=15)
    [second] = run_once(config, clock=clock)
    assert second.read == 3
    assert (second.decided, second.accepted, second.skipped_accepted) == (2, 2, 1)
    assert crm.sal["1"] == "accepted" and crm.sal["6"] == "accepted"
    assert max(crm.notes.values()) == 1 and len(crm.notes) == 4  # 2, 4, 1, 6


def test_rerun_with_nothing_new_is_idempotent(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config()
    run_once(config, clock=clock)
    calls = sum(crm.calls.values())
    [again] = run_once(config, clock=clock)
    assert (again.read, again.decided) == (0, 0)
    assert sum(crm.calls.values()) == calls
    with AuditLog.open(config.audit_db) as log:
        assert len(log.list_decisions()) == 6


def test_reread_of_an_unchanged_lead_version_is_skipped(make_config, worlds, clock) -> None:
    src, _ = worlds
    seed(src, 3)
    config = make_config()
    run_once(config, clock=clock)
    with AuditLog.open(config.audit_db) as log:  # a source that re-reads an overlap window
        log.conn.execute("DELETE FROM cursors")
    [again] = run_once(config, clock=clock)
    assert again.read == 3 and again.decided == 0
    assert again.skipped_accepted + again.skipped_unchanged == 3


def test_dry_run_records_decisions_but_writes_nothing_and_keeps_the_cursor(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 4)
    config = make_config()
    [dry] = run_once(config, clock=clock, dry_run=True)
    assert dry.mode == "dry-run" and dry.decided == 4 and dry.writes.written == 0
    assert crm.calls == {} and src.calls == {}
    with AuditLog.open(config.audit_db) as log:
        assert log.rows("SELECT COUNT(*) AS n FROM cursors")[0]["n"] == 0
        assert log.rows("SELECT COUNT(*) AS n FROM writes")[0]["n"] == 0
        assert log.list_decisions() == []  # hidden from the normal listing
        assert {r["status"] for r in log.list_decisions(include_dry_run=True)} == {"dry_run"}
    [real] = run_once(config, clock=clock)
    assert real.decided == 4 and real.writes.written == 8


def test_malformed_leads_are_recorded_and_never_stop_the_batch(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 4)
    src.contacts.append(
        {"id": "bad", "modified_ms": src.contacts[1]["modified_ms"], "props": "<html>"}
    )
    src.add("boom", 90, minute=2, explode=True)
    config = make_config()
    [summary] = run_once(config, clock=clock)
    assert summary.malformed == 2 and summary.decided == 4 and summary.outcome == "ok"
    assert len(crm.sal) == 4
    with AuditLog.open(config.audit_db) as log:
        reasons = {r["raw_id"]: r["reason"] for r in log.malformed()}
    assert set(reasons) == {"bad", "boom"}
    assert "evaluation failed" in reasons["boom"]


def test_decision_snapshot_explanation_and_note_are_recorded(make_config, worlds, clock) -> None:
    src, crm = worlds
    src.add("7", 88, minute=1, company="Acme", title="CTO", demo_requested=True)
    config = make_config()
    run_once(config, clock=clock)
    with AuditLog.open(config.audit_db) as log:
        [d] = log.show_lead("fake:7")
    assert d["outcome"] == "accepted" and d["rules_hash"] == "hash50"
    assert d["explanation"][0]["name"] == "lead_score"
    assert d["snapshot"]["company"] == "Acme"
    assert "Follow up within 24 h" in d["note"] and "Demo requested: yes" in d["note"]
    assert {w["sink"] for w in d["writes"]} == {"fake", "fake2"}
    assert list(crm.notes) == [d["handoff_key"]]


def test_a_source_failure_keeps_what_was_read_and_the_next_run_continues(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 9)
    src.read_fails_after = 2
    config = make_config(page_size=3)
    [failed] = run_once(config, clock=clock)
    assert failed.outcome == "source_error" and failed.exit_code == 1 and "502" in failed.error
    assert failed.decided == 6 and len(crm.sal) == 6, "the pages read before the error are written"
    [rest] = run_once(config, clock=clock)
    assert rest.outcome == "ok" and rest.decided == 3 and len(crm.sal) == 9


def test_leads_fingerprinted_by_an_older_release_are_not_decided_again(
    make_config, worlds, clock, monkeypatch
) -> None:
    """Fingerprints stored before the formula changed (no ``v2:`` prefix) still match."""
    from sync_agent.engine import handoff

    src, _ = worlds
    seed(src, 3, accept_every=10)  # all rejected: each is skipped only as unchanged
    config = make_config()
    with monkeypatch.context() as old_release:
        old_release.setattr(handoff, "lead_fingerprint", handoff._first_fingerprint)
        run_once(config, clock=clock)
    with AuditLog.open(config.audit_db) as log:
        stored = {r["fingerprint"] for r in log.rows("SELECT fingerprint FROM decisions")}
        assert stored and not any(f.startswith("v2:") for f in stored)
        log.conn.execute("DELETE FROM cursors")
    [again] = run_once(config, clock=clock)
    assert again.read == 3 and again.decided == 0 and again.skipped_unchanged == 3
