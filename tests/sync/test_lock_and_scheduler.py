"""One agent per database (fcntl lock) and the APScheduler wiring, with no sleeps."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from sync_agent import lock, scheduler
from sync_agent.audit import AuditLog
from sync_agent.engine import backfill, replay, run_once
from sync_agent.errors import AgentLocked
from sync_agent.triggers import Schedule, cron_problem, make_trigger

HOLD = textwrap.dedent("""
    import sys, time
    from sync_agent.lock import acquire
    acquire(sys.argv[1])
    print("held", flush=True)
    sys.stdin.read()
""")


@pytest.fixture
def other_agent(make_config):
    """A second process holding the agent lock on the config's database."""
    config = make_config()
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(config.audit_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield config, proc
    proc.kill()
    proc.wait()


def test_a_second_agent_is_refused_with_the_holders_pid(other_agent, worlds, clock) -> None:
    config, proc = other_agent
    for call in (
        lambda: run_once(config, clock=clock),
        lambda: backfill(config, since="2026-01-01", clock=clock),
        lambda: replay(config, clock=clock),
    ):
        with pytest.raises(AgentLocked, match=f"pid {proc.pid}"):
            call()
    assert run_once(config, clock=clock, dry_run=True)[0].outcome == "ok", "dry runs need no lock"


def test_the_lock_is_free_again_once_the_holder_dies(other_agent, worlds, clock) -> None:
    config, proc = other_agent
    proc.kill()  # as kill -9: the kernel drops the lock
    proc.wait()
    assert run_once(config, clock=clock)[0].outcome == "ok"


def test_lock_is_reentrant_within_the_agent_process(tmp_path) -> None:
    db = tmp_path / "a.db"
    with lock.agent_lock(db), lock.agent_lock(db):
        pass
    with lock.agent_lock(db):  # released fully above
        assert (tmp_path / "a.db.lock").read_text().strip().isdigit()


def test_triggers_follow_the_schedule() -> None:
    now = datetime(2026, 1, 5, 9, 7, tzinfo=UTC)
    interval = make_trigger(Schedule(every_minutes=15))
    assert isinstance(interval, IntervalTrigger) and interval.interval.total_seconds() == 900
    cron = make_trigger(Schedule(cron="*/15 * * * *"))
    assert isinstance(cron, CronTrigger)
    assert cron.get_next_fire_time(None, now) == datetime(2026, 1, 5, 9, 15, tzinfo=UTC)
    assert cron_problem("*/15 * * * *") is None
    assert cron_problem("61 * * * *")


def test_one_job_per_pipeline_never_overlapping(make_config, worlds, clock) -> None:
    config = make_config()
    sched = scheduler.build_scheduler(
        config, scheduler=BackgroundScheduler(timezone=UTC), clock=clock
    )
    job, retention = sched.get_jobs()
    assert retention.id == "retention", "the running agent prunes by itself (it holds the lock)"
    assert job.id == "mqls" and job.max_instances == 1 and job.coalesce is True
    assert job.args[-1] is clock
    assert job.misfire_grace_time == config.misfire_grace_seconds
    assert job.next_run_time == clock(), "every pipeline also runs at start-up"


def test_the_job_runs_one_pass_and_honours_stop(make_config, worlds, clock) -> None:
    src, crm = worlds
    src.add("1", 90, minute=1)
    config = make_config()
    stop, tracker = threading.Event(), scheduler.JobTracker()
    [summary] = scheduler.pipeline_job(config, "mqls", stop, tracker, clock)
    assert summary.decided == 1 and crm.sal == {"1": "accepted"} and tracker.running == 0
    with AuditLog.open(config.audit_db) as log:
        assert log.runs()[0]["started_at"] == clock().isoformat(), (
            "the job runs on the injected clock"
        )
    stop.set()
    assert scheduler.pipeline_job(config, "mqls", stop, tracker) == []


def test_job_errors_are_recorded_in_the_audit_log(make_config, worlds, clock) -> None:
    config = make_config()
    event = JobExecutionEvent(
        EVENT_JOB_ERROR, "mqls", "default", clock(), exception=RuntimeError("boom")
    )
    scheduler.record_job_event(config, event, clock)
    with AuditLog.open(config.audit_db) as log:
        [row] = log.events("job_error")
    assert row["pipeline"] == "mqls" and "RuntimeError: boom" in row["message"]


def test_prune_takes_the_agent_lock_and_the_agent_prunes_daily(
    other_agent, worlds, clock
) -> None:
    """Pruning while an agent writes would race it: the command exits 3; the running
    agent applies the retention policy itself, every day."""
    from click.testing import CliRunner

    from sync_agent.cli import main

    config, proc = other_agent
    result = CliRunner().invoke(main, ["prune", "--config", str(config.path)])
    assert result.exit_code == 3 and f"pid {proc.pid}" in result.output
    proc.kill()
    proc.wait()
    src, _ = worlds
    src.add("1", 10, minute=1)
    run_once(config, clock=clock)
    sched = scheduler.build_scheduler(
        config, scheduler=BackgroundScheduler(timezone=UTC), clock=clock
    )
    [retention] = [j for j in sched.get_jobs() if j.id == "retention"]
    assert str(retention.trigger) == str(CronTrigger.from_crontab("15 3 * * *", timezone=UTC))
    clock.advance(days=config.decisions_days + 1)
    assert retention.func(*retention.args) == 1
