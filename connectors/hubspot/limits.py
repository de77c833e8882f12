"""Client-side pacing for HubSpot: avoid 429s instead of provoking them.

One :class:`RateLimiter` is shared per (base URL, token) by the source AND the sink, so
they pace together: all calls stay within the burst limit per 10 s, search calls within
their own per-second limit, and the day's calls within a configured share of the daily
allocation (then :class:`~sync_agent.errors.BudgetExhausted`: stop cleanly, state saved).
The server's rate headers tighten our view (other apps share the portal's limits). Time
comes from an injected clock and sleep function, so tests never wait for real.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sync_agent.errors import BudgetExhausted

Clock = Callable[[], float]
Sleep = Callable[[float], None]

BURST_WINDOW_S = 10.0
SEARCH_WINDOW_S = 1.0
#: Added to every window so that our clock and the server's disagreeing by a few
#: milliseconds doesn't produce a 429 at the edge.
WINDOW_MARGIN_S = 0.05
#: A search answered 429 widens the search window's margin by this much, up to the cap:
#: the per-second window is so short that the time between our clock reading and the
#: server's (a busy process, a slow network) can exceed the fixed margin.
SEARCH_MARGIN_STEP_S = 0.025
SEARCH_MARGIN_MAX_S = 0.25


@dataclass(frozen=True)
class LimitConfig:
    burst_per_10s: int
    search_per_s: int
    daily: int
    daily_max_share: float


class RateLimiter:
    """Sliding-window pacing plus a daily budget; thread-safe."""

    def __init__(self, config: LimitConfig, *, clock: Clock = time.time,
                 sleep: Sleep = time.sleep, margin: float = WINDOW_MARGIN_S) -> None:
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.margin = margin
        self.search_margin = margin
        self._burst_max = config.burst_per_10s
        self._daily = config.daily
        self._calls: deque[float] = deque()
        self._searches: deque[float] = deque()
        self._day = -1
        self._used_today = 0
        #: calls counted today and not saved yet (see :meth:`merge_into`)
        self._unsaved = 0
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    @property
    def used_today(self) -> int:
        return self._used_today

    @property
    def allowance(self) -> int:
        """Calls we allow ourselves today: the configured share of the daily limit."""
        return int(self._daily * self.config.daily_max_share)

    def acquire(self, *, search: bool = False) -> None:
        """Block (through ``sleep``) until a call may go out, then count it."""
        while True:
            with self._lock:
                now = self.clock()
                self._roll_day(now)
                if self._used_today >= self.allowance:
                    raise BudgetExhausted(
                        f"HubSpot daily budget used: {self._used_today} of {self.allowance} "
                        f"calls allowed ({self.config.daily_max_share:.0%} of {self._daily})"
                    )
                wait = self._wait(now, search)
                if wait <= 0:
                    self._calls.append(now)
                    if search:
                        self._searches.append(now)
                    self._used_today += 1
                    self._unsaved += 1
                    return
            self.sleep(wait)

    def widen_search_margin(self) -> None:
        """After a search answered 429: keep a wider gap to the per-second window."""
        with self._lock:
            self.search_margin = min(self.search_margin + SEARCH_MARGIN_STEP_S,
                                     SEARCH_MARGIN_MAX_S)

    def penalize(self, seconds: float) -> None:
        """Hold every caller back for ``seconds`` (after a 429)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + seconds)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Tighten our view with the server's: ``X-HubSpot-RateLimit-*`` headers."""
        if not headers:
            return
        values = {k.lower(): v for k, v in headers.items()}
        limit_max = _int(values.get("x-hubspot-ratelimit-max"))
        remaining = _int(values.get("x-hubspot-ratelimit-remaining"))
        daily = _int(values.get("x-hubspot-ratelimit-daily"))
        daily_left = _int(values.get("x-hubspot-ratelimit-daily-remaining"))
        with self._lock:
            now = self.clock()
            if limit_max:
                self._burst_max = min(self.config.burst_per_10s, limit_max)
            if remaining is not None:
                self._expire(now)
                # Calls the server counted that we didn't make (other apps, other agents).
                foreign = (self._burst_max - len(self._calls)) - remaining
                self._calls.extend([now] * max(0, foreign))
            if daily:
                self._daily = min(self.config.daily, daily)
            if daily is not None and daily_left is not None:
                self._used_today = max(self._used_today, daily - daily_left)

    def _wait(self, now: float, search: bool) -> float:
        self._expire(now)
        waits = [self._blocked_until - now]
        if len(self._calls) >= self._burst_max:
            waits.append(self._calls[len(self._calls) - self._burst_max]
                         + BURST_WINDOW_S + self.margin - now)
        if search and len(self._searches) >= self.config.search_per_s:
            waits.append(self._searches[len(self._searches) - self.config.search_per_s]
                         + SEARCH_WINDOW_S + self.search_margin - now)
        return max(waits)

    def _expire(self, now: float) -> None:
        while self._calls and self._calls[0] + BURST_WINDOW_S + self.margin <= now:
            self._calls.popleft()
        while self._searches and self._searches[0] + SEARCH_WINDOW_S + self.search_margin <= now:
            self._searches.popleft()

    def snapshot(self) -> dict[str, int]:
        """The day's usage as JSON, to keep between processes (cron runs)."""
        with self._lock:
            self._roll_day(self.clock())
            return {"day": self._day, "used": self._used_today}

    def merge_into(self, saved: object) -> dict[str, int]:
        """The day's usage to save over ``saved`` (what is saved now): that count plus our
        calls not saved yet, never below our own view (the server's headers may know more).

        Adding, not replacing: a backfill's writer process paces with a limiter of its own,
        and both processes save on close; the last one must not erase the other's calls.
        Saving twice (a source and a sink share this limiter) adds nothing the second time.
        """
        with self._lock:
            self._roll_day(self.clock())
            base = 0
            if isinstance(saved, Mapping) and saved.get("day") == self._day:
                used = saved.get("used")
                base = used if isinstance(used, int) else 0
            total = max(base + self._unsaved, self._used_today)
            self._unsaved = 0
            return {"day": self._day, "used": total}

    def restore(self, saved: object) -> None:
        """Count what earlier processes used today (a :meth:`snapshot`; other days ignored)."""
        if not isinstance(saved, Mapping):
            return
        day, used = saved.get("day"), saved.get("used")
        if not isinstance(day, int) or not isinstance(used, int):
            return
        with self._lock:
            self._roll_day(self.clock())
            if day == self._day:
                self._used_today = max(self._used_today, used)

    def _roll_day(self, now: float) -> None:
        day = int(now // 86_400)
        if day != self._day:
            self._day = day
            self._used_today = 0
            self._unsaved = 0


_REGISTRY: dict[tuple[str, str], RateLimiter] = {}
_REGISTRY_LOCK = threading.Lock()


def shared_limiter(base_url: str, token: str, config: LimitConfig, *,
                   clock: Clock = time.time, sleep: Sleep = time.sleep) -> RateLimiter:
    """The one limiter for this portal and token, created on first use."""
    key = (base_url, hashlib.sha256(token.encode()).hexdigest())
    with _REGISTRY_LOCK:
        limiter = _REGISTRY.get(key)
        if limiter is None or limiter.config != config:
            limiter = RateLimiter(config, clock=clock, sleep=sleep)
            _REGISTRY[key] = limiter
        return limiter


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
