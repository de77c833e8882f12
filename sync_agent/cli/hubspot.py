"""``sync-agent hubspot ...``: portal set-up commands (a thin layer over the connector)."""

from __future__ import annotations

import click

from sync_agent.errors import SyncAgentError


@click.group()
def hubspot() -> None:
    """HubSpot portal set-up."""


@hubspot.command("setup-properties")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default ./sync-agent.toml).")
@click.option("--dry-run", is_flag=True, help="Only list what would be created.")
def setup_properties_command(config_path: str | None, dry_run: bool) -> None:
    """Create the SAL contact properties and the note property sal_handoff_key if missing.

    Needs a token with crm.schemas.contacts.write (and the notes schema scope); names
    follow the [connectors.hubspot.sal] table of the configuration.
    """
    from connectors.hubspot import build_client
    from connectors.hubspot.setup import setup_properties
    from sync_agent.config import find_config, load_config

    try:
        config = load_config(find_config(config_path))
        options = config.connectors.get("hubspot", {})
        client = build_client(options, config.secrets)
        report = setup_properties(client, client.settings, dry_run=dry_run)
    except SyncAgentError as error:
        problems = getattr(error, "problems", None) or []
        detail = "".join(f"\n  {p}" for p in problems)
        raise click.ClickException(f"{error}{detail}") from error
    verb = "would create" if dry_run else "created"
    for spec in report.created:
        click.echo(f"{verb}: {spec.object_type}.{spec.name} ({spec.type})")
    for spec in report.existing:
        click.echo(f"exists: {spec.object_type}.{spec.name}")
    if not report.created:
        click.echo("nothing to do: every SAL property exists")
