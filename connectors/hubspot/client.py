"""The HubSpot SDK client with the policies the SDK leaves to us.

``hubspot-api-client`` builds a fresh API object (and connection pool) on every
``client.crm.contacts.search_api`` access, retries nothing that is a POST, has no timeout
setting, and turns a truncated or HTML body into a confusing model error. So
:class:`HubSpotClient` builds each API object once, passes ``_request_timeout`` on every
call, paces calls through the shared :class:`~connectors.hubspot.limits.RateLimiter`,
retries 429/5xx/timeouts deliberately (``Retry-After`` when given, else exponential
backoff with jitter, bounded attempts), and reads raw bodies itself
(``_preload_content=False``) so that status (200 vs 207), rate headers and correlation
ids are never lost. Note creation is called with ``retry=False``: the sink retries it
only through its idempotent path.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import urllib3
from hubspot import HubSpot

from connectors.hubspot.errors import SearchWindowFull, decode_success, retry_after_of, translate
from connectors.hubspot.limits import (
    SEARCH_WINDOW_S,
    Clock,
    LimitConfig,
    RateLimiter,
    Sleep,
    shared_limiter,
)
from connectors.hubspot.settings import HubSpotSettings
from sync_agent.backoff import backoff_seconds
from sync_agent.errors import RetriableError
from sync_agent.logs import get_logger

SdkCall = Callable[..., Any]


@dataclass(frozen=True)
class Response:
    """A decoded 2xx answer."""

    status: int
    body: Any
    headers: Mapping[str, str]


class HubSpotClient:
    """One portal, one token: paced, retried, timed-out SDK calls."""

    def __init__(
        self,
        settings: HubSpotSettings,
        token: str,
        *,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or time.time
        self.sleep = sleep or time.sleep
        self.rng = rng or random.Random()
        config = LimitConfig(settings.burst_per_10s, settings.search_per_s, settings.daily,
                             settings.daily_max_share)
        self.limiter: RateLimiter = shared_limiter(
            settings.base_url, token, config, clock=self.clock, sleep=self.sleep
        )
        extra: dict[str, Any] = {}
        if settings.ca_bundle:
            extra["ssl_ca_cert"] = settings.ca_bundle
        sdk = HubSpot(
            access_token=token,
            host=settings.base_url,
            # We retry ourselves (with pacing and idempotency); urllib3 must not.
            retry=urllib3.util.Retry(total=0, redirect=0, raise_on_status=False),
            **extra,
        )
        self.contacts_search = sdk.crm.contacts.search_api
        self.contacts_batch = sdk.crm.contacts.batch_api
        self.companies_batch = sdk.crm.companies.batch_api
        self.companies_search = sdk.crm.companies.search_api
        self.notes_batch = sdk.crm.objects.notes.batch_api
        self.notes_search = sdk.crm.objects.notes.search_api
        self.properties = sdk.crm.properties.core_api
        self.calls = 0
        self._calls_lock = threading.Lock()  # a source's searches run on their own thread
        #: run by close(): e.g. keeping the day's API usage for the next process
        self.on_close: list[Callable[[], None]] = []
        self.log = get_logger("connectors.hubspot", base_url=settings.base_url)

    def close(self) -> None:
        """The run is over: hand on what must outlive this process (the day's usage)."""
        for hook in self.on_close:
            hook()

    def call(self, op: str, fn: SdkCall, *, search: bool = False, retry: bool = True) -> Response:
        """Run one SDK call (``fn(**transport_kwargs)``) with pacing, timeout and retries."""
        attempts = self.settings.max_attempts if retry else 1
        attempt = 0
        while True:
            attempt += 1
            self.limiter.acquire(search=search)
            with self._calls_lock:
                self.calls += 1
            try:
                return self._once(fn)
            except Exception as exc:  # every SDK/urllib3 failure is translated
                error = translate(exc)
                self.limiter.observe(getattr(exc, "headers", None))
                if not isinstance(error, RetriableError) or attempt >= attempts:
                    self.log.warning("hubspot_call_failed", op=op, attempt=attempt,
                                     error=str(error), error_type=type(error).__name__,
                                     correlation_id=getattr(error, "correlation_id", None))
                    raise error from exc
                self.log.info("hubspot_retry", op=op, attempt=attempt, status=error.status,
                              correlation_id=error.correlation_id)
                if search and error.status == 429:
                    self.limiter.widen_search_margin()
                if isinstance(error, SearchWindowFull) and attempt == 1:
                    # Only the one-second search window was full by the server's clock: send
                    # again once it moved on (one search's share of it), holding back no
                    # other call. A second refusal backs off as any 429 does.
                    self.sleep(SEARCH_WINDOW_S / max(1, self.settings.search_per_s))
                    continue
                self.pause(error, attempt)

    def pause(self, error: RetriableError, attempt: int) -> float:
        """Wait before attempt ``attempt + 1``; a 429 holds back everyone sharing the limit."""
        wait = self.backoff(attempt, error.retry_after)
        if error.status == 429:
            self.limiter.penalize(wait)  # the next acquire() sleeps it off
        else:
            self.sleep(wait)
        return wait

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """The shared backoff (``Retry-After`` as a floor), jittered by this client's rng."""
        return backoff_seconds(attempt, base=self.settings.backoff_base,
                               cap=self.settings.backoff_max, jitter=self.rng.random(),
                               retry_after=retry_after)

    def _once(self, fn: SdkCall) -> Response:
        raw = fn(_preload_content=False, _request_timeout=self.settings.timeout)
        try:
            data = raw.data
            headers = dict(raw.headers)
            status = int(raw.status)
        finally:
            raw.release_conn()
        self.limiter.observe(headers)
        return Response(status, decode_success(status, data, headers), headers)

    # -- the endpoints the connector uses -------------------------------------------

    def search_contacts(self, request: Any) -> Response:
        api = self.contacts_search
        return self.call(
            "contacts.search",
            lambda **kw: api.do_search(public_object_search_request=request, **kw),
            search=True,
        )

    def update_contacts(self, batch: Any) -> Response:
        api = self.contacts_batch
        return self.call(
            "contacts.batch_update",
            lambda **kw: api.update(batch_input_simple_public_object_batch_input=batch, **kw),
        )

    def read_contacts(self, batch: Any) -> Response:
        api = self.contacts_batch
        return self.call(
            "contacts.batch_read",
            lambda **kw: api.read(batch_read_input_simple_public_object_id=batch, **kw),
        )

    def read_companies(self, batch: Any) -> Response:
        api = self.companies_batch
        return self.call(
            "companies.batch_read",
            lambda **kw: api.read(batch_read_input_simple_public_object_id=batch, **kw),
        )

    def search_companies(self, request: Any) -> Response:
        api = self.companies_search
        return self.call(
            "companies.search",
            lambda **kw: api.do_search(public_object_search_request=request, **kw),
            search=True,
        )

    def search_notes(self, request: Any) -> Response:
        api = self.notes_search
        return self.call(
            "notes.search",
            lambda **kw: api.do_search(public_object_search_request=request, **kw),
            search=True,
        )

    def create_notes(self, batch: Any) -> Response:
        """Never retried here: a retried create can duplicate notes (see the sink)."""
        api = self.notes_batch
        return self.call(
            "notes.batch_create",
            lambda **kw: api.create(
                batch_input_simple_public_object_batch_input_for_create=batch, **kw
            ),
            retry=False,
        )

    def get_properties(self, object_type: str) -> Response:
        api = self.properties
        return self.call("properties.get_all",
                         lambda **kw: api.get_all(object_type=object_type, **kw))

    def get_property(self, object_type: str, name: str) -> Response:
        api = self.properties
        return self.call("properties.get",
                         lambda **kw: api.get_by_name(object_type=object_type,
                                                      property_name=name, **kw))

    def create_property(self, object_type: str, spec: Any) -> Response:
        api = self.properties
        return self.call(
            "properties.create",
            lambda **kw: api.create(object_type=object_type, property_create=spec, **kw),
        )


__all__ = ["HubSpotClient", "Response", "retry_after_of"]
