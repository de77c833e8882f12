"""``sync-agent hubspot ...``: portal set-up commands (a thin layer over the connector)."""

from __future__ import annotations

from pathlib import Path

import click

from connectors.hubspot.build import build_client
from connectors.hubspot.setup import setup_properties
from sync_agent.cli.options import config_option, instance_option, load, resolve_instance
from sync_agent.errors import SyncAgentError


@click.group()
def hubspot() -> None:
    """HubSpot portal set-up."""


@hubspot.command("setup-properties")
@config_option
@instance_option
@click.option("--dry-run", is_flag=True, help="Only list what would be created.")
def setup_properties_command(
    config_path: Path | None, connector_name: str | None, dry_run: bool
) -> None:
    """Create the SAL contact properties and the note property sal_handoff_key if missing.

    Needs a token with crm.schemas.contacts.write (and the notes schema scope); names
    follow the [connectors.<name>.sal] table of the configuration.

    \b
    Examples:
      sync-agent hubspot setup-properties --dry-run
      sync-agent hubspot setup-properties --connector hubspot-eu
    """
    config = load(config_path, logging=False)
    instance = resolve_instance(config, "hubspot", connector_name)
    try:
        client = build_client(instance.settings, instance.secrets)
        report = setup_properties(client, client.settings, dry_run=dry_run)
    except SyncAgentError as error:
        problems = getattr(error, "problems", None) or []
        detail = "".join(f"\n  {p}" for p in problems)
        raise click.ClickException(
            f"{error}{detail}\n  {config.secrets_hint(instance.name)}"
        ) from error
    verb = "would create" if dry_run else "created"
    for spec in report.created:
        click.echo(f"{verb}: {spec.object_type}.{spec.name} ({spec.type})")
    for spec in report.existing:
        click.echo(f"exists: {spec.object_type}.{spec.name}")
    if not report.created:
        click.echo("nothing to do: every SAL property exists")
