"""The shared client-side rate limiter, on a fake clock (no real waiting)."""

from __future__ import annotations

import pytest

from connectors.hubspot.limits import LimitConfig, RateLimiter, shared_limiter
from sync_agent.errors import BudgetExhausted

from .conftest import FakeClock


def _limiter(clock: FakeClock, **kw: float) -> RateLimiter:
    config = LimitConfig(burst_per_10s=int(kw.get("burst", 10)),
                         search_per_s=int(kw.get("search", 5)),
                         daily=int(kw.get("daily", 1000)), daily_max_share=kw.get("share", 1.0))
    return RateLimiter(config, clock=clock, sleep=clock.sleep)


def _max_in_window(stamps: list[float], window: float) -> int:
    return max(sum(1 for t in stamps if s <= t < s + window) for s in stamps)


def test_burst_and_search_windows_are_never_exceeded():
    clock = FakeClock(1_000_000.0)
    limiter = _limiter(clock, burst=10, search=3)
    stamps, searches = [], []
    for i in range(60):
        search = i % 2 == 0
        limiter.acquire(search=search)
        stamps.append(clock.now)
        if search:
            searches.append(clock.now)
    assert _max_in_window(stamps, 10.0) <= 10
    assert _max_in_window(searches, 1.0) <= 3
    assert clock.now - 1_000_000.0 >= 50  # 60 calls at 10 per 10 s


def test_daily_share_stops_with_budget_exhausted():
    clock = FakeClock(1_000_000.0)
    limiter = _limiter(clock, burst=1000, daily=100, share=0.5)
    for _ in range(50):
        limiter.acquire()
    with pytest.raises(BudgetExhausted):
        limiter.acquire()


def test_the_budget_resets_on_a_new_day():
    clock = FakeClock(86_400 * 100 + 10.0)
    limiter = _limiter(clock, burst=1000, daily=2, share=1.0)
    limiter.acquire()
    limiter.acquire()
    assert limiter.used_today == 2  # a third call today would raise BudgetExhausted
    clock.now += 86_400
    limiter.acquire()  # no BudgetExhausted: the count started again
    assert limiter.used_today == 1


def test_server_headers_tighten_our_view():
    clock = FakeClock(1_000_000.0)
    limiter = _limiter(clock, burst=10, daily=1000, share=0.5)
    limiter.acquire()
    # Another app used 8 of the 10; and the day is nearly spent by others.
    limiter.observe({"X-HubSpot-RateLimit-Max": "10", "X-HubSpot-RateLimit-Remaining": "1",
                     "X-HubSpot-RateLimit-Daily": "1000",
                     "X-HubSpot-RateLimit-Daily-Remaining": "520"})
    assert limiter.used_today == 480
    limiter.acquire()
    start = clock.now
    limiter.acquire()  # the window is full: this one waits for it to roll
    assert clock.now - start >= 10
    for _ in range(18):
        limiter.acquire()
    with pytest.raises(BudgetExhausted):
        limiter.acquire()


def test_penalty_holds_every_caller_back():
    clock = FakeClock(1_000_000.0)
    limiter = _limiter(clock)
    limiter.penalize(7.5)
    limiter.acquire()
    assert clock.now == pytest.approx(1_000_007.5)


def test_one_limiter_per_portal_and_token():
    clock = FakeClock()
    config = LimitConfig(10, 5, 100, 0.5)
    a = shared_limiter("http://x", "tok-1", config, clock=clock, sleep=clock.sleep)
    assert shared_limiter("http://x", "tok-1", config) is a
    assert shared_limiter("http://x", "tok-2", config) is not a


def test_two_processes_of_one_run_both_count_in_the_saved_usage():
    """A backfill's writer process paces with its own limiter: both processes start from
    the saved usage and each saves on close. The calls of both must count (the last to
    save must not erase the other's), and a second close of one limiter (its source and
    its sink share it) must not count its calls twice."""
    from connectors.base import MemoryState
    from connectors.hubspot.build import USAGE_KEY, persist_usage

    clock = FakeClock(86_400 * 100 + 10.0)
    state = MemoryState()
    state.put(USAGE_KEY, {"day": 100, "used": 40})
    reader, writer = _limiter(clock, burst=1000), _limiter(clock, burst=1000)
    for limiter in (reader, writer):
        limiter.restore(state.get(USAGE_KEY))
    for _ in range(7):
        reader.acquire()
    for _ in range(5):
        writer.acquire()
    persist_usage(writer, state)
    persist_usage(reader, state)
    persist_usage(reader, state)  # the source's close after the sink's: same limiter
    assert state.get(USAGE_KEY) == {"day": 100, "used": 52}
    fresh = _limiter(clock, burst=1000)
    fresh.restore(state.get(USAGE_KEY))
    assert fresh.used_today == 52
