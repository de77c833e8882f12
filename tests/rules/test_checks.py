"""The fast node constructors build what the dataclass constructors build; memo switches."""

from __future__ import annotations

from datetime import UTC, datetime

from sync_agent.model import Check, Decision, Outcome
from sync_agent.rules.checks import make_check, make_decision


def test_make_check_equals_the_dataclass() -> None:
    child = Check("condition", "x present", True, "", "v")
    fast = make_check(
        "criterion",
        "c",
        True,
        "1 of 1",
        None,
        5.0,
        10.0,
        (make_check("condition", "x present", True, "", "v"),),
    )
    slow = Check("criterion", "c", True, "1 of 1", None, 5.0, 10.0, (child,))
    assert fast == slow and hash(fast) == hash(slow)
    assert fast.to_dict() == slow.to_dict()
    assert repr(fast) == repr(slow)


def test_make_decision_equals_the_dataclass() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    args = (
        Outcome.ACCEPTED,
        80.0,
        ("score 80 >= 70",),
        (Check("threshold", "t", True),),
        "sal",
        "ab" * 32,
        now,
        None,
    )
    fast, slow = make_decision(*args), Decision(*args)
    assert fast == slow and fast.to_dict() == slow.to_dict()
    assert Decision.from_dict(fast.to_dict()) == slow


def test_memo_switches_itself_off_only_when_few_lookups_hit() -> None:
    from sync_agent.rules.memo import WINDOW, HitRate

    busy, idle = HitRate(), HitRate()
    for _ in range(WINDOW):
        busy.hits += 1  # one hit for every miss: 50 %
        busy.missed()
        idle.missed()  # never a hit
    assert busy.on and not idle.on


def test_clock_dependent_caches_are_emptied_only_when_the_clock_moves() -> None:
    from datetime import UTC, datetime

    from sync_agent.rules.memo import new_cache, watching_clock

    with watching_clock() as clock:
        timed, plain = new_cache(True), new_cache(False)
    outside = new_cache(True)  # made while no ruleset compiles: belongs to no watch
    first = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    clock.see(first)
    timed["k"] = plain["k"] = outside["k"] = 1
    clock.see(first)
    clock.see(first.replace())  # an equal clock, another object: still the same instant
    assert timed == {"k": 1}
    clock.see(datetime(2026, 11, 25, 12, 1, tzinfo=UTC))
    assert timed == {} and plain == {"k": 1} and outside == {"k": 1}
