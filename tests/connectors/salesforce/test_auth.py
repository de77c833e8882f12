"""Login flows against the sandbox token endpoint, and token-endpoint failures (responses)."""

from __future__ import annotations

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sf_kit import client_secrets, no_sleep, options, session_secrets, sf_calls

from connectors.salesforce import SalesforceClient, SalesforceSettings, check_connection
from connectors.salesforce.errors import MalformedResponse
from sync_agent.errors import AuthError, ConfigError, PermanentApiError, RetriableError
from sync_agent.logs import MASK, Redactor


def client(sb, secrets, **opts):
    return SalesforceClient(SalesforceSettings.from_options(options(sb, **opts)), secrets,
                            sleep=no_sleep)


def limits_ok(c):
    return c.get("limits")["DailyApiRequests"]["Max"] == 15000


def test_client_credentials_flow(sb):
    c = client(sb, client_secrets(sb))
    assert limits_ok(c) and c.creds.flow == "client_credentials"
    assert sf_calls(sb.store, "POST oauth2/token") == 1


def test_password_flow_appends_the_security_token(sb):
    info = sb.info()
    secrets = {**client_secrets(sb), "SALESFORCE_USERNAME": info["salesforce_username"],
               "SALESFORCE_PASSWORD": info["salesforce_password"],
               "SALESFORCE_SECURITY_TOKEN": info["salesforce_security_token"]}
    c = client(sb, secrets)
    assert limits_ok(c) and c.creds.flow == "password"


def test_jwt_bearer_flow_signs_with_the_private_key(sb, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (tmp_path / "server.key").write_bytes(pem)
    sb.store.credentials["salesforce_jwt_public_key"] = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    info = sb.info()
    secrets = {"SALESFORCE_CLIENT_ID": info["salesforce_client_id"],
               "SALESFORCE_USERNAME": info["salesforce_username"],
               "SALESFORCE_PRIVATE_KEY_FILE": str(tmp_path / "server.key")}
    c = client(sb, secrets)
    assert limits_ok(c) and c.creds.flow == "jwt"
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "server.key").write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(AuthError, match="invalid_grant"):
        client(sb, secrets).get("limits")


def test_wrong_secret_is_an_auth_error(sb):
    secrets = {**client_secrets(sb), "SALESFORCE_CLIENT_SECRET": "wrong"}
    with pytest.raises(AuthError, match="invalid_client"):
        client(sb, secrets).get("limits")


def test_session_id_is_used_first_and_renewed_by_the_login_flow(sb):
    c = client(sb, {**session_secrets(sb), **client_secrets(sb)})
    assert limits_ok(c)
    assert sf_calls(sb.store, "POST oauth2/token") == 0
    sb.store.salesforce_emulator.inject("expire")
    assert limits_ok(c)
    assert sf_calls(sb.store, "POST oauth2/token") == 1


def test_no_credentials_fail_before_any_network_call():
    settings = SalesforceSettings.from_options({})
    with pytest.raises(AuthError, match="SALESFORCE_SESSION_ID"):
        SalesforceClient(settings, {})
    with pytest.raises(ConfigError, match="instance_url"):
        SalesforceClient(settings, {"SALESFORCE_SESSION_ID": "00D!abc"})


def test_secrets_are_registered_for_redaction():
    SalesforceClient(SalesforceSettings.from_options({}), {
        "SALESFORCE_CLIENT_ID": "client-id-1234", "SALESFORCE_CLIENT_SECRET": "very-secret-5678"})
    event = Redactor(redact_pii=False)(None, "info", {"event": "x very-secret-5678 y"})
    assert event["event"] == f"x {MASK} y"


def test_check_connection_reports_each_step(sb):
    checks = check_connection(options(sb), client_secrets(sb))
    assert [ok for _what, ok, _detail in checks] == [True] * len(checks)
    assert [what for what, _ok, _d in checks][:3] == [
        "salesforce settings", "salesforce login", "salesforce API budget"]
    bad = check_connection(options(sb, status_accepted="Nope"), client_secrets(sb))
    assert ("salesforce lead statuses", False) in [(w, ok) for w, ok, _d in bad]


LOGIN = "https://login.example.test"


def unit_client(**opts):
    settings = SalesforceSettings.from_options({"login_url": LOGIN, "max_attempts": 1, **opts})
    secrets = {"SALESFORCE_CLIENT_ID": "id", "SALESFORCE_CLIENT_SECRET": "s"}
    return SalesforceClient(settings, secrets, sleep=no_sleep)


@responses.activate
@pytest.mark.parametrize(("status", "body", "ctype", "expected"), [
    (500, "<html>oops</html>", "text/html", RetriableError),
    (200, '{"access_token": "abc", "instance', "application/json", MalformedResponse),
    (200, '{"token_type": "Bearer"}', "application/json", MalformedResponse),
    (400, '{"error": "invalid_client_id", "error_description": "client identifier invalid"}',
     "application/json", AuthError),
])
def test_token_endpoint_failures(status, body, ctype, expected):
    responses.add(responses.POST, f"{LOGIN}/services/oauth2/token", body=body, status=status,
                  content_type=ctype)
    with pytest.raises(expected):
        unit_client().get("limits")


INSTANCE = "https://acme.my.salesforce.test"


def session_client(**opts):
    settings = SalesforceSettings.from_options({"instance_url": INSTANCE, "max_attempts": 1,
                                                **opts})
    return SalesforceClient(settings, {"SALESFORCE_SESSION_ID": "00D!x"}, sleep=no_sleep)


@responses.activate
@pytest.mark.parametrize(("answer", "expected"), [
    ({"compositeResponse": [{"body": [], "httpHeaders": {}, "httpStatusCode": 200,
                             "referenceId": "r0"}]}, MalformedResponse),
    ({"compositeResponse": [
        {"body": [{"id": "1", "success": True, "errors": []}], "httpHeaders": {},
         "httpStatusCode": 200, "referenceId": "r0"},
        {"body": [{"errorCode": "INVALID_FIELD", "message": "x"}], "httpHeaders": {},
         "httpStatusCode": 400, "referenceId": "r1"}]}, PermanentApiError),
    ({"compositeResponse": [
        {"body": None, "httpHeaders": {}, "httpStatusCode": 503, "referenceId": "r0"},
        {"body": None, "httpHeaders": {}, "httpStatusCode": 503, "referenceId": "r1"}]},
     RetriableError),
    ({"results": []}, MalformedResponse),
])
def test_composite_answers_are_checked(answer, expected):
    responses.add(responses.POST, f"{INSTANCE}/services/data/v62.0/composite", json=answer,
                  headers={"Sforce-Limit-Info": "api-usage=5/100"})
    record = {"attributes": {"type": "Lead"}, "id": "00Q5g0000000001EAA", "Status": "x"}
    with pytest.raises(expected):
        session_client().collections("PATCH", "composite/sobjects", [[record], [record]])
