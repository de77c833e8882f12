"""The HubSpot connector: MQL contacts in, SAL properties and notes out.

Public API (the sync engine builds connectors only through these)::

    from connectors.hubspot import build_source, build_sink, HubSpotSettings, check_connection
    settings = HubSpotSettings.from_options(options)   # ConfigError listing every problem
    source = build_source(options, secrets)            # connectors.base.Source
    sink = build_sink(options, secrets)                # connectors.base.Sink
    check_connection(options, secrets)                 # [(what, ok, detail), ...]

``secrets`` must hold ``HUBSPOT_ACCESS_TOKEN``. Source and sink built for the same portal
and token share one rate limiter. ``clock``/``sleep`` are injectable for tests.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest

from connectors.base import Sink, Source
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.limits import Clock, Sleep
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.setup import existing_property_names, wanted_properties
from connectors.hubspot.sink import HubSpotSink
from connectors.hubspot.source import HubSpotSource
from sync_agent.errors import ConfigError, Problem, SyncAgentError
from sync_agent.logs import register_secret

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"


def build_client(options: Mapping[str, Any], secrets: Mapping[str, str], *,
                 clock: Clock | None = None, sleep: Sleep | None = None,
                 rng: random.Random | None = None) -> HubSpotClient:
    """A paced, retrying SDK client for the configured portal."""
    settings = HubSpotSettings.from_options(options)
    token = secrets.get(TOKEN_ENV)
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set", problems=[Problem(
            "secrets", TOKEN_ENV, "missing",
            hint="a HubSpot private app access token, in the environment or the secrets file")])
    register_secret(token)
    return HubSpotClient(settings, token, clock=clock, sleep=sleep, rng=rng)


def build_source(options: Mapping[str, Any], secrets: Mapping[str, str], *,
                 clock: Clock | None = None, sleep: Sleep | None = None) -> HubSpotSource:
    client = build_client(options, secrets, clock=clock, sleep=sleep)
    return HubSpotSource(client.settings, client)


def build_sink(options: Mapping[str, Any], secrets: Mapping[str, str], *,
               clock: Clock | None = None, sleep: Sleep | None = None) -> HubSpotSink:
    client = build_client(options, secrets, clock=clock, sleep=sleep)
    return HubSpotSink(client.settings, client)


def check_connection(options: Mapping[str, Any],
                     secrets: Mapping[str, str]) -> list[tuple[str, bool, str]]:
    """What ``config check --connect`` shows: settings, token, search, properties."""
    checks: list[tuple[str, bool, str]] = []
    try:
        client = build_client(options, secrets)
    except SyncAgentError as error:
        problems = getattr(error, "problems", [])
        return [("hubspot settings", False, "; ".join(map(str, problems)) or str(error))]
    settings = client.settings
    checks.append(("hubspot settings", True, settings.base_url))
    try:
        request = PublicObjectSearchRequest(
            filter_groups=[FilterGroup(filters=[
                Filter(property_name=f["propertyName"], operator=f["operator"],
                       value=f.get("value"), values=f.get("values"))
                for f in settings.mql_filter])],
            properties=["hs_object_id"], limit=1, after="0")
        body = client.search_contacts(request).body
        total = body.get("total") if isinstance(body, dict) else None
        checks.append(("hubspot contacts search", True, f"{total} contacts match the MQL filter"))
    except SyncAgentError as error:
        checks.append(("hubspot contacts search", False, str(error)))
        return checks
    try:
        present = {o: existing_property_names(client, o) for o in ("contacts", "notes")}
        missing = [f"{s.object_type}.{s.name}" for s in wanted_properties(settings)
                   if s.name not in present[s.object_type]]
        detail = ("all present" if not missing else "missing: " + ", ".join(missing)
                  + " (run: sync-agent hubspot setup-properties)")
        checks.append(("hubspot SAL properties", not missing, detail))
    except SyncAgentError as error:
        checks.append(("hubspot SAL properties", False, str(error)))
    limiter = client.limiter
    checks.append(("hubspot daily budget", limiter.used_today < limiter.allowance,
                    f"{limiter.used_today} used of {limiter.allowance} allowed today"))
    return checks


def _conforms(source: HubSpotSource, sink: HubSpotSink) -> tuple[Source, Sink]:
    """Never called: mypy checks here that both implement the shared protocols."""
    return source, sink


__all__ = [
    "HubSpotClient",
    "HubSpotSettings",
    "HubSpotSink",
    "HubSpotSource",
    "build_client",
    "build_sink",
    "build_source",
    "check_connection",
]
