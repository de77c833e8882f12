"""When a pipeline runs: its schedule, and the APScheduler trigger that implements it.

Kept apart from :mod:`sync_agent.scheduler` (which runs jobs) so that validating a
configuration can check a cron expression with the same parser that will run it, without
the configuration depending on the scheduler. Triggers are pure: APScheduler computes
fire times from ``(previous, now)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger


@dataclass(frozen=True)
class Schedule:
    """Either every ``every_minutes`` minutes or a five-field ``cron`` expression (UTC)."""

    every_minutes: float | None = None
    cron: str | None = None


def cron_problem(expr: str) -> str | None:
    """Why ``expr`` is not a valid five-field crontab expression, or None."""
    try:
        CronTrigger.from_crontab(expr, timezone=UTC)
    except ValueError as exc:
        return str(exc)
    return None


def make_trigger(schedule: Schedule) -> IntervalTrigger | CronTrigger:
    """The APScheduler trigger for a pipeline's schedule (times in UTC)."""
    if schedule.cron:
        return CronTrigger.from_crontab(schedule.cron, timezone=UTC)
    return IntervalTrigger(minutes=schedule.every_minutes or 15, timezone=UTC)


def next_due(schedule: Schedule, after: datetime) -> datetime:
    """When a pipeline on ``schedule`` is due next after ``after`` (a run that ended then):
    ``after`` plus the interval, or the cron expression's next time."""
    if schedule.cron:
        trigger = CronTrigger.from_crontab(schedule.cron, timezone=UTC)
        due = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        return due if due is not None else after
    return after + timedelta(minutes=schedule.every_minutes or 15)


def describe(schedule: Schedule) -> str:
    """``every 15 min`` or ``cron */5 * * * *``."""
    if schedule.cron:
        return f"cron {schedule.cron}"
    return f"every {schedule.every_minutes or 15:g} min"
