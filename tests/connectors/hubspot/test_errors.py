"""Every SDK sub-package's ApiException and every transport failure, as a table."""

from __future__ import annotations

import json

import pytest
import urllib3.exceptions
from hubspot.crm.contacts import ApiException as ContactsApi
from hubspot.crm.contacts.exceptions import ServiceException as ContactsService
from hubspot.crm.contacts.exceptions import UnauthorizedException as ContactsUnauthorized
from hubspot.crm.objects.notes import ApiException as NotesApi
from hubspot.crm.objects.notes.exceptions import ApiValueError as NotesValueError
from hubspot.crm.objects.notes.exceptions import ForbiddenException as NotesForbidden
from hubspot.crm.properties import ApiException as PropertiesApi
from hubspot.crm.properties.exceptions import NotFoundException as PropertiesNotFound

from connectors.hubspot.errors import (
    DailyLimitReached,
    MalformedResponse,
    SearchWindowFull,
    UnexpectedResponse,
    decode_success,
    translate,
)
from sync_agent.errors import AuthError, BudgetExhausted, PermanentApiError, RetriableError


class _Resp:
    """What urllib3 hands the SDK's exception constructors."""

    def __init__(self, status: int, body: object, headers: dict[str, str] | None = None):
        self.status = status
        self.reason = "reason"
        self.data = body if isinstance(body, str) else json.dumps(body)
        self.headers = headers or {}

    def getheaders(self) -> dict[str, str]:
        return self.headers


def _rate(policy: str) -> dict[str, str]:
    return {"status": "error", "message": "You have reached your limit.",
            "errorType": "RATE_LIMIT", "correlationId": "c-429", "policyName": policy}


HTML = "<html><body><h1>502 Bad Gateway</h1></body></html>"

TABLE = [
    # (exception class, status, body, headers, expected class, retry_after, correlation)
    (ContactsApi, 429, _rate("TEN_SECONDLY_ROLLING"), {}, RetriableError, None, "c-429"),
    (NotesApi, 429, _rate("SECONDLY"), {"Retry-After": "3"}, SearchWindowFull, 3.0, "c-429"),
    (PropertiesApi, 429, _rate("DAILY"), {}, DailyLimitReached, None, None),
    (ContactsUnauthorized, 401, {"message": "bad token", "correlationId": "c1"}, {},
     AuthError, None, None),
    (NotesForbidden, 403, {"message": "missing scopes"}, {}, AuthError, None, None),
    (PropertiesNotFound, 404, {"message": "nope", "correlationId": "c4"}, {},
     PermanentApiError, None, "c4"),
    (ContactsApi, 400, {"category": "VALIDATION_ERROR", "message": "bad", "correlationId": "c5"},
     {}, PermanentApiError, None, "c5"),
    (ContactsApi, 423, {"message": "locked"}, {}, RetriableError, 2.0, None),
    (ContactsService, 502, HTML, {"X-HubSpot-Correlation-Id": "h-1"}, MalformedResponse, None,
     "h-1"),
    (ContactsService, 503, {"message": "down", "correlationId": "c6"}, {}, RetriableError,
     None, "c6"),
    (NotesApi, 504, "", {}, RetriableError, None, None),
    (ContactsApi, 409, "{truncated", {}, PermanentApiError, None, None),
]


@pytest.mark.parametrize(("exc_cls", "status", "body", "headers", "expected", "wait", "cid"),
                         TABLE)
def test_api_exceptions_of_every_sub_package_translate(exc_cls, status, body, headers,
                                                       expected, wait, cid):
    error = translate(exc_cls(http_resp=_Resp(status, body, headers)))
    assert type(error) is expected
    if isinstance(error, RetriableError):
        assert error.retry_after == wait
        assert error.status == status
    if cid is not None:
        assert error.correlation_id == cid


def test_daily_limit_is_a_budget_stop_not_a_retry():
    error = translate(ContactsApi(http_resp=_Resp(429, _rate("DAILY"))))
    assert isinstance(error, BudgetExhausted)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (urllib3.exceptions.MaxRetryError(None, "/x", urllib3.exceptions.NewConnectionError(
            None, "refused")), RetriableError),
        (urllib3.exceptions.ReadTimeoutError(None, "/x", "read timed out"), RetriableError),
        (urllib3.exceptions.ConnectTimeoutError("connect timed out"), RetriableError),
        (urllib3.exceptions.ProtocolError("Connection aborted"), RetriableError),
        (ConnectionResetError("reset"), RetriableError),
        (json.JSONDecodeError("Expecting value", "{", 1), MalformedResponse),
        (NotesValueError("Invalid value for `inputs`"), PermanentApiError),
        (ContactsApi(status=0, reason="SSLError\nCERTIFICATE_VERIFY_FAILED"), PermanentApiError),
        (ContactsApi(status=0, reason="SSLError\nEOF occurred in violation"), RetriableError),
        (ContactsApi(status=0, reason="Cannot prepare a request message"), PermanentApiError),
        (RuntimeError("surprise"), PermanentApiError),
    ],
)
def test_transport_and_decoding_failures_translate(exc, expected):
    assert type(translate(exc)) is expected


def test_a_translated_error_passes_through_unchanged():
    error = RetriableError("x")
    assert translate(error) is error


@pytest.mark.parametrize("body", [b"<html>502</html>", b'{"results": [', b""])
def test_success_bodies_that_are_not_json_are_malformed_with_correlation(body):
    with pytest.raises(MalformedResponse) as caught:
        decode_success(200, body, {"x-hubspot-correlation-id": "h-9"})
    assert caught.value.correlation_id == "h-9"


def test_unexpected_response_is_permanent():
    assert issubclass(UnexpectedResponse, PermanentApiError)
