"""Backoff policy for write-back retries (pure: no clock, no randomness of its own).

A write that fails retryably waits ``base * 2**(attempts-1)`` seconds (capped at ``cap``,
at least the server's ``Retry-After``), spread by a caller-supplied jitter fraction so
that many parked writes do not all come back in the same second. After ``max_attempts``
it becomes a dead letter that only ``sync-agent replay`` brings back.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def backoff_seconds(
    attempts: int,
    *,
    base: float = 60.0,
    cap: float = 3600.0,
    retry_after: float | None = None,
    jitter: float = 0.0,
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (``jitter`` in [0, 1))."""
    delay = min(cap, base * (2 ** max(0, attempts - 1)))
    delay *= 1.0 + 0.25 * jitter
    return max(delay, retry_after or 0.0)


def next_state(attempts: int, max_attempts: int) -> str:
    """``retryable`` while attempts remain, else ``dead``."""
    return "dead" if attempts >= max_attempts else "retryable"


def next_attempt_at(
    now: datetime,
    attempts: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    jitter: float = 0.0,
) -> datetime:
    return now + timedelta(
        seconds=backoff_seconds(
            attempts, base=base, cap=cap, retry_after=retry_after, jitter=jitter
        )
    )
