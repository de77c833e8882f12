"""Coercion of values as HubSpot and Salesforce send them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sync_agent.rules.coerce import BAD, is_missing, to_bool, to_date, to_day, to_number, to_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("72", 72.0), (" 12.5 ", 12.5), ("1,200", 1200.0), ("-3", -3.0), (7, 7.0), (2.5, 2.5),
     (Decimal("12.50"), 12.5), (Decimal("NaN"), BAD),
     ("abc", BAD), ("1,5", BAD), ("nan", BAD), ("inf", BAD), (True, BAD), (None, BAD),
     ([1, "2"], (1.0, 2.0)), ([[1]], BAD), (["x"], BAD), (10**400, BAD)],
)  # fmt: skip
def test_to_number(raw: object, expected: object) -> None:
    assert to_number(raw) == expected if expected is not BAD else to_number(raw) is BAD


@pytest.mark.parametrize("raw", ["1" + "0" * 32, "-" + "9" * 40, "1" * 5000, "0." + "1" * 40])
def test_more_digits_than_the_cap_are_not_a_number(raw: str) -> None:
    assert to_number(raw) is BAD


def test_a_number_with_as_many_digits_as_the_cap_is_one() -> None:
    assert to_number("1" + "0" * 31) == 1e31


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("TRUE", True), ("yes", True), ("1", True), ("false", False), ("no", False),
     ("0", False), (True, True), (0, False), (1, True), ("maybe", BAD), (2, BAD), (None, BAD)],
)  # fmt: skip
def test_to_bool(raw: object, expected: object) -> None:
    assert to_bool(raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-02", datetime(2026, 11, 2, tzinfo=UTC)),
        ("2026-11-02T10:30:00Z", datetime(2026, 11, 2, 10, 30, tzinfo=UTC)),
        ("2026-11-02T10:30:00.000Z", datetime(2026, 11, 2, 10, 30, tzinfo=UTC)),
        ("2026-11-02T12:30:00+02:00", datetime(2026, 11, 2, 10, 30, tzinfo=UTC)),
        ("1762079400000", datetime(2025, 11, 2, 10, 30, tzinfo=UTC)),
        (1762079400000, datetime(2025, 11, 2, 10, 30, tzinfo=UTC)),
        (date(2026, 1, 5), datetime(2026, 1, 5, tzinfo=UTC)),
        (datetime(2026, 1, 5, 8), datetime(2026, 1, 5, 8, tzinfo=UTC)),
    ],
)
def test_to_date_reads_iso_and_epoch_milliseconds(raw: object, expected: datetime) -> None:
    assert to_date(raw) == expected


@pytest.mark.parametrize("raw", ["last week", "2026-13-01", "99999999999999999999", True, [], "12"])
def test_to_date_refuses_junk(raw: object) -> None:
    assert to_date(raw) is BAD


def test_to_day_is_the_utc_calendar_day() -> None:
    assert to_day("2026-11-02T23:30:00-02:00") == date(2026, 11, 3)


def test_to_text_spells_numbers_and_booleans_as_people_do() -> None:
    assert [to_text(v) for v in (" DE ", 12, 12.0, 2.5, True)] == ["DE", "12", "12", "2.5", "true"]
    assert to_text({"a": 1}) is BAD


@pytest.mark.parametrize(
    ("raw", "missing"), [(None, True), ("", True), ("  ", True), ("0", False), (0, False)]
)
def test_blank_values_count_as_missing(raw: object, missing: bool) -> None:
    assert is_missing(raw) is missing
