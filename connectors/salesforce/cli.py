"""``sync-agent salesforce ...``: small helpers for setting up the Salesforce side.

Thin click layer: each command loads the config, calls one library function of
``connectors.salesforce`` and renders the result; library errors become
``click.ClickException`` with the library's message.
"""

from __future__ import annotations

from pathlib import Path

import click

from connectors.salesforce.build import lead_statuses
from connectors.salesforce.client import SalesforceClient
from sync_agent.cli.options import config_option, instance_option, load, resolve_instance
from sync_agent.errors import SyncAgentError


@click.group()
def salesforce() -> None:
    """Inspect the Salesforce org the agent writes to."""


@salesforce.command("statuses")
@config_option
@instance_option
def statuses(config_path: Path | None, connector_name: str | None) -> None:
    """List the org's Lead Status values and mark the ones the agent writes.

    Use it to pick status_accepted, status_rejected and status_review.

    \b
    Example:
      sync-agent salesforce statuses --config sync-agent.toml
    """
    config = load(config_path, logging=False)
    instance = resolve_instance(config, "salesforce", connector_name)
    try:
        client = SalesforceClient(instance.settings, instance.secrets)
        rows = lead_statuses(client)
    except SyncAgentError as exc:
        raise click.ClickException(f"{exc}\n  {config.secrets_hint(instance.name)}") from exc
    s = client.settings
    used = {s.status_accepted: "accepted", s.status_rejected: "rejected",
            s.status_review: "review"}  # fmt: skip
    for row in rows:
        name = str(row.get("ApiName"))
        flags = [f for f, on in (("default", row.get("IsDefault")),
                                 ("converted", row.get("IsConverted"))) if on]  # fmt: skip
        role = f"  <- written for {used[name]}" if name in used else ""
        extra = f" ({', '.join(flags)})" if flags else ""
        click.echo(f"{name}{extra}{role}")
