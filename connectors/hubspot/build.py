"""Building the HubSpot connector's parts from settings and secrets, and checking them."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hubspot.crm.contacts import Filter, FilterGroup, PublicObjectSearchRequest

from connectors.base import Budget, ConnectionCheck, Instance, SourceSchema, StateStore
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.limits import Clock, RateLimiter, Sleep
from connectors.hubspot.schema import load_schema
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.setup import existing_property_names, wanted_properties
from connectors.hubspot.sink import HubSpotSink
from connectors.hubspot.source import HubSpotSource
from sync_agent.errors import ConfigError, Problem, SyncAgentError
from sync_agent.logs import register_secret

TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
Options = HubSpotSettings | Mapping[str, Any]


#: Where an instance keeps its daily API usage between processes (its StateStore key).
USAGE_KEY = "daily_usage"


def build_client(options: Options, secrets: Mapping[str, str], *,
                 clock: Clock | None = None, sleep: Sleep | None = None,
                 rng: random.Random | None = None,
                 state: StateStore | None = None) -> HubSpotClient:
    """A paced, retrying SDK client for the configured portal; with ``state``, the day's
    API usage of earlier runs counts against the budget (cron starts a new process each
    time)."""
    settings = HubSpotSettings.coerce(options)
    token = secrets.get(TOKEN_ENV)
    if not token:
        raise ConfigError(f"{TOKEN_ENV} is not set", problems=[Problem(
            "secrets", TOKEN_ENV, "missing",
            hint="a HubSpot private app access token, in the environment or the secrets file")])
    register_secret(token)
    client = HubSpotClient(settings, token, clock=clock, sleep=sleep, rng=rng)
    if state is not None:
        client.limiter.restore(state.get(USAGE_KEY))
        client.on_close.append(lambda: persist_usage(client.limiter, state))
    return client


def persist_usage(limiter: RateLimiter, state: StateStore) -> None:
    """Save the day's usage for later processes, adding this process's unsaved calls to
    what others saved (:meth:`RateLimiter.merge_into`)."""
    state.put(USAGE_KEY, limiter.merge_into(state.get(USAGE_KEY)))


def build_source(options: Options, secrets: Mapping[str, str], *, name: str = "hubspot",
                 clock: Clock | None = None, sleep: Sleep | None = None,
                 state: StateStore | None = None) -> HubSpotSource:
    client = build_client(options, secrets, clock=clock, sleep=sleep, state=state)
    return HubSpotSource(client.settings, client, name=name, state=state)


def build_sink(options: Options, secrets: Mapping[str, str], *, name: str = "hubspot",
               clock: Clock | None = None, sleep: Sleep | None = None,
               state: StateStore | None = None) -> HubSpotSink:
    client = build_client(options, secrets, clock=clock, sleep=sleep, state=state)
    return HubSpotSink(client.settings, client, name=name)


def check_connection(options: Options, secrets: Mapping[str, str],
                     state: StateStore | None = None) -> list[ConnectionCheck]:
    """What ``config check --connect`` shows: settings, token, search, properties, and the
    day's API usage as the agent counts it (earlier runs' usage included, with ``state``)."""
    checks: list[ConnectionCheck] = []
    try:
        client = build_client(options, secrets, state=state)
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
    client.close()
    return checks


def budget(instance: Instance, now: datetime) -> Budget:
    """``ConnectorSpec.budget``: today's usage as the instance's state keeps it (no API call).

    ``allowed`` is the configured share of the tier's daily limit (what the agent stops at);
    a usage saved on an earlier day counts as none today (HubSpot's day is UTC here, as the
    rate limiter counts it).
    """
    settings = HubSpotSettings.coerce(instance.settings)
    allowed = int(settings.daily * settings.daily_max_share)
    saved = instance.state.get(USAGE_KEY)
    today = int(now.timestamp() // 86_400)
    used = 0
    if isinstance(saved, Mapping) and saved.get("day") == today:
        raw = saved.get("used")
        used = raw if isinstance(raw, int) and not isinstance(raw, bool) else 0
    return Budget(used=used, allowed=allowed)


def describe(instance: Instance, refresh: bool) -> SourceSchema:
    """``ConnectorSpec.describe``: the instance's schema (see :func:`load_schema`)."""
    client = build_client(instance.settings, instance.secrets)
    try:
        return load_schema(client, instance.settings, instance.state, refresh=refresh)
    finally:
        client.close()
