"""``sync-agent sla``: the follow-up SLA per pipeline (read only)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from sync_agent.cli.options import config_option, echo_json, json_option, load


@click.command("sla")
@json_option
@config_option
def sla(as_json: bool, config_path: Path | None) -> None:
    """Follow-up SLA per pipeline: met, pending, breached, open breaches, their actions.

    Met is a first touch read back from the CRM and no breach; breached is a breach the
    watch recorded (after each run, when [sla] is configured); pending is neither (due:
    its deadline has passed, the next run records it). Reads the audit database only.

    \b
    Examples:
      sync-agent sla
      sync-agent sla --json
    """
    from sync_agent.audit import AuditLog
    from sync_agent.sla.overview import overview, render

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as audit:
        data = overview(config, audit, datetime.now(UTC))
    if as_json:
        echo_json(data)
    else:
        click.echo(render(data))
