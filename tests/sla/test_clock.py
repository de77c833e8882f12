"""The SLA clock: deadlines in business hours, time zones, DST and holidays (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_agent.sla.clock import Calendar, calendar, deadline
from sync_agent.sla.state import SlaState, sla_state

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = calendar("Europe/Berlin", "09:00-17:00", frozenset(range(5)),
                  frozenset({date(2026, 12, 25), date(2026, 12, 28)}))

moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.just(UTC))
durations = st.floats(min_value=0.01, max_value=200, allow_nan=False)
calendars = st.builds(
    calendar,
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Sydney"]),
    business_hours=st.sampled_from([None, "09:00-17:00", "08:30-18:00", "00:00-24:00",
                                    "01:30-03:30"]),
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    holidays=st.frozensets(st.dates(date(2025, 1, 1), date(2028, 12, 31)), max_size=20),
)


@given(moments, durations)
def test_24_7_is_plain_addition_in_absolute_time(start: datetime, hours: float) -> None:
    assert deadline(start, hours) == start + timedelta(hours=hours)
    local = start.astimezone(NEW_YORK)  # the zone of the start changes nothing
    assert deadline(local, hours, calendar("America/New_York")) == start + timedelta(hours=hours)


@settings(max_examples=200, deadline=None)
@given(calendars, moments, moments, durations)
def test_deadlines_are_monotone_and_never_in_closed_hours(
    cal: Calendar, a: datetime, b: datetime, hours: float
) -> None:
    first, second = sorted((a, b))
    due_first, due_second = deadline(first, hours, cal), deadline(second, hours, cal)
    assert due_first <= due_second
    assert cal.is_open(due_first) and cal.is_open(due_second)
    assert due_first - first >= timedelta(hours=hours) - timedelta(microseconds=1)


@settings(max_examples=100, deadline=None)
@given(calendars, moments, durations, durations)
def test_more_hours_never_end_earlier(cal: Calendar, start: datetime, x: float, y: float) -> None:
    low, high = sorted((x, y))
    assert deadline(start, low, cal) <= deadline(start, high, cal)


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    friday_4pm = datetime(2026, 12, 18, 16, 0, tzinfo=BERLIN)
    # 1 h on Friday, then Monday 09:00 + 23 h of 8-hour days: Mon 8, Tue 8, Wed 7 → Wed 16:00
    assert deadline(friday_4pm, 24, OFFICE) == datetime(2026, 12, 23, 16, 0, tzinfo=BERLIN)
    # Christmas (Fri 25th) and Monday 28th are holidays: Thu 24th 16:00 + 8 h → Tue 29th 15:00
    thursday = datetime(2026, 12, 24, 16, 0, tzinfo=BERLIN)
    assert deadline(thursday, 8, OFFICE) == datetime(2026, 12, 29, 16, 0, tzinfo=BERLIN)
    # a handoff at night starts counting at opening time
    night = datetime(2026, 12, 21, 23, 0, tzinfo=BERLIN)
    assert deadline(night, 2, OFFICE) == datetime(2026, 12, 22, 11, 0, tzinfo=BERLIN)


def test_dst_changes_neither_24_7_nor_business_hours() -> None:
    before_spring = datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)  # clocks go forward on the 29th
    assert deadline(before_spring, 24) - before_spring == timedelta(hours=24)
    assert deadline(before_spring, 24).astimezone(BERLIN).hour == 13  # wall clock moved
    all_days = calendar("Europe/Berlin", "09:00-17:00")
    # Sat 12:00 → 5 h Sat, 8 h Sun (DST day, still 8 real hours), Mon 09:00 + 11 → no:
    # 24 h = 5 (Sat) + 8 (Sun) + 8 (Mon) + 3 (Tue) → Tue 12:00 local
    assert deadline(before_spring, 24, all_days) == datetime(2026, 3, 31, 12, 0, tzinfo=BERLIN)


def test_the_state_of_a_handoff() -> None:
    due = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    early, late = due - timedelta(minutes=1), due + timedelta(minutes=1)
    assert sla_state(due, early, late) is SlaState.MET
    assert sla_state(due, due, late) is SlaState.MET  # on the deadline counts
    assert sla_state(due, None, early) is SlaState.PENDING
    assert sla_state(due, None, due) is SlaState.PENDING
    assert sla_state(due, None, late) is SlaState.BREACHED
    assert sla_state(due, late, late + timedelta(hours=1)) is SlaState.BREACHED  # touched late


def test_a_calendar_that_can_never_open_is_refused() -> None:
    with pytest.raises(ValueError, match="weekday"):
        Calendar(weekdays=frozenset())
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline(datetime(2026, 1, 1), 1, OFFICE)
