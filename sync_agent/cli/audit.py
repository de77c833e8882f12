"""``sync-agent audit list|show|export|dead-letters``, ``report`` and ``prune``: the audit log."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from sync_agent.cli.options import (
    agent_locked,
    config_option,
    echo_json,
    json_option,
    load,
    pipeline_option,
    since_option,
    until_option,
    utc,
)


@click.group("audit")
def audit() -> None:
    """Read the audit log: decisions, explanations, write results.

    \b
    Examples:
      sync-agent audit list --outcome accepted --since 2026-01-01
      sync-agent audit show lead@example.com
      sync-agent audit export --format csv --output decisions.csv
    """


@audit.command("list")
@click.option(
    "--outcome",
    type=click.Choice(["accepted", "rejected", "review"]),
    multiple=True,
    help="Only these outcomes (repeatable).",
)
@since_option
@pipeline_option
@click.option(
    "--limit", type=int, default=50, show_default=True, help="At most this many rows (0: all)."
)
@json_option
@config_option
def list_cmd(
    outcome: tuple[str, ...],
    since: datetime | None,
    pipeline: str | None,
    limit: int,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """List decisions, newest first."""
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        rows = log.list_decisions(
            outcome=outcome or None, since=utc(since), pipeline=pipeline, limit=limit or None
        )
    if as_json:
        echo_json(rows)
        return
    click.echo(
        f"{'id':>6}  {'decided_at':25}  {'pipeline':14}  {'lead':22}  {'outcome':9}  "
        f"{'score':>6}  status"
    )
    for r in rows:
        click.echo(
            f"{r['id']:>6}  {r['decided_at'][:25]:25}  {r['pipeline'][:14]:14}  "
            f"{r['lead_key'][:22]:22}  "
            f"{r['outcome']:9}  {r['score']:6.1f}  {r['status']}"
        )
    click.echo(f"{len(rows)} decision(s)", err=True)


@audit.command("show")
@click.argument("lead")
@json_option
@config_option
def show(lead: str, as_json: bool, config_path: Path | None) -> None:
    """Every decision for LEAD (a lead key such as <source>:<id>, a source or CRM id): why,
    rules, write results."""
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        decisions = log.show_lead(lead)
    if not decisions:
        raise click.ClickException(f"no decision recorded for {lead!r}")
    if as_json:
        echo_json(decisions)
        return
    for d in decisions:
        click.echo(
            f"Decision #{d['id']} ({d['pipeline']}, run "
            f"{d['run_id']}{', dry run' if d['dry_run'] else ''})"
        )
        click.echo(f"  lead {d['lead_key']}  crm ids {d['crm_ids']}")
        click.echo(
            f"  {d['outcome'].upper()} score {d['score']:g} at {d['decided_at']}  status "
            f"{d['status']}"
        )
        click.echo(f"  rules {d['rules_name']} {d['rules_hash']}")
        for reason in d["reasons"]:
            click.echo(f"  - {reason}")
        click.echo("  explanation:")
        for check in d["explanation"]:
            _echo_check(check, 2)
        for w in d["writes"]:
            err = f"  ({w['last_error']})" if w["last_error"] else ""
            click.echo(
                f"  write to {w['sink']}: {w['state']} after {w['attempts']} attempt(s){err}"
            )
        click.echo("")


def _echo_check(check: dict[str, Any], depth: int) -> None:
    mark = "✓" if check.get("passed") else "✗"
    points = (
        f" [{check['points']:g}/{check['max_points']:g}]" if check.get("points") is not None else ""
    )
    detail = f": {check['detail']}" if check.get("detail") else ""
    click.echo(f"{'  ' * depth}{mark} {check['kind']} {check['name']}{points}{detail}")
    for child in check.get("children", ()):
        _echo_check(child, depth + 1)


@audit.command("export")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@since_option
@config_option
def export(fmt: str, output: Path | None, since: datetime | None, config_path: Path | None) -> None:
    """Export every decision (streamed) as CSV or JSON."""
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        if output is None:
            count = log.export(fmt, sys.stdout, since=utc(since))
        else:
            # Decisions hold personal data: the file is the owner's only, like the audit log.
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.chmod(output, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                count = log.export(fmt, fh, since=utc(since))
    click.echo(f"exported {count} decision(s)", err=True)


@click.command("report")
@since_option
@until_option
@json_option
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a self-contained HTML report with charts to this file (mode 0600).",
)
@config_option
def report(
    since: datetime | None,
    until: datetime | None,
    as_json: bool,
    html_path: Path | None,
    config_path: Path | None,
) -> None:
    """MQL→SAL conversion against the benchmark bands, rejections by reason and check,
    time from MQL date to SAL, and accepted leads not written to each CRM, with why.

    Each lead counts once, by its latest decision in the window (docs/report.md).

    \b
    Examples:
      sync-agent report
      sync-agent report --since 2026-01-01 --until 2026-02-01 --json
      sync-agent report --since 2026-01-01 --html sal-report.html
    """
    from sync_agent.audit import AuditLog
    from sync_agent.report import build_report, render_text

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        result = build_report(log, since=utc(since), until=utc(until))
    if html_path is not None:
        from sync_agent.report.html import write_html

        write_html(result, html_path)
        click.echo(f"wrote {html_path}", err=True)
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render_text(result), nl=False)


@click.command("prune")
@click.option(
    "--days",
    type=int,
    default=None,
    help="Keep this many days (default: [retention] decisions_days).",
)
@config_option
def prune(days: int | None, config_path: Path | None) -> None:
    """Delete finished decisions older than the retention period; daily counts are kept.

    Takes the agent lock (exit 3 while `sync-agent run` works on this database: the
    running agent prunes by itself every day at 03:15 UTC). For cron set-ups:

    \b
    Example (a daily cron line):
      15 3 * * *  sync-agent prune --config /etc/sync-agent/sync-agent.toml
    """
    from sync_agent.audit import AuditLog

    config = load(config_path)
    keep = days if days is not None else config.decisions_days
    if keep < 1:
        raise click.BadParameter("must be at least 1", param_hint="--days")
    with agent_locked(config), AuditLog.open(config.audit_db) as log:
        removed = log.prune(datetime.now(UTC) - timedelta(days=keep))
    click.echo(f"pruned {removed} decision(s) older than {keep} day(s); daily aggregates kept")


@audit.command("rename-pipeline")
@click.argument("old")
@click.argument("new")
@config_option
def rename_pipeline(old: str, new: str, config_path: Path | None) -> None:
    """Move a pipeline's history (cursor, decisions, outbox) to its new name after you
    renamed it in the config, so it goes on where it stopped instead of reading from the
    start. Runs under the agent lock.

    \b
    Example:
      sync-agent audit rename-pipeline web-mqls inbound-mqls
    """
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with agent_locked(config), AuditLog.open(config.audit_db) as log:
        if old not in log.pipeline_names():
            raise click.BadParameter(f"the audit log has no pipeline {old!r}", param_hint="OLD")
        try:
            moved = log.rename_pipeline(old, new)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"renamed {old} to {new}: {moved} decision(s), the cursor and the outbox moved")
    if new not in {p.name for p in config.pipelines}:
        click.echo(f"note: {config.path} has no pipeline named {new!r} yet", err=True)


@audit.command("dead-letters")
@pipeline_option
@json_option
@config_option
def dead_letters(pipeline: str | None, as_json: bool, config_path: Path | None) -> None:
    """Writes parked after their last attempt; `sync-agent replay --id N` retries one."""
    from sync_agent.audit import AuditLog

    config = load(config_path, logging=False)
    with AuditLog.open(config.audit_db) as log:
        rows = log.dead_letters(pipeline)
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(
            f"{r['id']:>6}  {r['pipeline']}  {r['sink']:10}  {r['lead_key']:22}  "
            f"{r['attempts']} attempt(s)  {r['last_error'] or ''}"
        )
    click.echo(f"{len(rows)} dead letter(s)", err=True)
