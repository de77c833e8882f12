"""Placeholder: the Salesforce REST emulator (owned by the Salesforce work)."""

from __future__ import annotations

from typing import Any


def make_salesforce_app(store: Any, faults: Any = None, limits: Any = None) -> Any:
    """Return a WSGI app emulating Salesforce REST; this placeholder answers 404."""
    from werkzeug.wrappers import Response

    def app(environ: Any, start_response: Any) -> Any:
        return Response("not implemented", status=404)(environ, start_response)

    return app
