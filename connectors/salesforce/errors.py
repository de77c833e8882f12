"""simple-salesforce, requests and JSON errors -> sync-agent's hierarchy, in ONE place.

Also the per-record ``statusCode`` classification of sObject Collections results. Both are
tables so the tests can check them as tables. Error messages carry the Salesforce
``errorCode`` and message but never the request's query string (it can hold lead e-mails)
nor the session id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connectors.net import unreachable
from sync_agent.errors import (
    AuthError,
    BudgetExhausted,
    ConfigError,
    PermanentApiError,
    RetriableError,
    SyncAgentError,
)
from sync_agent.model import WriteState

#: Headers that may carry a request/correlation id (first one present wins).
CORRELATION_HEADERS = ("Sforce-Request-Id", "X-Request-Id", "X-Correlation-Id")

#: Per-record collection ``statusCode`` -> what to do with the handoff.
RECORD_STATUS: Mapping[str, WriteState] = {
    "UNABLE_TO_LOCK_ROW": WriteState.RETRYABLE,
    "REQUEST_RUNNING_TOO_LONG": WriteState.RETRYABLE,
    "SERVER_UNAVAILABLE": WriteState.RETRYABLE,
    "ALL_OR_NONE_OPERATION_ROLLED_BACK": WriteState.RETRYABLE,
    "CANNOT_UPDATE_CONVERTED_LEAD": WriteState.SKIPPED,
    "ENTITY_IS_DELETED": WriteState.SKIPPED,
}
#: Whole-call errors that name the set-up (they would hit every record alike).
CONFIGURATION_CODES = frozenset({
    "INVALID_FIELD", "INVALID_TYPE", "INVALID_FIELD_FOR_INSERT_UPDATE", "NOT_FOUND",
    "INSUFFICIENT_ACCESS",
})
#: Per-record errors an org trigger or a governor limit causes on big batches: the same
#: records usually go through in smaller ones.
SMALLER_BATCH_CODES = frozenset({"CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"})

#: Reasons for the SKIPPED codes above.
SKIP_REASONS: Mapping[str, str] = {
    "CANNOT_UPDATE_CONVERTED_LEAD": "lead converted",
    "ENTITY_IS_DELETED": "lead deleted",
}


class MalformedResponse(RetriableError):
    """A 2xx answer that is not what the endpoint documents (wrong shape, wrong types)."""


def record_status(code: str) -> WriteState:
    """Retryable, skipped or (default: validation and everything unknown) permanent."""
    return RECORD_STATUS.get(code, WriteState.DEAD)


def _first_error(content: Any) -> tuple[str, str]:
    """(errorCode, message) from a Salesforce error body (list of dicts), else ("", text)."""
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        first = content[0]
        return str(first.get("errorCode", "")), str(first.get("message", ""))
    if isinstance(content, Mapping):
        return str(content.get("error", "")), str(content.get("error_description", ""))
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return "", " ".join(text.split())[:200]


def _where(url: str) -> str:
    parts = urlsplit(url or "")
    return parts.path or "salesforce"


def correlation_id(response: requests.Response | None) -> str | None:
    if response is None:
        return None
    return next((response.headers[h] for h in CORRELATION_HEADERS if h in response.headers), None)


def translate(exc: BaseException, response: requests.Response | None = None) -> SyncAgentError:
    """The sync-agent error for ``exc``; ``response`` (the last HTTP answer) adds context."""
    if isinstance(exc, SyncAgentError):
        return exc
    corr = correlation_id(response)
    if isinstance(exc, SalesforceAuthenticationFailed):
        return AuthError(f"Salesforce login failed: {exc.code}: {exc.auth_message}")
    if isinstance(exc, SalesforceError):
        return _translate_api(exc, corr)
    if isinstance(exc, requests.exceptions.SSLError):
        return ConfigError(f"TLS verification failed talking to Salesforce: {exc}; set "
                           "connectors.salesforce.ca_bundle to the CA that signed the server")
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        where = unreachable(exc)
        if where is not None:
            return RetriableError(f"cannot reach Salesforce at {where}: check login_url and "
                                  "instance_url in the connector's settings (and any proxy)",
                                  correlation_id=corr)  # fmt: skip
        return RetriableError(f"Salesforce unreachable: {type(exc).__name__}", correlation_id=corr)
    if isinstance(exc, ValueError):  # json.JSONDecodeError and requests' JSONDecodeError
        status = response.status_code if response is not None else None
        return MalformedResponse(f"Salesforce answered with invalid JSON (HTTP {status}): {exc}",
                                 correlation_id=corr, status=status)
    if isinstance(exc, requests.RequestException):
        return RetriableError(f"Salesforce request failed: {type(exc).__name__}: {exc}",
                              correlation_id=corr)
    raise exc


def _translate_api(exc: SalesforceError, corr: str | None) -> SyncAgentError:
    code, message = _first_error(exc.content)
    status = int(exc.status)
    text = f"Salesforce {status} {code or 'error'} at {_where(exc.url)}: {message}".strip()
    if isinstance(exc, SalesforceExpiredSession):
        return AuthError(f"{text} (the session could not be renewed)")
    if isinstance(exc, SalesforceRefusedRequest):
        if code == "REQUEST_LIMIT_EXCEEDED":
            if "TotalRequests" in message:
                return BudgetExhausted(f"{text}: the org's daily API allocation is used up")
            return RetriableError(text, retry_after=60.0, correlation_id=corr, status=status)
        return AuthError(f"{text} (check the integration user's permissions)")
    if isinstance(exc, SalesforceMalformedRequest) and code == "INVALID_QUERY_LOCATOR":
        return RetriableError(text, correlation_id=corr, status=status)
    if isinstance(exc, (SalesforceMalformedRequest, SalesforceResourceNotFound,
                        SalesforceMoreThanOneRecord)):
        setup = code in CONFIGURATION_CODES
        if setup:
            text = f"{text} (check the field and object names in [connectors] and the " \
                   "integration user's field access: sync-agent config check --connect)"
        return PermanentApiError(text, correlation_id=corr, status=status, configuration=setup)
    if isinstance(exc, SalesforceGeneralError) and (status >= 500 or status == 429):
        return RetriableError(text, correlation_id=corr, status=status)
    return PermanentApiError(text, correlation_id=corr, status=status)


def describe_errors(errors: Any) -> tuple[str, str]:
    """(first statusCode, "CODE: message; ...") of a per-record ``errors`` list."""
    if not isinstance(errors, list) or not errors:
        return "UNKNOWN", "UNKNOWN: no error detail"
    codes = []
    for item in errors:
        if isinstance(item, Mapping):
            fields = item.get("fields") or []
            suffix = f" ({', '.join(map(str, fields))})" if fields else ""
            codes.append(f"{item.get('statusCode', 'UNKNOWN')}: {item.get('message', '')}{suffix}")
        else:
            codes.append(json.dumps(item)[:100])
    first = errors[0].get("statusCode", "UNKNOWN") if isinstance(errors[0], Mapping) else "UNKNOWN"
    return str(first), "; ".join(codes)
