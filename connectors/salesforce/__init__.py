"""Salesforce connector: Leads as a source of MQLs, and the sink for SAL decisions.

Registered as the ``salesforce`` connector type by :data:`CONNECTOR` (entry point group
``sync_agent.connectors``). Library API, also used by its tests::

    settings = SalesforceSettings.from_options(options)   # ConfigError listing every problem
    source = build_source(options, secrets)                # connectors.base.Source
    sink = build_sink(options, secrets)                    # connectors.base.Sink
    check_connection(options, secrets) -> [(what, ok, detail), ...]

``secrets`` holds ``SALESFORCE_*`` values (see :mod:`connectors.salesforce.auth`); options
are the ``[connectors.salesforce]`` table (see :mod:`connectors.salesforce.settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.base import ConnectorSpec
from connectors.salesforce.auth import SECRET_NAMES
from connectors.salesforce.build import build_sink, build_source, check_connection, lead_statuses
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.outcomes import read_outcomes
from connectors.salesforce.schema import describe
from connectors.salesforce.settings import SalesforceSettings
from connectors.salesforce.sink import SalesforceSink
from connectors.salesforce.source import SalesforceSource, iso
from connectors.salesforce.targets import check_targets

__all__ = [
    "CONNECTOR",
    "SalesforceClient",
    "SalesforceSettings",
    "SalesforceSink",
    "SalesforceSource",
    "build_sink",
    "build_source",
    "check_connection",
    "lead_statuses",
]


def _start(since_ms: int) -> dict[str, Any]:
    moment = datetime.fromtimestamp(since_ms / 1000, UTC)
    return {"modstamp": iso(moment), "seen_ids": []}


def _position_ms(position: Mapping[str, Any]) -> int | None:
    stamp = position.get("modstamp")
    if not isinstance(stamp, str):
        return None
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp() * 1000)


def _commands() -> Any:
    from connectors.salesforce.cli import salesforce

    return salesforce


CONNECTOR = ConnectorSpec(
    name="salesforce",
    title="Salesforce",
    summary="Salesforce: Leads in (a SOQL condition); SAL Lead Status, fields and a Task out",
    raw_prefix="salesforce",
    settings=SalesforceSettings,
    secrets=dict.fromkeys(SECRET_NAMES, "see docs/salesforce.md for the login flows"),
    build_source=lambda inst: build_source(inst.settings, inst.secrets, name=inst.name,
                                           state=inst.state),
    build_sink=lambda inst: build_sink(inst.settings, inst.secrets, name=inst.name),
    check_connection=lambda inst: check_connection(inst.settings, inst.secrets),
    start_position=_start,
    position_ms=_position_ms,
    commands=_commands,
    describe=describe,
    check_targets=check_targets,
    read_outcomes=read_outcomes,
)
