"""The HubSpot connector: MQL contacts in, SAL properties and notes out.

Registered as the ``hubspot`` connector type by :data:`CONNECTOR` (entry point group
``sync_agent.connectors``). Library API, also used by its tests::

    settings = HubSpotSettings.from_options(options)   # ConfigError listing every problem
    source = build_source(options, secrets)            # connectors.base.Source
    sink = build_sink(options, secrets)                # connectors.base.Sink
    check_connection(options, secrets)                 # [(what, ok, detail), ...]

``secrets`` must hold ``HUBSPOT_ACCESS_TOKEN``. Source and sink built for the same portal
and token share one rate limiter. ``clock``/``sleep`` are injectable for tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorSpec, Instance, Sink, Source
from connectors.hubspot.build import (
    TOKEN_ENV,
    budget,
    build_client,
    build_sink,
    build_source,
    check_connection,
    describe,
)
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.outcomes import read_outcomes
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.sink import HubSpotSink
from connectors.hubspot.source import HubSpotSource
from connectors.hubspot.targets import check_targets
from connectors.hubspot.webhooks import SECRET_ENV, WEBHOOK


def _start(since_ms: int) -> dict[str, Any]:
    return {"modified_ms": since_ms, "seen_ids": []}


def _position_ms(position: Mapping[str, Any]) -> int | None:
    mark = position.get("modified_ms")
    return mark if isinstance(mark, int) and not isinstance(mark, bool) else None


def _commands() -> Any:
    from connectors.hubspot.cli import hubspot

    return hubspot


CONNECTOR = ConnectorSpec(
    name="hubspot",
    title="HubSpot",
    summary="HubSpot CRM: MQL contacts in (search API); SAL contact properties and notes out",
    raw_prefix="hubspot",
    extra_prefixes=("company",),
    settings=HubSpotSettings,
    secrets={TOKEN_ENV: "a private app access token (crm.objects.contacts.read/write, "
                        "crm.schemas.contacts.read)",
             SECRET_ENV: "optional: the app's client secret, which signs webhooks "
                         "(sync-agent serve; docs/serve.md)"},
    build_source=lambda inst: build_source(inst.settings, inst.secrets, name=inst.name,
                                           state=inst.state),
    build_sink=lambda inst: build_sink(inst.settings, inst.secrets, name=inst.name,
                                       state=inst.state),
    check_connection=lambda inst: check_connection(inst.settings, inst.secrets, inst.state),
    start_position=_start,
    position_ms=_position_ms,
    commands=_commands,
    describe=describe,
    check_targets=check_targets,
    webhook=WEBHOOK,
    budget=budget,
    read_outcomes=read_outcomes,
)


def _conforms(source: HubSpotSource, sink: HubSpotSink, inst: Instance) -> tuple[Source, Sink]:
    """Never called: mypy checks here that both implement the shared protocols."""
    return source, sink


__all__ = [
    "CONNECTOR",
    "HubSpotClient",
    "HubSpotSettings",
    "HubSpotSink",
    "HubSpotSource",
    "build_client",
    "build_sink",
    "build_source",
    "check_connection",
]
