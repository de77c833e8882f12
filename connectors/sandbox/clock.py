"""Sandbox time: a clock tests can move forward, and the agenda of things due on it.

Everything in the sandbox that happens "later" (a Salesforce lead that HubSpot's own sync
creates minutes after an MQL, a rep who completes a task a day after the handoff) is an
entry on the :class:`Agenda`, run when the :class:`SandboxClock` reaches it. Tests move
the clock with :meth:`SandboxClock.advance` (``Sandbox.advance`` or ``POST
/_sandbox/clock``) instead of sleeping; without that, the clock follows its base clock
(real time by default) and due entries run on the next request.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The default base clock: real time, aware UTC."""
    return datetime.now(UTC)


class SandboxClock:
    """``base() + offset``: callable like the plain clocks the store used to take."""

    def __init__(self, base: Callable[[], datetime] = utcnow) -> None:
        self.base = base
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            offset = self._offset
        return self.base() + offset

    @property
    def offset(self) -> timedelta:
        """How far the sandbox has been moved ahead of its base clock."""
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> datetime:
        """Move sandbox time forward (never back); returns the new now."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self()

    def advance_to(self, moment: datetime) -> datetime:
        """Move forward to ``moment`` (no-op when it is already past)."""
        gap = (moment - self()).total_seconds()
        return self.advance(gap) if gap > 0 else self()


class Agenda:
    """Callbacks keyed by the sandbox time they are due at, run in time order."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()
        self._running = False

    def at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        """Run ``action(when)`` once the clock reaches ``when``."""
        with self._lock:
            heapq.heappush(self._heap, (when, next(self._seq), action))

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)

    def next_due(self) -> datetime | None:
        """When the earliest entry is due (None when the agenda is empty)."""
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def run_due(self, now: datetime) -> int:
        """Run every entry due at ``now`` (also ones scheduled while running); count them."""
        ran = 0
        with self._lock:
            if self._running:  # an action that reads the clock must not re-enter
                return 0
            self._running = True
            try:
                while self._heap and self._heap[0][0] <= now:
                    when, _seq, action = heapq.heappop(self._heap)
                    action(when)
                    ran += 1
            finally:
                self._running = False
        return ran
