"""``/_sandbox/*``: the test-side control surface, served on both ports, never counted.

* ``GET /_sandbox/state[?records=0]``: records, request counts, and the sections extensions
  add (``team``, ``webhooks``).
* ``GET /_sandbox/clock``: ``{"now", "offset_seconds", "agenda"}``;
  ``POST /_sandbox/clock {"advance_seconds": N}``: move sandbox time forward and run what is
  due (the sales team acts, late leads appear); answers ``{"now", "ran"}``.
* Extensions register more routes with :func:`route` (webhooks does).

Every other request first runs what is due on the agenda at the current sandbox time, so
a sandbox following real time needs no clock call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from connectors.sandbox.store import SandboxStore

PREFIX = "/_sandbox/"
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]
Handler = Callable[[Request], tuple[int, Any]]


def json_answer(status: int, payload: Any) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json")


def body_of(request: Request) -> dict[str, Any]:
    """The JSON object a control request sent ({} when empty); ValueError otherwise."""
    raw = request.get_data(as_text=True)
    body = json.loads(raw) if raw.strip() else {}
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


class Control:
    """Routes under ``/_sandbox/`` for one store; extensions add theirs with :meth:`route`."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "state"): self._state,
            ("GET", "clock"): self._clock,
            ("POST", "clock"): self._advance,
        }

    def route(self, method: str, name: str, handler: Handler) -> None:
        self.routes[(method, name)] = handler

    def wrap(self, app: WSGIApp) -> WSGIApp:
        """Serve the control routes in front of an emulator; tick the agenda otherwise."""

        def wrapped(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            path = str(environ.get("PATH_INFO", ""))
            if not path.startswith(PREFIX):
                self.store.tick()
                return app(environ, start_response)
            return self.answer(Request(environ))(environ, start_response)

        return wrapped

    def answer(self, request: Request) -> Response:
        name = request.path[len(PREFIX):].strip("/")
        handler = self.routes.get((request.method, name))
        if handler is None:
            return json_answer(404, {"error": f"no {request.method} /_sandbox/{name}"})
        try:
            status, payload = handler(request)
        except (ValueError, TypeError) as exc:
            return json_answer(400, {"error": str(exc)})
        return json_answer(status, payload)

    def _state(self, request: Request) -> tuple[int, Any]:
        records = request.args.get("records", "1") not in ("0", "false", "no")
        return 200, self.store.snapshot(include_records=records)

    def _clock(self, _request: Request) -> tuple[int, Any]:
        clock = self.store.clock
        offset = clock.offset.total_seconds() if hasattr(clock, "offset") else 0.0
        return 200, {"now": self.store.now().isoformat(), "offset_seconds": offset,
                     "agenda": len(self.store.agenda)}

    def _advance(self, request: Request) -> tuple[int, Any]:
        seconds = float(body_of(request).get("advance_seconds", 0))
        ran = self.store.advance(seconds)
        return 200, {"now": self.store.now().isoformat(), "ran": ran}
