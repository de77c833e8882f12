"""Fault injection for both emulators: random 429s, 5xx pages, lock errors, latency.

A :class:`Faults` object is shared by reference: tests flip its fields while a sync runs
(``sb.faults.rate_429 = 1.0`` starts a 429 storm). Randomness comes from one seeded RNG
behind a lock, so a given seed and request order produce the same faults.
``rate_lock`` and ``session_expiry_every`` are read by the Salesforce emulator.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

#: HTML error page a proxy in front of an API answers with (not JSON on purpose).
PROXY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class Faults:
    """Fault knobs; rates are probabilities per request (0 = never, 1 = always).

    ``retry_after`` adds a ``Retry-After`` header (seconds) to injected 429s.
    ``search_lag_ms`` hides records from HubSpot search until their last change is that old
    (on the store clock), like HubSpot's search index lag.
    ``late_visible_share`` of changes stay out of HubSpot search ``late_visible_ms`` longer,
    so a record can turn up after records changed later were already found (the
    out-of-order visibility connector projects report; Salesforce's twin knob is on the org).
    ``fail_next(n, status)`` queues exact failures for deterministic tests;
    ``cut_next(n, endpoint)`` serves the next ``n`` such requests and then cuts the answer
    (the client can't know whether its write landed: a dropped connection after the server
    committed).
    """

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_lock: float = 0.0
    latency_ms: int = 0
    session_expiry_every: int | None = None
    malformed_rate: float = 0.0
    seed: int = 0
    retry_after: float | None = None
    search_lag_ms: int = 0
    late_visible_share: float = 0.0
    late_visible_ms: int = 0
    sleep: Callable[[float], None] = time.sleep
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    _queued: dict[str, deque[int]] = field(init=False, repr=False, default_factory=dict)
    _cuts: dict[str, int] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def roll(self, rate: float) -> bool:
        """True with probability ``rate`` (deterministic for the seed and call order)."""
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        with self._lock:
            return self._rng.random() < rate

    def late_visible(self, record_id: str, stamp: str) -> bool:
        """Whether this change of ``record_id`` is one search sees late (stable per change)."""
        if self.late_visible_share <= 0 or self.late_visible_ms <= 0:
            return False
        digest = hashlib.sha256(f"{self.seed}:{record_id}:{stamp}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < self.late_visible_share

    def choice(self, options: list[int]) -> int:
        """A deterministic pick, e.g. 502 or 503."""
        with self._lock:
            return self._rng.choice(options)

    def fail_next(self, count: int, status: int = 429, system: str = "any") -> None:
        """Make the next ``count`` requests to ``system`` (or any) fail with ``status``;
        ``system`` may name one endpoint too (``"hubspot:batch_create"``)."""
        with self._lock:
            self._queued.setdefault(system, deque()).extend([status] * count)

    def cut_next(self, count: int, endpoint: str) -> None:
        """Apply the next ``count`` requests to ``endpoint`` (e.g. ``notes_batch_create``),
        then answer each with a cut-off body."""
        with self._lock:
            self._cuts[endpoint] = self._cuts.get(endpoint, 0) + count

    def take_cut(self, endpoint: str) -> bool:
        with self._lock:
            if self._cuts.get(endpoint, 0) <= 0:
                return False
            self._cuts[endpoint] -= 1
            return True

    def take_queued(self, system: str, endpoint: str | None = None) -> int | None:
        """Pop a queued failure status for ``system`` (or this endpoint of it) if waiting."""
        keys = ([f"{system}:{endpoint}"] if endpoint else []) + [system, "any"]
        with self._lock:
            for key in keys:
                queue = self._queued.get(key)
                if queue:
                    return queue.popleft()
        return None

    def delay(self) -> None:
        """Apply the configured latency."""
        if self.latency_ms > 0:
            self.sleep(self.latency_ms / 1000)

    def pick_failure(self, system: str, endpoint: str | None = None) -> int | None:
        """The failure status to answer this request with, or None to serve it normally."""
        queued = self.take_queued(system, endpoint)
        if queued is not None:
            return queued
        if self.roll(self.rate_429):
            return 429
        if self.roll(self.rate_5xx):
            return self.choice([502, 503])
        return None


def proxy_page(status: int) -> str:
    """The HTML body of an injected 5xx."""
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }.get(status, "Error")
    return PROXY_PAGE.format(status=status, reason=reason)


def truncate(body: bytes) -> bytes:
    """A JSON body cut in half, as a dropped connection or a buggy proxy leaves it."""
    return body[: max(1, len(body) // 2)]
