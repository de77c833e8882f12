"""HubSpot webhooks from the sandbox: signed, batched, retried like HubSpot's.

A contact created (``contact.creation``) or changed in a subscribed property
(``contact.propertyChange``, ``lifecyclestage`` by default), by the API or by a rep, becomes
an event; a background thread POSTs events in batches of at most 100 as a JSON array to the
configured target, signed with the app's client secret (``X-HubSpot-Signature-v3``: base64
HMAC-SHA256 of ``method + URI + body + timestamp``; ``X-HubSpot-Request-Timestamp`` in epoch
ms of real time, so receivers can reject stale requests). A batch that fails (connection
error, timeout, any status but 2xx and 400/401/403/404/405) is retried with growing,
randomised delays, up to 10 times over about 17 hours; 429 waits ``Retry-After``. Every
delay is multiplied by ``time_scale`` so tests finish in milliseconds, and ``flush()`` sends
what is waiting at once. Listeners only queue, so deliveries never block the API.
Sources in docs/sandbox.md ("Webhooks").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from connectors.sandbox.control import Control, body_of
from connectors.sandbox.events import Change
from connectors.sandbox.store import SandboxStore

NO_RETRY = frozenset({400, 401, 403, 404, 405})
PROPERTY_CHANGE = "contact.propertyChange"
CREATION = "contact.creation"


@dataclass
class WebhookConfig:
    """One HubSpot app's webhook settings (ids and secret are the sandbox's examples)."""

    target_url: str | None = None
    app_id: int = 1_160_452
    portal_id: int = 62_515
    client_secret: str = "sandbox-app-secret"
    subscriptions: tuple[tuple[str, str | None], ...] = (
        (CREATION, None), (PROPERTY_CHANGE, "lifecyclestage"))
    max_batch: int = 100
    max_retries: int = 10
    first_retry_seconds: float = 60.0  # doubles each retry: 1 min ... 8.5 h
    time_scale: float = 1.0
    timeout_seconds: float = 5.0
    seed: int = 0

    def public(self) -> dict[str, Any]:
        """The settings without the secret (for ``/_sandbox/webhooks`` and the state)."""
        shown = asdict(self)
        shown["client_secret"] = "***" if self.client_secret else ""
        shown["subscriptions"] = [list(s) for s in self.subscriptions]
        return shown


#: Percent-encodings HubSpot's "Validating requests" page says to decode in the URI before
#: hashing (``%3A`` ``:`` ... ``%3B`` ``;``); any other encoding stays as it is.
_DECODED_IN_URI = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


def signed_uri(uri: str) -> str:
    """The target URI as HubSpot hashes it (the documented characters decoded)."""
    return _DECODED_IN_URI.sub(lambda m: chr(int(m.group(1), 16)), uri)


def sign_v3(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    """``X-HubSpot-Signature-v3`` for one request to ``uri`` (the target URL as configured)."""
    source = f"{method}{signed_uri(uri)}{body}{timestamp}"
    mac = hmac.new(secret.encode(), source.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


@dataclass
class _Batch:
    events: list[dict[str, Any]]
    attempt: int = 0
    due: float = 0.0  # real time (time.monotonic) when it may be sent


@dataclass
class Delivery:
    """One POST the sandbox made (or tried to)."""

    attempt: int
    event_ids: list[int]
    status: int | None
    error: str | None
    outcome: str  # delivered | retry | dropped
    retry_in: float | None = None
    sent_at: str = ""


@dataclass
class _Counters:
    queued: int = 0
    delivered: int = 0
    dropped: int = 0
    log: list[Delivery] = field(default_factory=list)


class Webhooks:
    """The sandbox's webhook sender: event queue, delivery thread, retry policy."""

    def __init__(self, store: SandboxStore, config: WebhookConfig | None = None, *,
                 wall: Callable[[], float] = time.time) -> None:
        self.store = store
        self.config = config or WebhookConfig()
        self.wall = wall
        self._rng = random.Random(self.config.seed)
        self._ids = itertools.count(1_000)
        self._fresh: deque[dict[str, Any]] = deque()
        self._waiting: list[_Batch] = []
        self._busy = 0
        self._cond = threading.Condition()
        self._stop = False
        self._thread: threading.Thread | None = None
        self.counters = _Counters()
        store.events.subscribe(self._on_change)
        store.state_providers["webhooks"] = self.state

    # -- configuration ----------------------------------------------------------------------

    def configure(self, **changes: Any) -> WebhookConfig:
        """Change settings (``target_url``, ``app_id``, ``client_secret``, ``time_scale`` ...)."""
        unknown = set(changes) - set(asdict(self.config))
        if unknown:
            raise ValueError(f"unknown webhook settings: {sorted(unknown)}")
        if "subscriptions" in changes:
            changes["subscriptions"] = tuple(
                (str(s[0]), s[1] if len(s) > 1 else None) for s in changes["subscriptions"])
        with self._cond:
            for name, value in changes.items():
                setattr(self.config, name, value)
            self._cond.notify_all()
        return self.config

    def subscription_id(self, kind: str, prop: str | None) -> int:
        return 2_000_000 + self.config.subscriptions.index((kind, prop))

    # -- events -------------------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        if not self.config.target_url or change.system != "hubspot" \
                or change.object_type != "contact":
            return
        events = []
        for kind, prop in self.config.subscriptions:
            if kind == CREATION and change.created:
                events.append(self._event(change, kind, prop, changeFlag="NEW"))
            elif kind == PROPERTY_CHANGE and prop and change.changed(prop):
                value = change.new(prop)
                events.append(self._event(change, kind, prop, propertyName=prop,
                                          propertyValue="" if value is None else str(value)))
        if events:
            with self._cond:
                self._fresh.extend(events)
                self.counters.queued += len(events)
                self._cond.notify_all()

    def _event(self, change: Change, kind: str, prop: str | None, **extra: Any) -> dict[str, Any]:
        return {
            "eventId": next(self._ids),
            "subscriptionId": self.subscription_id(kind, prop),
            "portalId": self.config.portal_id,
            "appId": self.config.app_id,
            "occurredAt": int(change.at.timestamp() * 1000),
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": int(change.object_id),
            "changeSource": change.source,
            "sourceId": change.source_id,
            **extra,
        }

    # -- the delivery thread ----------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._stop = False
            self._thread = threading.Thread(target=self._run, name="sandbox-webhooks",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=self.config.timeout_seconds + 1)

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything waiting now (retries included); True once nothing is left."""
        deadline = time.monotonic() + timeout
        with self._cond:
            for batch in self._waiting:
                batch.due = 0.0
            self._cond.notify_all()
            while self._fresh or self._waiting or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                for batch in self._waiting:
                    batch.due = 0.0
                self._cond.wait(min(left, 0.05))
        return True

    def _run(self) -> None:
        session = requests.Session()
        session.trust_env = False
        while True:
            with self._cond:
                batch = self._next_batch()
                while batch is None and not self._stop:
                    self._cond.wait(self._sleep_for())
                    batch = self._next_batch()
                if self._stop:
                    return
                assert batch is not None
                self._busy += 1
            try:
                self._send(session, batch)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _next_batch(self) -> _Batch | None:
        now = time.monotonic()
        due = [b for b in self._waiting if b.due <= now]
        if due:
            batch = min(due, key=lambda b: b.due)
            self._waiting.remove(batch)
            return batch
        if self._fresh and self.config.target_url:
            size = max(1, self.config.max_batch)
            events = [self._fresh.popleft() for _ in range(min(size, len(self._fresh)))]
            return _Batch(events)
        return None

    def _sleep_for(self) -> float:
        if not self._waiting:
            return 1.0
        return max(0.001, min(b.due for b in self._waiting) - time.monotonic())

    def _send(self, session: requests.Session, batch: _Batch) -> None:
        cfg = self.config
        url = cfg.target_url or ""
        body = json.dumps([{**e, "attemptNumber": batch.attempt} for e in batch.events])
        stamp = str(int(self.wall() * 1000))
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Request-Timestamp": stamp,
            "X-HubSpot-Signature-v3": sign_v3(cfg.client_secret, "POST", url, body, stamp),
        }
        status: int | None = None
        error: str | None = None
        retry_after: str | None = None
        try:
            response = session.post(url, data=body.encode(), headers=headers,
                                    timeout=cfg.timeout_seconds)
            status = response.status_code
            retry_after = response.headers.get("Retry-After")
        except requests.RequestException as exc:
            error = type(exc).__name__
        self._settle(batch, status, error, retry_after, stamp)

    def _settle(self, batch: _Batch, status: int | None, error: str | None,
                retry_after: str | None, stamp: str) -> None:
        cfg = self.config
        ids = [e["eventId"] for e in batch.events]
        with self._cond:
            if status is not None and (200 <= status < 300 or status in NO_RETRY):
                outcome = "delivered" if status < 300 else "dropped"
                self._log(Delivery(batch.attempt, ids, status, error, outcome, None, stamp),
                          len(ids))
                return
            if batch.attempt >= cfg.max_retries:
                self._log(Delivery(batch.attempt, ids, status, error, "dropped", None, stamp),
                          len(ids))
                return
            delay = self._delay(batch.attempt + 1, status, retry_after)
            self._log(Delivery(batch.attempt, ids, status, error, "retry", delay, stamp), 0)
            self._waiting.append(_Batch(batch.events, batch.attempt + 1,
                                        time.monotonic() + delay))
            self._cond.notify_all()

    def _delay(self, retry: int, status: int | None, retry_after: str | None) -> float:
        """Seconds (already scaled) before retry number ``retry``."""
        cfg = self.config
        if status == 429 and retry_after is not None:
            try:
                return float(retry_after) * cfg.time_scale
            except ValueError:
                pass
        base = cfg.first_retry_seconds * 2 ** (retry - 1)
        return base * self._rng.uniform(0.75, 1.25) * cfg.time_scale

    def _log(self, delivery: Delivery, settled: int) -> None:
        self.counters.log.append(delivery)
        if delivery.outcome == "delivered":
            self.counters.delivered += settled
        elif delivery.outcome == "dropped":
            self.counters.dropped += settled

    # -- state -------------------------------------------------------------------------------

    def state(self, include_records: bool = True) -> dict[str, Any]:
        with self._cond:
            out: dict[str, Any] = {
                "config": self.config.public(),
                "queued": self.counters.queued, "delivered": self.counters.delivered,
                "dropped": self.counters.dropped,
                "pending": len(self._fresh) + sum(len(b.events) for b in self._waiting),
            }
            if include_records:
                out["deliveries"] = [asdict(d) for d in self.counters.log]
            return out


def install_webhook_routes(control: Control, hooks: Webhooks) -> None:
    """``GET``/``POST /_sandbox/webhooks`` (settings, deliveries) and ``POST
    /_sandbox/webhooks/flush`` (send what is waiting now)."""
    control.route("GET", "webhooks", lambda _request: (200, hooks.state()))

    def configure(request: Any) -> tuple[int, Any]:
        hooks.configure(**body_of(request))
        return 200, hooks.state(include_records=False)

    def flush(request: Any) -> tuple[int, Any]:
        done = hooks.flush(float(body_of(request).get("timeout", 10.0)))
        return 200, {"flushed": done, **hooks.state(include_records=False)}

    control.route("POST", "webhooks", configure)
    control.route("POST", "webhooks/flush", flush)
