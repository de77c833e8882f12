"""The one backoff formula of sync-agent (pure: no clock, no randomness of its own).

Used for retries inside a connector call (the connectors' API clients) and across
runs (the outbox): after the ``attempt``-th failure, wait ``base * 2**(attempt-1)`` seconds,
at most ``cap``, stretched by up to a quarter by ``jitter`` in [0, 1) so that many retries
do not come back in the same second; never less than the server's ``Retry-After`` (itself
bounded by ``cap``).
"""

from __future__ import annotations

from datetime import datetime, timedelta


def backoff_seconds(
    attempt: int,
    *,
    base: float,
    cap: float,
    jitter: float = 0.0,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt (``jitter`` in [0, 1))."""
    delay = min(cap, base * 2 ** max(0, attempt - 1)) * (1.0 + 0.25 * jitter)
    return max(delay, min(retry_after or 0.0, cap))


def next_attempt_at(
    now: datetime,
    attempt: int,
    *,
    base: float,
    cap: float,
    jitter: float = 0.0,
    retry_after: float | None = None,
) -> datetime:
    """When to try again after the ``attempt``-th failure at ``now``."""
    seconds = backoff_seconds(attempt, base=base, cap=cap, jitter=jitter, retry_after=retry_after)
    return now + timedelta(seconds=seconds)
