"""Rate-limit settings for the emulators, and HubSpot's sliding windows.

Limits are off (None) by default so tests run fast; a benchmark or a limits test turns
them on. Windows use the store clock, so a test with a fake clock controls them.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

#: Private-app limits per HubSpot tier: (requests per 10 s, requests per day).
HUBSPOT_TIERS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (190, 625_000),
    "enterprise": (190, 1_000_000),
}


@dataclass
class HubSpotLimits:
    """HubSpot limits; None switches a limit off.

    ``retry_after`` adds a ``Retry-After`` header (seconds until the window frees) to 429s;
    HubSpot doesn't document one, so it is off by default.
    """

    burst_per_10s: int | None = None
    search_per_s: int | None = None
    daily: int | None = None
    retry_after: bool = False

    @classmethod
    def for_tier(cls, tier: str, *, retry_after: bool = False) -> HubSpotLimits:
        """The documented limits of a tier (``off`` for none)."""
        if tier == "off":
            return cls()
        burst, daily = HUBSPOT_TIERS[tier]
        return cls(burst_per_10s=burst, search_per_s=5, daily=daily, retry_after=retry_after)


@dataclass
class SalesforceLimits:
    """Salesforce limits read by the Salesforce emulator.

    ``daily_api_max`` is reported in ``Sforce-Limit-Info`` and ``/limits``; when
    ``enforce_daily`` is set, calls past it get 403 ``REQUEST_LIMIT_EXCEEDED``.
    ``collection_max`` (200) and ``query_batch_size`` (2,000) are the paging/batch limits.
    """

    daily_api_max: int = 15_000
    enforce_daily: bool = False
    collection_max: int = 200
    query_batch_size: int = 2_000
    composite_max: int = 25


class SlidingWindow:
    """Counts events inside a rolling window of ``seconds`` on a given clock."""

    def __init__(self, seconds: float, clock: Callable[[], datetime]) -> None:
        self.seconds = seconds
        self.clock = clock
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self.clock().timestamp()

    def _expire(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.seconds:
            self._events.popleft()

    def try_acquire(self, limit: int | None) -> bool:
        """Record an event unless ``limit`` events already sit in the window."""
        with self._lock:
            now = self._now()
            self._expire(now)
            if limit is not None and len(self._events) >= limit:
                return False
            self._events.append(now)
            return True

    def used(self) -> int:
        """Events currently inside the window."""
        with self._lock:
            self._expire(self._now())
            return len(self._events)

    def seconds_until_free(self) -> int:
        """Whole seconds until the oldest event leaves the window (at least 1)."""
        with self._lock:
            if not self._events:
                return 1
            return max(1, math.ceil(self._events[0] + self.seconds - self._now()))


class DailyCounter:
    """Requests per UTC day on the store clock."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._day = ""
        self.count = 0
        self._lock = threading.Lock()

    def try_acquire(self, limit: int | None) -> bool:
        """Count one request unless the day's ``limit`` is used up."""
        with self._lock:
            day = self.clock().date().isoformat()
            if day != self._day:
                self._day, self.count = day, 0
            if limit is not None and self.count >= limit:
                return False
            self.count += 1
            return True
