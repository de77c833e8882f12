"""Exactly-once write-back: a crash at each step, then a re-run: nothing lost, nothing twice.

The crash is a BaseException raised at the chosen step (the process "dies" there: nothing
after it runs); the audit database on disk is all the next run sees.
"""

from __future__ import annotations

import pytest
from sync_fakes import FakeClock, World

from sync_agent.audit import AuditLog
from sync_agent.audit import db as audit_db
from sync_agent.engine import run_once


class Crash(BaseException):
    """Stands in for kill -9."""


def seed(src: World, n: int) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80 if i % 3 else 10, minute=i)


def assert_exactly_once(config, src: World, crm: World, n: int) -> None:
    accepted = {str(i) for i in range(1, n + 1) if i % 3}
    for world in (src, crm):
        assert set(world.sal) == {str(i) for i in range(1, n + 1)}, "every lead has its SAL status"
        assert len(world.notes) == len(accepted) and set(world.notes.values()) == {1}, (
            "one note per SAL"
        )
    with AuditLog.open(config.audit_db) as log:
        assert log.write_states() == {"written": 2 * n}
        assert {r["status"] for r in log.list_decisions(limit=None)} == {"written"}
        assert len(log.list_decisions(limit=None)) == n


def crash_after(
    monkeypatch: pytest.MonkeyPatch, method: str, call: int, *, before: bool = False
) -> None:
    """Make AuditLog.<method> die on its ``call``-th call (after committing, unless ``before``)."""
    original = getattr(audit_db.AuditLog, method)
    seen = {"n": 0}

    def wrapper(self, *args, **kwargs):
        seen["n"] += 1
        if seen["n"] == call and before:
            raise Crash(method)
        result = original(self, *args, **kwargs)
        if seen["n"] == call:
            raise Crash(method)
        return result

    monkeypatch.setattr(audit_db.AuditLog, method, wrapper)


@pytest.mark.parametrize(
    ("method", "call", "before"),
    [
        ("record_page", 1, False),  # decisions + outbox + cursor committed, nothing sent
        ("record_page", 2, False),  # first page's writes may be in flight on the writer thread
        ("mark_in_flight", 1, False),  # in flight committed, sink never called
        ("mark_in_flight", 3, False),
        ("record_results", 1, True),  # sink wrote, results never committed
        ("record_results", 2, True),
        ("record_results", 4, False),  # results committed, then died
    ],
)
def test_crash_at_each_step_then_rerun_is_exactly_once(
    make_config, worlds, clock: FakeClock, monkeypatch, method, call, before
) -> None:
    src, crm = worlds
    seed(src, 10)
    config = make_config(page_size=4, batch=4)
    with monkeypatch.context() as m:
        crash_after(m, method, call, before=before)
        with pytest.raises(Crash):
            run_once(config, clock=clock)
    clock.advance(seconds=config.reconcile_after_seconds)
    [summary] = run_once(config, clock=clock)
    assert summary.outcome == "ok"
    assert_exactly_once(config, src, crm, 10)


def test_crash_inside_the_sink_after_it_wrote_is_reconciled(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 6)
    config = make_config(page_size=6)
    crm.crash_after_apply.append(Crash("sink died after applying"))
    with pytest.raises(Crash):
        run_once(config, clock=clock)
    assert crm.notes and set(crm.notes.values()) == {1}
    run_once(config, clock=clock)  # too soon: what landed may not be searchable yet
    assert crm.calls["write_recovering"] == 0
    clock.advance(seconds=config.reconcile_after_seconds)
    run_once(config, clock=clock)
    assert crm.calls["write_recovering"] >= 1, "the retry reconciles"
    assert_exactly_once(config, src, crm, 6)


def test_repeated_crashes_at_every_write_until_done(
    make_config, worlds, clock, monkeypatch
) -> None:
    src, crm = worlds
    seed(src, 9)
    config = make_config(page_size=2, batch=2)
    for attempt in range(1, 30):
        with monkeypatch.context() as m:
            crash_after(m, "record_results", 1, before=attempt % 2 == 0)
            try:
                run_once(config, clock=clock)
            except Crash:
                clock.advance(seconds=config.reconcile_after_seconds)
                continue
        break
    run_once(config, clock=clock)
    assert_exactly_once(config, src, crm, 9)


def test_first_attempts_do_not_pay_for_reconciliation(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src, 5)
    run_once(make_config(), clock=clock)
    assert crm.calls["write_recovering"] == 0 and crm.calls["write"] >= 1
