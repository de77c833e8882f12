"""``sync-agent serve``: scheduled pipelines, webhooks, ``/healthz`` and ``/metrics``.

Library API (the CLI and the tests call these)::

    serve(config, *, host="127.0.0.1", port=8080, stop=None, ready=None) -> int
    Agent(config, host=..., port=..., stop=...).start() ... .stop()

The health and status figures come from :mod:`sync_agent.status`, shared with
``sync-agent status``.
"""

from sync_agent.serve.agent import Agent, serve

__all__ = ["Agent", "serve"]
