"""The emulated OAuth token endpoint and session table of the Salesforce emulator.

``POST /services/oauth2/token`` accepts the three flows the connector uses (client
credentials, OAuth username-password, JWT bearer) against ``store.credentials`` and answers
with Salesforce's shapes: ``{"access_token", "instance_url", "id", "token_type",
"issued_at", "signature"}`` or 400 ``{"error", "error_description"}``. Sessions it issues
stay valid until :meth:`TokenIssuer.invalidate_all` (the session-expiry fault).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

import jwt
from werkzeug.wrappers import Request, Response

ORG_ID = "00D5g00000SandBX"
USER_ID = "0055g00000SyncAgntAAA"
#: Credentials used when the sandbox core has not set its own in ``store.credentials``.
DEFAULT_CREDENTIALS = {
    "salesforce_session_id": f"{ORG_ID}!sandbox-session",
    "salesforce_client_id": "3MVG9sandbox.client.id",
    "salesforce_client_secret": "sandbox-client-secret",
    "salesforce_username": "integration@sandbox.example",
    "salesforce_password": "sandbox-password",
}
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    body = json.dumps({"error": error, "error_description": description})
    return Response(body, status=status, content_type="application/json")


class TokenIssuer:
    """Issues and validates session ids for one emulated org."""

    def __init__(self, store: Any) -> None:
        self.store = store
        for key, value in DEFAULT_CREDENTIALS.items():
            store.credentials.setdefault(key, value)
        self.sessions: set[str] = set()
        self.initial_revoked = False
        self.issued = 0

    def cred(self, key: str) -> str | None:
        value = self.store.credentials.get(key)
        return str(value) if value is not None else None

    def is_valid(self, token: str) -> bool:
        if token in self.sessions:
            return True
        return not self.initial_revoked and token == self.cred("salesforce_session_id")

    def invalidate_all(self) -> None:
        """Expire every session, the seeded one included (clients must log in again)."""
        self.sessions.clear()
        self.initial_revoked = True

    def token(self, request: Request) -> Response:
        form = request.form
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            problem = self._client(request)
        elif grant == "password":
            problem = self._client(request) or self._password(form)
        elif grant == JWT_GRANT:
            problem = self._jwt(form.get("assertion", ""))
        else:
            problem = _oauth_error("unsupported_grant_type", "grant type not supported")
        if problem is not None:
            return problem
        return self._issue(request)

    def _client(self, request: Request) -> Response | None:
        client_id = request.form.get("client_id")
        secret = request.form.get("client_secret")
        auth = request.authorization
        if auth is not None and auth.type == "basic":
            client_id, secret = auth.username, auth.password
        if client_id != self.cred("salesforce_client_id"):
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if secret != self.cred("salesforce_client_secret"):
            return _oauth_error("invalid_client", "invalid client credentials")
        return None

    def _password(self, form: Any) -> Response | None:
        password = self.cred("salesforce_password") or ""
        accepted = {password, password + (self.cred("salesforce_security_token") or "")}
        if form.get("username") != self.cred("salesforce_username") or form.get(
            "password"
        ) not in accepted:
            return _oauth_error("invalid_grant", "authentication failure")
        return None

    def _jwt(self, assertion: str) -> Response | None:
        public_key = self.cred("salesforce_jwt_public_key")
        try:
            if public_key:
                claims = jwt.decode(assertion, public_key, algorithms=["RS256"],
                                    options={"verify_aud": False})
            else:
                claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            return _oauth_error("invalid_grant", f"invalid assertion: {exc}")
        if claims.get("iss") != self.cred("salesforce_client_id"):
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if claims.get("sub") != self.cred("salesforce_username"):
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        if float(claims.get("exp", 0)) < time.time():
            return _oauth_error("invalid_grant", "expired authorization code")
        return None

    def _issue(self, request: Request) -> Response:
        self.issued += 1
        token = f"{ORG_ID}!{secrets.token_urlsafe(24)}"
        self.sessions.add(token)
        instance_url = request.host_url.rstrip("/")
        issued_at = str(int(time.time() * 1000))
        identity = f"{instance_url}/id/{ORG_ID}/{USER_ID}"
        mac = hmac.new(token.encode(), (identity + issued_at).encode(), hashlib.sha256).digest()
        body = {
            "access_token": token,
            "instance_url": instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
            "signature": base64.b64encode(mac).decode(),
            "scope": "api refresh_token",
        }
        return Response(json.dumps(body), status=200, content_type="application/json")
