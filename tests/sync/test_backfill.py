"""Backfill over a window: own checkpoint, resumable after a stop, re-evaluation on request."""

from __future__ import annotations

import threading
from datetime import timedelta

from sync_fakes import T0, FakeClock, World

from sync_agent.audit import AuditLog
from sync_agent.engine import backfill, run_once
from sync_agent.engine.backfill import to_ms
from sync_agent.errors import BudgetExhausted


def seed(src: World, n: int) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80 if i % 2 else 40, minute=i * 60)  # one per hour


def test_backfill_covers_only_its_window_and_keeps_the_run_cursor(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 10)
    config = make_config()
    [b] = backfill(
        config, since=T0 + timedelta(hours=3), until=T0 + timedelta(hours=7), clock=clock
    )
    assert b.mode == "backfill" and b.read == 4 and b.outcome == "ok"  # hours 3, 4, 5, 6
    assert sorted(crm.sal, key=int) == ["3", "4", "5", "6"]
    with AuditLog.open(config.audit_db) as log:
        kinds = {r["kind"] for r in log.rows("SELECT kind FROM cursors")}
        assert kinds == {"backfill:1"}
        assert log.rows("SELECT status FROM backfills")[0]["status"] == "done"
    [run] = run_once(config, clock=clock)  # the regular run still reads from the beginning
    assert run.read == 10 and run.decided == 6 - 0 and run.skipped_accepted == 2


def test_interrupted_backfill_resumes_where_it_stopped(
    make_config, worlds, clock: FakeClock
) -> None:
    src, crm = worlds
    seed(src, 12)
    config = make_config(page_size=2)
    stop = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int | None) -> None:
        seen.append(done)
        if done >= 4:
            stop.set()  # as SIGINT would: finish the current batch and stop

    [first] = backfill(config, since=T0.date(), clock=clock, progress=progress, stop=stop)
    assert first.outcome == "interrupted" and first.exit_code == 5 and first.read == 4
    src.add("99", 90, minute=24 * 60)  # arrives after the first start: outside the fixed window
    clock.advance(days=2)
    [second] = backfill(config, since=T0.date(), clock=clock)
    assert second.read == 8, "resumed after the 4 leads already done"
    assert len(crm.sal) == 12 and "99" not in crm.sal
    assert seen[:2] == [2, 4]
    with AuditLog.open(config.audit_db) as log:
        assert [r["status"] for r in log.rows("SELECT status FROM backfills")] == ["done"]


def test_budget_stop_during_backfill_is_resumable(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config(page_size=2)
    crm.fail_calls.append(BudgetExhausted("HubSpot daily allowance reached"))
    [stopped] = backfill(config, since="2026-01-05", clock=clock)
    assert stopped.outcome == "budget" and stopped.exit_code == 4
    clock.advance(seconds=config.reconcile_after_seconds)
    [done] = backfill(config, since="2026-01-05", clock=clock)
    assert done.outcome == "ok" and len(crm.sal) == 6
    assert set(crm.notes.values()) == {1} and len(crm.notes) == 3


def test_reevaluate_redecides_but_never_hands_off_twice(
    make_config, worlds, clock, tmp_path
) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config(threshold=50)
    run_once(config, clock=clock)
    assert len(crm.notes) == 3
    (tmp_path / "sal.toml").write_text("threshold = 30\n")  # a new rules version accepts all
    [plain] = backfill(config, since=T0, clock=clock)
    assert plain.decided == 3 and plain.skipped_accepted == 3, "without --reevaluate: rejected only"
    (tmp_path / "sal.toml").write_text("threshold = 20\n")
    [again] = backfill(config, since=T0, clock=clock, reevaluate=True)
    assert again.decided == 6
    assert len(crm.notes) == 6 and set(crm.notes.values()) == {1}
    with AuditLog.open(config.audit_db) as log:
        statuses = [d["status"] for d in log.show_lead("fake:1")]
    assert statuses == ["written", "skipped"], "re-decided, not re-handed off"


def test_dry_run_backfill_writes_nothing_and_leaves_no_checkpoint(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 4)
    config = make_config()
    [dry] = backfill(config, since=T0, dry_run=True, clock=clock)
    assert dry.decided == 4 and crm.calls == {}
    with AuditLog.open(config.audit_db) as log:
        assert log.rows("SELECT COUNT(*) AS n FROM backfills")[0]["n"] == 0
        assert log.rows("SELECT COUNT(*) AS n FROM cursors")[0]["n"] == 0


def test_dates_are_utc_milliseconds() -> None:
    assert to_ms("2026-01-05") == int(T0.replace(hour=0).timestamp() * 1000)
    assert to_ms(T0) == to_ms("2026-01-05T09:00:00Z")


def test_progress_gets_a_total_estimate_from_the_cursor_position(
    make_config, worlds, clock
) -> None:
    src, _ = worlds
    seed(src, 10)  # one lead per hour from T0 + 1 h
    config = make_config(page_size=5)
    calls: list[tuple[int, int | None]] = []
    backfill(
        config,
        since=T0,
        until=T0 + timedelta(hours=20),
        clock=clock,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (5, 20), "5 leads in the first 5 of 20 hours: about 20 in all"
    assert calls[-1][0] == 10


def test_a_run_stopped_early_exits_with_the_code_that_says_run_again() -> None:
    """Scripts see 5 for a stop by signal, even next to plain failures; a lock or a budget
    stop (also "run again") keeps its own code."""
    from sync_agent.engine import exit_code
    from sync_agent.engine.run import RunSummary

    def runs(*outcomes: str) -> list[RunSummary]:
        return [RunSummary(f"p{i}", "backfill", outcome=o) for i, o in enumerate(outcomes)]

    assert exit_code(runs("ok", "ok")) == 0
    assert exit_code(runs("ok", "interrupted")) == 5
    assert exit_code(runs("failures", "interrupted")) == 5
    assert exit_code(runs("interrupted", "budget")) == 4
    assert exit_code(runs("failures", "ok")) == 1
