"""Salesforce credentials from secrets, and the OAuth token request for each flow.

simple-salesforce's own login helpers always post to ``https://{domain}.salesforce.com``,
so they cannot reach a sandbox or a custom login host; the token request is therefore made
here with ``requests`` against ``login_url`` (``/services/oauth2/token``), and the SDK is
then built from the session id and instance URL. Supported flows, by the secrets present:
JWT bearer, OAuth username-password, client credentials, or a bare session id (which can
never be renewed). A session id given together with a login flow is used first, and the
flow renews it when it expires.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests

from connectors.salesforce.errors import MalformedResponse, translate
from sync_agent.errors import AuthError, ConfigError, RetriableError
from sync_agent.logs import register_secret

SECRET_NAMES = (
    "SALESFORCE_SESSION_ID", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_USERNAME", "SALESFORCE_PASSWORD", "SALESFORCE_SECURITY_TOKEN",
    "SALESFORCE_PRIVATE_KEY_FILE",
)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Credentials:
    """The Salesforce secrets that were provided (values never logged)."""

    session_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    username: str = ""
    password: str = ""
    security_token: str = ""
    private_key_file: str = ""

    @classmethod
    def from_secrets(cls, secrets: Mapping[str, str]) -> Credentials:
        values = {name: str(secrets.get(name) or "") for name in SECRET_NAMES}
        for name, value in values.items():
            if name != "SALESFORCE_USERNAME":
                register_secret(value)
        return cls(*(values[n] for n in SECRET_NAMES))

    @property
    def flow(self) -> str:
        """The login flow these secrets allow: jwt, password, client_credentials or ""."""
        if self.client_id and self.username and self.private_key_file:
            return "jwt"
        if self.client_id and self.client_secret and self.username and self.password:
            return "password"
        if self.client_id and self.client_secret:
            return "client_credentials"
        return ""

    @property
    def can_login(self) -> bool:
        return bool(self.flow)

    def require_usable(self) -> None:
        """Fail early (no network) when no auth method is configured."""
        if not self.session_id and not self.can_login:
            raise AuthError(
                "no Salesforce credentials: set SALESFORCE_SESSION_ID, or SALESFORCE_CLIENT_ID + "
                "SALESFORCE_CLIENT_SECRET (client credentials; + SALESFORCE_USERNAME/"
                "SALESFORCE_PASSWORD for the OAuth password flow), or SALESFORCE_CLIENT_ID + "
                "SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY_FILE (JWT bearer)")


def token_request(creds: Credentials, login_url: str) -> tuple[dict[str, str], Any]:
    """(form data, basic auth or None) for the configured flow."""
    flow = creds.flow
    if flow == "jwt":
        return {"grant_type": JWT_GRANT, "assertion": _assertion(creds, login_url)}, None
    if flow == "password":
        return {
            "grant_type": "password", "client_id": creds.client_id,
            "client_secret": creds.client_secret, "username": creds.username,
            "password": creds.password + creds.security_token,
        }, None
    if flow == "client_credentials":
        return {"grant_type": "client_credentials"}, (creds.client_id, creds.client_secret)
    raise AuthError("the Salesforce session expired and a bare SALESFORCE_SESSION_ID cannot be "
                    "renewed: configure a login flow (client credentials, password or JWT)")


def _assertion(creds: Credentials, login_url: str) -> str:
    try:
        key = Path(creds.private_key_file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read SALESFORCE_PRIVATE_KEY_FILE: {exc.strerror}") from exc
    claims = {"iss": creds.client_id, "sub": creds.username, "aud": login_url.rstrip("/"),
              "exp": int(time.time()) + 180}
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise ConfigError(f"SALESFORCE_PRIVATE_KEY_FILE is not a usable RSA key: {exc}") from exc


def fetch_token(
    http: requests.Session, creds: Credentials, login_url: str, timeout: tuple[float, float]
) -> tuple[str, str]:
    """Log in; returns (session id, instance URL). Raises AuthError/RetriableError."""
    data, basic = token_request(creds, login_url)
    url = login_url.rstrip("/") + "/services/oauth2/token"
    try:
        response = http.post(url, data=data, auth=basic, timeout=timeout)
    except OSError as exc:  # requests' errors, and its OSError for an unusable ca_bundle
        raise translate(exc) from exc
    if response.status_code >= 500:
        raise RetriableError(f"Salesforce login answered HTTP {response.status_code}",
                             status=response.status_code)
    try:
        body = response.json()
    except ValueError as exc:
        raise MalformedResponse(f"Salesforce login answered non-JSON (HTTP "
                                f"{response.status_code})", status=response.status_code) from exc
    if response.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        detail = body.get("error_description") if isinstance(body, dict) else None
        raise AuthError(f"Salesforce login refused ({creds.flow}): {error}: {detail}")
    token, instance = body.get("access_token"), body.get("instance_url")
    if not isinstance(token, str) or not token or not isinstance(instance, str):
        raise MalformedResponse("Salesforce login answer lacks access_token/instance_url",
                                status=response.status_code)
    register_secret(token)
    return token, instance
