"""Fixtures for the sandbox contract suite: seeded sandboxes, real clients, a webhook receiver."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.utils.signature import Signature
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from connectors.sandbox import Sandbox


class Api:
    """Plain ``requests`` against the HubSpot emulator, for malformed and edge cases."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.base = info["hubspot_url"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {info['hubspot_token']}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=10, **kwargs)

    def search(self, body: dict[str, Any], obj: str = "contacts") -> requests.Response:
        return self.post(f"/crm/v3/objects/{obj}/search", body)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=3000, seed=11, mql_share=0.6) as sb:
        yield sb


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox.info())


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> HubSpot:
    info = sandbox.info()
    return HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])



@pytest.fixture(scope="session")
def make_api() -> type[Api]:
    """The ``Api`` class, for tests that start their own sandbox."""
    return Api


@dataclass
class Receiver:
    """An agent-side webhook endpoint: verifies, records, answers as scripted."""

    url: str = ""
    secret: str = "shh-app-secret"  # the app's client secret the receiver checks against
    received: list[dict[str, Any]] = field(default_factory=list)
    script: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    gate: threading.Event = field(default_factory=threading.Event)  # cleared: requests wait
    arrived: threading.Event = field(default_factory=threading.Event)  # a request came in

    def __post_init__(self) -> None:
        self.gate.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.arrived.set()
        self.gate.wait(10)
        body = request.get_data(as_text=True)
        valid = Signature.is_valid(
            signature=request.headers.get("X-HubSpot-Signature-v3", ""),
            client_secret=self.secret, request_body=body, http_uri=request.url,
            http_method=request.method, signature_version="v3",
            timestamp=request.headers.get("X-HubSpot-Request-Timestamp"))
        self.received.append({"valid": valid, "events": json.loads(body),
                              "content_type": request.headers.get("Content-Type")})
        status, headers = self.script.popleft() if self.script else (204, {})
        return Response(status=status, headers=headers)(environ, start_response)

    def events(self) -> list[dict[str, Any]]:
        return [e for r in self.received for e in r["events"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint on a free port (``receiver.url``), stopped after the test."""
    hook = Receiver()
    server = make_server("127.0.0.1", 0, hook, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    hook.url = f"http://127.0.0.1:{server.server_port}/hubspot/webhooks?app=sync"
    yield hook
    hook.gate.set()
    server.shutdown()
    thread.join(5)
