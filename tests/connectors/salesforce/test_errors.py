"""The one translation table: vendor/HTTP failures -> sync-agent errors, and record codes."""

from __future__ import annotations

import json

import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from connectors.salesforce.errors import (
    MalformedResponse,
    describe_errors,
    record_status,
    translate,
)
from sync_agent.errors import (
    AuthError,
    BudgetExhausted,
    ConfigError,
    PermanentApiError,
    RetriableError,
)
from sync_agent.model import WriteState

URL = ("https://acme.my.salesforce.com/services/data/v62.0/query"
       "?q=SELECT+Id+FROM+Lead+WHERE+Email+IN+('a@b.co')")


def body(code, message="m"):
    return [{"message": message, "errorCode": code, "fields": []}]


TABLE = [
    (SalesforceExpiredSession(URL, 401, "query", body("INVALID_SESSION_ID")), AuthError),
    (SalesforceRefusedRequest(URL, 403, "query",
                              body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")),
     BudgetExhausted),
    (SalesforceRefusedRequest(URL, 403, "query", body("REQUEST_LIMIT_EXCEEDED",
                                                      "ConcurrentPerOrgLongTxn Limit exceeded.")),
     RetriableError),
    (SalesforceRefusedRequest(URL, 403, "query", body("INSUFFICIENT_ACCESS")), AuthError),
    (SalesforceMalformedRequest(URL, 400, "query", body("MALFORMED_QUERY")), PermanentApiError),
    (SalesforceMalformedRequest(URL, 400, "query", body("INVALID_FIELD")), PermanentApiError),
    (SalesforceMalformedRequest(URL, 400, "query", body("INVALID_QUERY_LOCATOR")), RetriableError),
    (SalesforceResourceNotFound(URL, 404, "x", body("NOT_FOUND")), PermanentApiError),
    (SalesforceMoreThanOneRecord(URL, 300, "x", []), PermanentApiError),
    (SalesforceGeneralError(URL, 500, "x", body("UNKNOWN_EXCEPTION")), RetriableError),
    (SalesforceGeneralError(URL, 503, "x", body("SERVER_UNAVAILABLE")), RetriableError),
    (SalesforceGeneralError(URL, 502, "x", "<html><body>Bad Gateway</body></html>"),
     RetriableError),
    (SalesforceGeneralError(URL, 409, "x", body("CONFLICT")), PermanentApiError),
    (SalesforceAuthenticationFailed("invalid_grant", "authentication failure"), AuthError),
    (requests.exceptions.SSLError("certificate verify failed"), ConfigError),
    (requests.exceptions.ConnectTimeout("slow"), RetriableError),
    (requests.exceptions.ReadTimeout("slow"), RetriableError),
    (requests.exceptions.ConnectionError("refused"), RetriableError),
    (requests.exceptions.JSONDecodeError("Expecting value", '{"records": [', 12),
     MalformedResponse),
    (json.JSONDecodeError("Expecting value", "<html>", 0), MalformedResponse),
    (requests.exceptions.ChunkedEncodingError("cut"), RetriableError),
]


@pytest.mark.parametrize(("exc", "expected"), TABLE,
                         ids=[f"{type(e).__name__}-{i}" for i, (e, _) in enumerate(TABLE)])
def test_translation_table(exc, expected):
    error = translate(exc)
    assert type(error) is expected


def test_messages_keep_the_error_code_but_not_the_query_string():
    error = translate(SalesforceMalformedRequest(URL, 400, "query", body("MALFORMED_QUERY", "bad")))
    assert "MALFORMED_QUERY" in str(error) and "/services/data/v62.0/query" in str(error)
    assert "a@b.co" not in str(error)
    assert error.status == 400


def test_correlation_id_comes_from_the_last_response_when_present():
    response = requests.Response()
    response.status_code = 200
    response.headers["X-Request-Id"] = "req-42"
    error = translate(ValueError("truncated"), response)
    assert isinstance(error, MalformedResponse) and error.correlation_id == "req-42"


def test_our_own_errors_pass_through_unchanged():
    original = RetriableError("x")
    assert translate(original) is original


def test_unknown_exceptions_are_not_swallowed():
    with pytest.raises(ZeroDivisionError):
        translate(ZeroDivisionError())


@pytest.mark.parametrize(("code", "status"), [
    ("UNABLE_TO_LOCK_ROW", WriteState.RETRYABLE),
    ("CANNOT_UPDATE_CONVERTED_LEAD", WriteState.SKIPPED),
    ("ENTITY_IS_DELETED", WriteState.SKIPPED),
    ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", WriteState.DEAD),
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION", WriteState.DEAD),
    ("STRING_TOO_LONG", WriteState.DEAD),
    ("SOMETHING_NEW", WriteState.DEAD),
])
def test_record_status_table(code, status):
    assert record_status(code) is status


def test_describe_errors_lists_every_code_with_fields():
    code, text = describe_errors([
        {"statusCode": "STRING_TOO_LONG", "message": "too long", "fields": ["SAL_Reason__c"]},
        {"statusCode": "INVALID_FIELD", "message": "nope", "fields": []},
    ])
    assert code == "STRING_TOO_LONG"
    assert text == "STRING_TOO_LONG: too long (SAL_Reason__c); INVALID_FIELD: nope"
    assert describe_errors(None)[0] == "UNKNOWN"


def test_a_ca_bundle_that_cannot_be_read_is_a_config_error_naming_it(sb):
    """requests raises a bare OSError (not one of its own errors) for a ca_bundle path that
    does not exist, before any request: it used to escape every caller as a traceback."""
    from sf_kit import client_secrets, options

    from connectors.salesforce import check_connection

    opts = options(sb, ca_bundle="/nonexistent/sandbox-ca.pem")
    checks = check_connection(opts, client_secrets(sb))
    login = next(c for c in checks if c[0] == "salesforce login")
    assert login[1] is False and "ca_bundle" in login[2]
    assert "/nonexistent/sandbox-ca.pem" in login[2]
    error = translate(OSError("Could not find a suitable TLS CA certificate bundle, invalid path"))
    assert type(error) is ConfigError and "ca_bundle" in str(error)
