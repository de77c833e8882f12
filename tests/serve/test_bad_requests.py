"""Every bad webhook request is refused with its status; none queues anything or logs the
secret; each is counted on /metrics by reason."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from serve_kit import APP_SECRET, sandbox_config, wait_for
from structlog.testing import capture_logs

from connectors.hubspot.webhooks import signature_v3
from sync_agent.audit import AuditLog

EVENT = [{"eventId": 9, "subscriptionType": "contact.propertyChange", "objectId": 101,
          "propertyName": "lifecyclestage", "propertyValue": "marketingqualifiedlead",
          "occurredAt": 1, "portalId": 1, "appId": 1, "subscriptionId": 1, "attemptNumber": 0}]


def headers(url: str, body: bytes, *, secret: str = APP_SECRET, age_s: float = 0,
            content_type: str = "application/json") -> dict[str, str]:
    stamp = str(int((time.time() - age_s) * 1000))
    return {"Content-Type": content_type, "X-HubSpot-Request-Timestamp": stamp,
            "X-HubSpot-Signature-v3": signature_v3(secret, "POST", url, body, stamp)}


def good(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(EVENT).encode()
    return body, headers(url, body)


def no_signature(url: str) -> tuple[bytes, dict[str, str]]:
    body, h = good(url)
    del h["X-HubSpot-Signature-v3"]
    return body, h


def wrong_secret(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(EVENT).encode()
    return body, headers(url, body, secret="not-the-app-secret")


def tampered(url: str) -> tuple[bytes, dict[str, str]]:
    body, h = good(url)
    return body.replace(b"101", b"102"), h


def stale(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(EVENT).encode()
    return body, headers(url, body, age_s=301)


def not_json(url: str) -> tuple[bytes, dict[str, str]]:
    body = b'[{"eventId": 9, "objectId": '
    return body, headers(url, body)


def not_events(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"eventId": 9}).encode()
    return body, headers(url, body)


def wrong_type(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(EVENT).encode()
    return body, headers(url, body, content_type="text/plain")


def too_large(url: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps([EVENT[0]] * 8000).encode()  # ~1.4 MB, signed: only the size is wrong
    assert len(body) > 1 << 20
    return body, headers(url, body)


CASES: dict[str, tuple[Callable[[str], tuple[bytes, dict[str, str]]], int, str]] = {
    "missing signature": (no_signature, 401, "signature"),
    "wrong secret": (wrong_secret, 401, "signature"),
    "body changed after signing": (tampered, 401, "signature"),
    "timestamp over 5 minutes old": (stale, 401, "stale"),
    "malformed JSON": (not_json, 400, "malformed"),
    "JSON but not an array of events": (not_events, 400, "malformed"),
    "wrong content type": (wrong_type, 415, "content_type"),
    "body over 1 MiB": (too_large, 413, "too_large"),
}


@pytest.fixture
def agent(sandbox: Any, tmp_path: Any, make_agent: Any) -> Any:
    return make_agent(sandbox_config(sandbox, tmp_path))


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_bad_request_is_refused_and_queues_nothing(agent: Any, case: str) -> None:
    build, status, reason = CASES[case]
    url = agent.url + "/webhooks/hubspot"
    body, sent = build(url)
    with capture_logs() as logs:
        answer = requests.post(url, data=body, headers=sent, timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.json()["reason"] == reason
    assert APP_SECRET not in answer.text
    assert APP_SECRET not in repr(logs)
    assert [e["reason"] for e in logs if e["event"] == "webhook_refused"] == [reason]
    assert agent.idle()
    with AuditLog.open(agent.config.audit_db) as log:
        assert log.rows("SELECT * FROM webhook_events") == []
        assert log.rows("SELECT id FROM runs WHERE mode = 'webhook'") == []
    metrics = requests.get(agent.url + "/metrics", timeout=30).text
    line = f'sync_agent_webhook_requests_refused_total{{reason="{reason}",source="hubspot"}} 1.0'
    assert line in metrics
    assert 'sync_agent_webhook_events_total{result="accepted",source="hubspot"} 0.0' in metrics


def test_the_same_request_signed_right_is_taken(agent: Any) -> None:
    """The control: what the bad cases change is all that was wrong with them."""
    url = agent.url + "/webhooks/hubspot"
    body, sent = good(url)
    answer = requests.post(url, data=body, headers=sent, timeout=30)
    assert answer.status_code == 202 and answer.json()["accepted"] == 1
    wait_for(agent.idle)


def test_an_oversized_chunked_body_is_refused_too(agent: Any) -> None:
    """No Content-Length to trust: the server reads at most the limit, then refuses."""
    url = agent.url + "/webhooks/hubspot"
    body, sent = too_large(url)
    answer = requests.post(url, data=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                           headers=sent, timeout=30)
    assert answer.status_code == 413
    assert agent.idle()


def test_without_the_app_secret_webhooks_are_off_and_say_why(sandbox, tmp_path, make_agent):
    agent = make_agent(sandbox_config(sandbox, tmp_path, secret=None))
    url = agent.url + "/webhooks/hubspot"
    body = json.dumps(EVENT).encode()
    answer = requests.post(url, data=body, timeout=30,
                           headers=headers(url, body, secret="anything"))
    assert answer.status_code == 503  # HubSpot retries a 503: nothing lost once it is set
    assert answer.json()["reason"] == "not_configured"
    assert "HUBSPOT_APP_SECRET is not set" in answer.json()["error"]


def test_unknown_paths_and_methods(agent: Any) -> None:
    assert requests.get(agent.url + "/webhooks/hubspot", timeout=30).status_code == 405
    assert requests.post(agent.url + "/webhooks/nobody", data=b"[]", timeout=30,
                         headers={"Content-Type": "application/json"}).status_code == 404
    assert requests.get(agent.url + "/nothing", timeout=30).status_code == 404
    assert requests.post(agent.url + "/healthz", timeout=30).status_code == 405


def test_a_slow_sender_does_not_hold_the_server(agent: Any) -> None:
    """A client that opens a connection and sends nothing does not block others."""
    with socket.create_connection(("127.0.0.1", agent.port), timeout=5):
        assert requests.get(agent.url + "/healthz", timeout=30).status_code == 200


def test_a_body_shorter_than_its_content_length_is_refused(agent: Any) -> None:
    with socket.create_connection(("127.0.0.1", agent.port), timeout=30) as conn:
        conn.sendall(b"POST /webhooks/hubspot HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[{}")
        conn.shutdown(socket.SHUT_WR)
        answer = conn.recv(4096).decode()
    assert answer.startswith(("HTTP/1.1 400", "HTTP/1.1 401")), answer
    assert agent.idle()
