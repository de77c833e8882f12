"""``sync-agent salesforce ...``: small helpers for setting up the Salesforce side.

Thin click layer: each command loads the config, calls one library function of
``connectors.salesforce`` and renders the result; library errors become
``click.ClickException`` with the library's message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from sync_agent.errors import SyncAgentError


@click.group()
def salesforce() -> None:
    """Inspect the Salesforce org the agent writes to."""


def _with_client(config_path: str | None, action: Callable[[Any], Any]) -> Any:
    from connectors.salesforce import SalesforceClient, SalesforceSettings
    from sync_agent.config import find_config, load_config

    try:
        config = load_config(find_config(config_path))
        options = config.connectors.get("salesforce")
        if options is None:
            raise click.ClickException(f"{config.path} has no [connectors.salesforce] table")
        client = SalesforceClient(SalesforceSettings.from_options(options), config.secrets)
        return action(client)
    except SyncAgentError as exc:
        raise click.ClickException(str(exc)) from exc


@salesforce.command("statuses")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Config file (default ./sync-agent.toml).")
def statuses(config_path: str | None) -> None:
    """List the org's Lead Status values and mark the ones the agent writes.

    Use it to pick ``status_accepted`` / ``status_rejected`` / ``status_review``.
    """
    from connectors.salesforce import lead_statuses

    def show(client: Any) -> None:
        s = client.settings
        used = {s.status_accepted: "accepted", s.status_rejected: "rejected",
                s.status_review: "review"}
        for row in lead_statuses(client):
            name = str(row.get("ApiName"))
            flags = [f for f, on in (("default", row.get("IsDefault")),
                                     ("converted", row.get("IsConverted"))) if on]
            role = f"  <- written for {used[name]}" if name in used else ""
            extra = f" ({', '.join(flags)})" if flags else ""
            click.echo(f"{name}{extra}{role}")

    _with_client(config_path, show)
