"""The background agent: APScheduler runs each pipeline on its schedule (with
:mod:`sync_agent.triggers`, the only modules that import APScheduler).

One job per pipeline, ``max_instances=1`` (never two runs of one pipeline at once),
``coalesce=True`` (missed runs collapse into one) and a misfire grace time; every job
also runs once at start-up. Job errors and misses are recorded in the audit log's
``events`` table by a listener. SIGTERM/SIGINT set a stop event: the running pass finishes
its current batch, the scheduler shuts down, and the agent lock is released last.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from sync_agent.audit import AuditLog
from sync_agent.config import Config
from sync_agent.engine import run_once
from sync_agent.lock import agent_lock
from sync_agent.logs import get_logger
from sync_agent.triggers import Schedule, make_trigger

Job = Callable[..., Any]


class JobTracker:
    """Counts running jobs so shutdown can wait for the current batch to finish."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.running = 0

    def __enter__(self) -> JobTracker:
        with self._cond:
            self.running += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self.running -= 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.running == 0, timeout)


def pipeline_job(
    config: Config,
    name: str,
    stop: threading.Event,
    tracker: JobTracker,
    clock: Callable[[], datetime] | None = None,
) -> list[Any]:
    """One scheduled pass of pipeline ``name`` (its errors reach the listener)."""
    if stop.is_set():
        return []
    with tracker:
        return run_once(config, pipeline=name, stop=stop, clock=clock)


def record_job_event(
    config: Config, event: JobExecutionEvent, clock: Callable[[], datetime]
) -> None:
    """Listener: a job that raised or missed its slot becomes a row in ``events`` and a log line."""
    kind = "job_missed" if event.code == EVENT_JOB_MISSED else "job_error"
    exc = getattr(event, "exception", None)
    message = (
        f"{type(exc).__name__}: {exc}"
        if exc is not None
        else f"missed run at {event.scheduled_run_time}"
    )
    get_logger("sync_agent.scheduler", pipeline=event.job_id).error(kind, error=message)
    with AuditLog.open(config.audit_db) as log:
        log.record_event(kind, message, clock(), pipeline=event.job_id)


def build_scheduler(
    config: Config,
    *,
    stop: threading.Event | None = None,
    tracker: JobTracker | None = None,
    scheduler: BaseScheduler | None = None,
    job: Job = pipeline_job,
    clock: Callable[[], datetime] | None = None,
    pipeline: str | None = None,
) -> BaseScheduler:
    """A scheduler with one job per enabled pipeline, or just ``pipeline`` (not started)."""
    injected = clock  # passed on to the runs (None: the real clock)
    clock = clock or (lambda: datetime.now(UTC))
    stop = stop or threading.Event()
    tracker = tracker or JobTracker()
    sched = scheduler or BlockingScheduler(timezone=UTC)
    for spec in config.selected(pipeline):
        sched.add_job(
            job,
            make_trigger(spec.schedule),
            args=(config, spec.name, stop, tracker, injected),
            id=spec.name,
            name=f"pipeline {spec.name}",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=config.misfire_grace_seconds,
            next_run_time=clock(),
        )
    sched.add_job(
        retention_job,
        make_trigger(Schedule(cron=RETENTION_CRON)),
        args=(config, tracker, clock),
        id=RETENTION_JOB,
        name="retention (prune)",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=config.misfire_grace_seconds,
    )
    sched.add_listener(
        lambda event: record_job_event(config, event, clock), EVENT_JOB_ERROR | EVENT_JOB_MISSED
    )
    return sched


def background_scheduler(config: Config, **options: Any) -> BaseScheduler:
    """:func:`build_scheduler` on a scheduler thread of its own (``serve`` keeps the main
    thread for signals and its HTTP server); ``options`` as for ``build_scheduler``."""
    return build_scheduler(config, scheduler=BackgroundScheduler(timezone=UTC), **options)


def is_running(sched: BaseScheduler | None) -> bool:
    """Whether a started scheduler still runs (its thread too, for a background one)."""
    if sched is None or sched.state != STATE_RUNNING:
        return False
    thread = getattr(sched, "_thread", None)  # BackgroundScheduler's; absent elsewhere
    return thread is None or thread.is_alive()


#: The running agent holds the lock for good, so it applies the retention policy itself.
RETENTION_JOB = "retention"
RETENTION_CRON = "15 3 * * *"


def retention_job(config: Config, tracker: JobTracker, clock: Callable[[], datetime]) -> int:
    """Prune decisions older than ``[retention] decisions_days`` (daily, 03:15 UTC)."""
    with tracker, AuditLog.open(config.audit_db) as log:
        removed = log.prune(clock() - timedelta(days=config.decisions_days))
    get_logger("sync_agent.scheduler").info("pruned", decisions=removed)
    return removed


def serve(
    config: Config, *, pipeline: str | None = None, stop: threading.Event | None = None
) -> int:
    """Run the agent until SIGTERM/SIGINT (or ``stop``); raises AgentLocked if another runs."""
    stop = stop or threading.Event()
    tracker = JobTracker()
    log = get_logger("sync_agent.scheduler")
    with agent_lock(config.audit_db):
        sched = build_scheduler(config, stop=stop, tracker=tracker, pipeline=pipeline)

        def on_signal(signum: int, _frame: Any) -> None:
            log.info("stopping", signal=signal.Signals(signum).name)
            stop.set()
            sched.shutdown(wait=False)

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            log.info("agent_started", pipelines=[p.name for p in config.selected(pipeline)])
            sched.start()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
            tracker.wait_idle()
            log.info("agent_stopped")
    return 0
