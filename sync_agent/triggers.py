"""When a pipeline runs: its schedule, and the APScheduler trigger that implements it.

Kept apart from :mod:`sync_agent.scheduler` (which runs jobs) so that validating a
configuration can check a cron expression with the same parser that will run it, without
the configuration depending on the scheduler. Triggers are pure: APScheduler computes
fire times from ``(previous, now)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC

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
