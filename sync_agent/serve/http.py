"""The agent's HTTP side: a WSGI app, served by cheroot.

Why cheroot: a pure-Python, multi-threaded HTTP/1.1 server that CherryPy has run in
production for years and that is still released regularly; it is made to be embedded
(``prepare()`` binds, so port 0 tells us the real port; ``serve()`` in a thread;
``stop()`` from any other), needs no event loop next to APScheduler's threads, and bounds
threads, header size and timeouts. Gunicorn forks workers (one agent lock per process,
not per worker), uvicorn wants an ASGI app and an event loop, waitress has no documented
stop from another thread; werkzeug's own server is for development. Requests and
responses are werkzeug's wrappers (already a dependency), routing is three paths.

Routes: ``POST /webhooks/<instance>`` (202 queued; 401 bad or stale signature; 400 not a
JSON array of events; 413 over the connector's body limit; 415 not JSON; 503 no app
secret), ``GET /healthz`` (200 or 503, JSON), ``GET /metrics`` (Prometheus text).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import ClientDisconnected
from werkzeug.wrappers import Request, Response

from connectors.base import WebhookRequest
from sync_agent.errors import WebhookRefused
from sync_agent.serve.intake import Endpoint, Intake
from sync_agent.status import AgentStatus

StartResponse = Callable[..., Any]


def _json(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload, indent=1) + "\n", status=status,
                    mimetype="application/json")


class AgentApp:
    """The WSGI application (thread-safe: the parts it calls lock what they share)."""

    def __init__(self, intake: Intake, health: Callable[[], AgentStatus],
                 metrics: Callable[[], bytes], metrics_type: str,
                 public_url: str | None = None, clock: Callable[[], float] = time.time) -> None:
        self.intake = intake
        self.health = health
        self.metrics = metrics
        self.metrics_type = metrics_type
        self.public_url = public_url.rstrip("/") if public_url else None
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path in ("/healthz", "/metrics"):
            if request.method not in ("GET", "HEAD"):
                return _json(405, {"error": f"{path} answers GET"})
            if path == "/healthz":
                status = self.health()
                payload = {"healthy": status.healthy, "problems": status.reasons(),
                           "checked_at": status.to_dict()["checked_at"],
                           "pipelines": {p.name: {"healthy": p.healthy,
                                                  "last_run": p.last_run,
                                                  "dead_letters": p.writes.get("dead", 0)}
                                         for p in status.pipelines}}  # fmt: skip
                return _json(200 if status.healthy else 503, payload)
            return Response(self.metrics(), status=200, content_type=self.metrics_type)
        if path.startswith("/webhooks/"):
            point = self.intake.points.get(path.removeprefix("/webhooks/"))
            if point is None:
                return _json(404, {"error": f"no webhook source at {path}",
                                   "sources": sorted(p.path for p in self.intake.points.values())})
            if request.method != "POST":
                return _json(405, {"error": "webhooks are POSTed"})
            return self.webhook(point, request)
        return _json(404, {"error": "not found", "paths": ["/healthz", "/metrics",
                                                           "/webhooks/<source>"]})

    def webhook(self, point: Endpoint, request: Request) -> Response:
        remote = request.remote_addr or ""
        if request.mimetype not in point.spec.content_types:
            return _json(*self.intake.refuse(point.source, WebhookRefused(
                f"Content-Type {request.mimetype or 'none'!r} is not "
                f"{' or '.join(point.spec.content_types)}", status=415, reason="content_type"),
                remote))  # fmt: skip
        limit = point.spec.max_body_bytes
        too_large = WebhookRefused(f"the body is over {limit} bytes", status=413,
                                   reason="too_large")
        if request.content_length is not None and request.content_length > limit:
            return self._close(_json(*self.intake.refuse(point.source, too_large, remote)))
        try:
            body = request.stream.read(limit + 1)
        except ClientDisconnected:  # shorter than its Content-Length, or cut off
            return self._close(_json(*self.intake.refuse(point.source, WebhookRefused(
                "the body ended before its Content-Length", status=400, reason="malformed"),
                remote)))  # fmt: skip
        if len(body) > limit:
            return self._close(_json(*self.intake.refuse(point.source, too_large, remote)))
        hooked = WebhookRequest(method=request.method, uri=self.signed_uri(request),
                                headers={k.lower(): v for k, v in request.headers.items()},
                                body=body, received_at=self.clock())
        return _json(*self.intake.receive(point, hooked, remote))

    def signed_uri(self, request: Request) -> str:
        """The URI the sender signed: the public URL (when configured) or this request's."""
        target = request.environ.get("REQUEST_URI") or request.full_path.rstrip("?")
        if self.public_url:
            return self.public_url + target
        return f"{request.scheme}://{request.host}{target}"

    @staticmethod
    def _close(response: Response) -> Response:
        """An unread body must not be taken for the next request on a kept-alive connection."""
        response.headers["Connection"] = "close"
        return response
