"""A follow-up deadline: a handoff time plus N hours, counted in open hours only.

Pure, no I/O. A :class:`Calendar` says when the clock runs: daily opening hours in a time
zone, on some weekdays, never on holidays. Without any of those it runs 24/7 and the
deadline is plain addition in absolute time (never wall-clock arithmetic: a DST change
must not make a 24-hour SLA last 23 or 25 hours). With business hours, each open window
is placed on the local calendar (``09:00-17:00`` in Europe/Berlin is 8 real hours on every
working day, DST days included) and converted to UTC before any arithmetic.

Why this shape: LeanData's Track SLA and Distribution Engine both offer "business hours
only" or 24/7 timers (``docs/sales-loop.md``); holidays are what admins add next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

ALL_WEEK = frozenset(range(7))
_MIDNIGHT = time(0, 0)


@dataclass(frozen=True)
class Calendar:
    """When the SLA clock runs. ``close`` None means midnight at the end of the day
    (``24:00``); ``weekdays`` use Python's numbering (Monday 0)."""

    zone: tzinfo = UTC
    open: time = _MIDNIGHT
    close: time | None = None
    weekdays: frozenset[int] = ALL_WEEK
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise ValueError("an SLA calendar needs at least one working weekday")
        if self.close is not None and self.close <= self.open:
            raise ValueError("business hours must close after they open (same day)")

    @property
    def always_open(self) -> bool:
        """24/7: every hour counts, so the deadline is plain addition."""
        return (self.open == _MIDNIGHT and self.close is None and self.weekdays == ALL_WEEK
                and not self.holidays)

    def working(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The open window of a local day, as UTC instants (local times that a DST change
        skips or repeats resolve as zoneinfo's ``fold=0`` does)."""
        start = datetime.combine(day, self.open, self.zone).astimezone(UTC)
        end_local = (datetime.combine(day, self.close, self.zone) if self.close is not None
                     else datetime.combine(day + timedelta(days=1), _MIDNIGHT, self.zone))
        return start, max(start, end_local.astimezone(UTC))

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` falls in an open window (both ends included)."""
        day = moment.astimezone(self.zone).date()
        for d in (day - timedelta(days=1), day):
            if self.working(d):
                start, end = self.window(d)
                if start <= moment <= end:
                    return True
        return False


def calendar(
    zone: str = "UTC", business_hours: str | None = None, weekdays: frozenset[int] = ALL_WEEK,
    holidays: frozenset[date] = frozenset(),
) -> Calendar:
    """A :class:`Calendar` from settings text (``"09:00-17:00"``, ``"Europe/Berlin"``)."""
    opens, closes = _MIDNIGHT, None
    if business_hours:
        first, _, last = business_hours.partition("-")
        opens = _clock_time(first)
        closes = None if last.strip() == "24:00" else _clock_time(last)
    return Calendar(ZoneInfo(zone), opens, closes, frozenset(weekdays), frozenset(holidays))


def _clock_time(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    return time(int(hours), int(minutes or 0))


#: No SLA runs longer than this many days of calendar: a guard against a calendar that
#: never opens (all weekdays on holiday would otherwise loop for ever).
MAX_DAYS = 3 * 366


def deadline(start: datetime, hours: float, cal: Calendar = Calendar()) -> datetime:
    """``start`` plus ``hours`` of open time, in UTC. ``start`` must be timezone-aware."""
    if start.tzinfo is None:
        raise ValueError("the SLA clock needs a timezone-aware start time")
    begin = start.astimezone(UTC)
    left = timedelta(hours=hours)
    if cal.always_open:
        return begin + left
    day = begin.astimezone(cal.zone).date() - timedelta(days=1)  # a window may span midnight
    for _ in range(MAX_DAYS):
        if cal.working(day):
            opens, closes = cal.window(day)
            frm = max(begin, opens)
            if frm < closes:
                if left <= closes - frm:
                    return frm + left
                left -= closes - frm
        day += timedelta(days=1)
    raise ValueError(f"the SLA calendar has no {hours:g} open hours within {MAX_DAYS} days")
