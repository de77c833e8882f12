"""Translate everything the HubSpot SDK can throw into ``sync_agent.errors``, in one place.

Each SDK sub-package (contacts, notes, properties, ...) has its OWN ``ApiException``
class, so matching ``hubspot.crm.contacts.ApiException`` alone would let a notes error
through untranslated; we match every one of them (and, defensively, any exception shaped
like one). Transport failures come straight from urllib3 (``MaxRetryError``, timeouts,
``ProtocolError``) because the generated clients sit on urllib3, and a body that is not
the JSON we expect (a proxy's HTML page, a truncated response) is a
:class:`MalformedResponse`. Every translated error carries the response's correlation id
when the body or the headers have one, so a support ticket can quote it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import urllib3.exceptions
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts.exceptions import OpenApiException as ContactsOpenApiException
from hubspot.crm.objects.notes import ApiException as NotesApiException
from hubspot.crm.objects.notes.exceptions import OpenApiException as NotesOpenApiException
from hubspot.crm.properties import ApiException as PropertiesApiException
from hubspot.crm.properties.exceptions import OpenApiException as PropertiesOpenApiException

from connectors.net import unreachable
from sync_agent.errors import (
    AuthError,
    BudgetExhausted,
    PermanentApiError,
    RetriableError,
    SyncAgentError,
)

API_EXCEPTIONS: tuple[type[Exception], ...] = (
    ContactsApiException,
    NotesApiException,
    PropertiesApiException,
)
_CLIENT_SIDE = (ContactsOpenApiException, NotesOpenApiException, PropertiesOpenApiException)
_RETRY_STATUSES = {408, 423, 429, 500, 502, 503, 504, 521, 523, 524}
CORRELATION_HEADERS = ("X-HubSpot-Correlation-Id", "x-hubspot-correlation-id")


class MalformedResponse(RetriableError):
    """The body was not parseable JSON (HTML error page, truncated): retry later."""


class UnexpectedResponse(PermanentApiError):
    """Parseable JSON without the fields the documented shape promises."""


class SearchWindowFull(RetriableError):
    """A 429 of the per-second search limit (``policyName`` ``SECONDLY``): only searches
    must wait, and only until that one-second window moves on."""


class DailyLimitReached(BudgetExhausted):
    """HubSpot answered 429 with the DAILY policy: nothing more until tomorrow."""


def translate(exc: BaseException) -> SyncAgentError:
    """The ``sync_agent.errors`` equivalent of any exception raised by an SDK call."""
    if isinstance(exc, SyncAgentError):
        return exc
    if isinstance(exc, API_EXCEPTIONS) or _looks_like_api_exception(exc):
        status = getattr(exc, "status", None) or 0
        return from_response(int(status), getattr(exc, "body", None),
                             getattr(exc, "headers", None), reason=str(getattr(exc, "reason", "")))
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _transport(exc.reason)
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        return _transport(exc)
    if isinstance(exc, ValueError) and not isinstance(exc, _CLIENT_SIDE):
        return MalformedResponse(f"HubSpot response is not valid JSON: {exc}")
    if isinstance(exc, _CLIENT_SIDE):
        return PermanentApiError(f"HubSpot SDK refused the request: {exc}")
    return PermanentApiError(f"unexpected {type(exc).__name__} from HubSpot: {exc}")


def from_response(
    status: int, body: Any, headers: Mapping[str, str] | None, *, reason: str = ""
) -> SyncAgentError:
    """The error for a non-2xx answer (``status`` 0: the SDK's own transport failure)."""
    data = parse_json(body)
    correlation_id = correlation_of(data, headers)
    message = _message(status, data, reason)
    if status == 0:
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            return PermanentApiError(f"TLS verification failed ({reason.strip()}); "
                                     "set ca_bundle", status=0)
        if reason.startswith("SSLError"):
            return RetriableError(message, status=0, correlation_id=correlation_id)
        return PermanentApiError(message, status=0)  # the SDK could not build the request
    if status in (401, 403):
        return AuthError(f"{message} (check HUBSPOT_ACCESS_TOKEN and the app's scopes)")
    if status == 429 and isinstance(data, dict) and data.get("policyName") == "DAILY":
        return DailyLimitReached(f"{message} (daily limit; correlation {correlation_id})")
    if status in _RETRY_STATUSES:
        wait = retry_after_of(headers)
        if status == 423:
            wait = max(wait or 0.0, 2.0)
        if data is None and body and status >= 500:
            return MalformedResponse(message, retry_after=wait, status=status,
                                     correlation_id=correlation_id)
        kind = (SearchWindowFull if status == 429 and isinstance(data, dict)
                and data.get("policyName") == "SECONDLY" else RetriableError)  # fmt: skip
        return kind(message, retry_after=wait, status=status, correlation_id=correlation_id)
    return PermanentApiError(message, status=status, correlation_id=correlation_id)


def parse_json(body: Any) -> Any:
    """The decoded JSON of a body (bytes/str), or None when it is not JSON."""
    if body is None or isinstance(body, (dict, list)):
        return body
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return None


def decode_success(status: int, body: bytes, headers: Mapping[str, str] | None) -> Any:
    """The JSON of a 2xx answer, or :class:`MalformedResponse` with the correlation id."""
    data = parse_json(body)
    if data is None:
        snippet = body[:80].decode("utf-8", "replace") if body else ""
        raise MalformedResponse(
            f"HubSpot answered {status} with a body that is not JSON: {snippet!r}",
            status=status,
            correlation_id=correlation_of(None, headers),
        )
    return data


def correlation_of(data: Any, headers: Mapping[str, str] | None) -> str | None:
    """``correlationId`` from the body, else the correlation header."""
    if isinstance(data, dict) and isinstance(data.get("correlationId"), str):
        return str(data["correlationId"])
    for name in CORRELATION_HEADERS:
        value = _header(headers, name)
        if value:
            return value
    return None


def retry_after_of(headers: Mapping[str, str] | None) -> float | None:
    """``Retry-After`` in seconds when present and numeric."""
    value = _header(headers, "Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), None)
    return value


def _message(status: int, data: Any, reason: str) -> str:
    text = data.get("message") if isinstance(data, dict) else None
    category = data.get("category") or data.get("policyName") if isinstance(data, dict) else None
    parts = [f"HubSpot {status or 'transport error'}"]
    if category:
        parts.append(str(category))
    parts.append(str(text) if text else (reason.strip() or "no message"))
    return ": ".join(parts)


def _transport(exc: BaseException) -> SyncAgentError:
    """urllib3/socket failures: all transient (timeouts, resets, refused connections)."""
    kind = type(exc).__name__
    if isinstance(exc, urllib3.exceptions.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return PermanentApiError(f"TLS verification failed ({exc}); set ca_bundle", status=0)
    where = unreachable(exc)
    if where is not None:
        return RetriableError(f"cannot reach HubSpot at {where}: check base_url in the "
                              "connector's settings (and any proxy)", status=0)
    return RetriableError(f"HubSpot transport error {kind}: {exc}", status=0)


def _looks_like_api_exception(exc: BaseException) -> bool:
    """Any other SDK sub-package's ApiException (they share a shape, not a class)."""
    return hasattr(exc, "status") and any(
        cls.__name__ == "ApiException" and cls.__module__.startswith("hubspot.")
        for cls in type(exc).__mro__
    )
