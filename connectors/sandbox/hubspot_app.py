"""The HubSpot CRM v3 emulator: a WSGI app over a :class:`SandboxStore`.

This module is the HTTP edge: routing, bearer auth, rate limits (10-second burst, search
per second, daily) with HubSpot's 429 bodies and rate headers, fault injection, request
counting, and the correlation id every HubSpot response carries. The endpoint logic is in
:mod:`connectors.sandbox.hubspot_objects`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from connectors.sandbox.faults import Faults, proxy_page, truncate
from connectors.sandbox.hubspot_objects import ApiError, HubSpotHandlers, error_body
from connectors.sandbox.limits import HUBSPOT_TIERS, DailyCounter, HubSpotLimits, SlidingWindow
from connectors.sandbox.store import SandboxStore
from sync_agent.logs import get_logger

SYSTEM = "hubspot"
_log = get_logger("connectors.sandbox.hubspot")
_OBJ = "<any(contacts, companies, notes):obj>"
_ASSOC = "<any(contacts, companies):obj>/<any(contacts, companies):to>"
_URLS = Map(
    [
        Rule(f"/crm/v4/associations/{_ASSOC}/batch/read", methods=["POST"],
             endpoint="associations_read"),
        Rule(f"/crm/v3/objects/{_OBJ}/search", methods=["POST"], endpoint="search"),
        Rule(f"/crm/v3/objects/{_OBJ}/batch/read", methods=["POST"], endpoint="batch_read"),
        Rule(f"/crm/v3/objects/{_OBJ}/batch/update", methods=["POST"], endpoint="batch_update"),
        Rule(f"/crm/v3/objects/{_OBJ}/batch/create", methods=["POST"], endpoint="batch_create"),
        Rule(f"/crm/v3/objects/{_OBJ}", methods=["POST"], endpoint="create"),
        Rule(f"/crm/v3/objects/{_OBJ}/<oid>", methods=["GET"], endpoint="get"),
        Rule(f"/crm/v3/objects/{_OBJ}/<oid>", methods=["PATCH"], endpoint="update"),
        Rule(f"/crm/v3/properties/{_OBJ}", methods=["GET"], endpoint="properties_list"),
        Rule(f"/crm/v3/properties/{_OBJ}", methods=["POST"], endpoint="properties_create"),
        Rule(f"/crm/v3/properties/{_OBJ}/<name>", methods=["GET"], endpoint="properties_get"),
    ],
    strict_slashes=False,
)

_UNAUTHORIZED = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
_RATE_MESSAGES = {
    "TEN_SECONDLY_ROLLING": "You have reached your ten_secondly_rolling limit.",
    "SECONDLY": "You have reached your secondly limit.",
    "DAILY": "You have reached your daily limit.",
}


class HubSpotApp:
    """WSGI callable emulating the HubSpot endpoints sync-agent uses."""

    def __init__(
        self,
        store: SandboxStore,
        faults: Faults | None = None,
        limits: HubSpotLimits | None = None,
    ) -> None:
        self.store = store
        self.faults = faults or Faults()
        self.limits = limits or HubSpotLimits()
        self.handlers = HubSpotHandlers(store, self.faults)
        self.burst = SlidingWindow(10, store.now)
        self.search_window = SlidingWindow(1, store.now)
        self.daily = DailyCounter(store.now)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.respond(request)
        return response(environ, start_response)

    def respond(self, request: Request) -> Response:
        """Answer one request and count it as ``(hubspot, endpoint, status)``."""
        correlation_id = str(uuid.uuid4())
        endpoint, kwargs = self._match(request)
        name = _endpoint_name(endpoint, kwargs)
        self.faults.delay()
        response = self._answer(request, endpoint, kwargs, correlation_id)
        response.headers["X-HubSpot-Correlation-Id"] = correlation_id
        if endpoint != "search":
            self._rate_headers(response)
        self.store.count(SYSTEM, name, response.status_code)
        return response

    def _match(self, request: Request) -> tuple[str, dict[str, Any]]:
        try:
            endpoint, kwargs = _URLS.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return ("not_found" if exc.code == 404 else "method_not_allowed"), {}
        return str(endpoint), dict(kwargs)

    def _answer(
        self, request: Request, endpoint: str, kwargs: dict[str, Any], cid: str
    ) -> Response:
        if not self._authorized(request):
            return _json(401, error_body(_UNAUTHORIZED, "INVALID_AUTHENTICATION", cid))
        limited = self._limit(endpoint == "search", cid)
        if limited is not None:
            return limited
        injected = self._inject(cid, endpoint)
        if injected is not None:
            return injected
        if endpoint in ("not_found", "method_not_allowed"):
            status = 404 if endpoint == "not_found" else 405
            return _json(status, error_body("Resource not found", "OBJECT_NOT_FOUND", cid))
        try:
            status, payload = self.handlers.dispatch(endpoint, kwargs, request)
        except ApiError as exc:
            status, payload = exc.status, exc.body(cid)
        except Exception:  # an emulator bug must look like a HubSpot 500, not kill the server
            _log.exception("hubspot_emulator_error", endpoint=endpoint, correlation_id=cid)
            status, payload = 500, error_body("internal error", "INTERNAL_ERROR", cid)
        response = _json(status, payload)
        cut = self.faults.take_cut(endpoint) if 200 <= status < 300 else False
        if 200 <= status < 300 and (cut or self.faults.roll(self.faults.malformed_rate)):
            response.set_data(truncate(response.get_data()))
        return response

    def _authorized(self, request: Request) -> bool:
        token = self.store.credentials.get("hubspot_token")
        header = request.headers.get("Authorization", "")
        return bool(token) and header == f"Bearer {token}"

    def _limit(self, is_search: bool, cid: str) -> Response | None:
        limits = self.limits
        if not self.daily.try_acquire(limits.daily):
            return self._too_many("DAILY", cid, None)
        with self.store.lock:
            self.store.api_usage["hubspot_daily_used"] = self.daily.count
        window, limit, policy = (
            (self.search_window, limits.search_per_s, "SECONDLY")
            if is_search
            else (self.burst, limits.burst_per_10s, "TEN_SECONDLY_ROLLING")
        )
        if not window.try_acquire(limit):
            wait = window.seconds_until_free() if limits.retry_after else None
            return self._too_many(policy, cid, wait)
        return None

    def _too_many(self, policy: str, cid: str, retry_after: float | None) -> Response:
        body = {
            "status": "error",
            "message": _RATE_MESSAGES[policy],
            "errorType": "RATE_LIMIT",
            "correlationId": cid,
            "policyName": policy,
        }
        response = _json(429, body)
        if retry_after is not None:
            response.headers["Retry-After"] = str(int(retry_after))
        return response

    def _inject(self, cid: str, endpoint: str) -> Response | None:
        status = self.faults.pick_failure(SYSTEM, endpoint)
        if status is None:
            return None
        if status == 429:
            wait = self.faults.retry_after
            return self._too_many("TEN_SECONDLY_ROLLING", cid, wait)
        if status >= 500:
            return Response(proxy_page(status), status=status, content_type="text/html")
        return _json(status, error_body("Injected failure", "VALIDATION_ERROR", cid))

    def _rate_headers(self, response: Response) -> None:
        """HubSpot's rate headers; with a limit off, the free tier's numbers, never exhausted."""
        free_burst, free_daily = HUBSPOT_TIERS["free"]
        burst = self.limits.burst_per_10s
        daily = self.limits.daily
        shown_burst = burst or free_burst
        shown_daily = daily or free_daily
        burst_left = max(0, burst - self.burst.used()) if burst else shown_burst
        daily_left = max(0, daily - self.daily.count) if daily else shown_daily
        response.headers["X-HubSpot-RateLimit-Daily"] = str(shown_daily)
        response.headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(daily_left)
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        response.headers["X-HubSpot-RateLimit-Max"] = str(shown_burst)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(burst_left)


def _endpoint_name(endpoint: str, kwargs: dict[str, Any]) -> str:
    obj = kwargs.get("obj")
    if endpoint == "associations_read":
        return f"associations.{obj}.{kwargs.get('to')}.batch_read"
    if endpoint.startswith("properties_"):
        return f"properties.{obj}.{endpoint.removeprefix('properties_')}"
    return f"{obj}.{endpoint}" if obj else endpoint


def _json(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


def make_hubspot_app(
    store: SandboxStore, faults: Faults | None = None, limits: HubSpotLimits | None = None
) -> HubSpotApp:
    """The HubSpot WSGI app (same call shape as ``make_salesforce_app``)."""
    return HubSpotApp(store, faults, limits)
