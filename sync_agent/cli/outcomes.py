"""``sync-agent outcomes``: read back what sales did after the agent's handoffs.

Thin: parse options, call :func:`sync_agent.engine.outcomes.read_outcomes_now`, render a
summary per sink (new events by kind, API calls). Exit codes as ``run``: 0 ok, 1 a sink's
read-back failed, 3 another agent holds the lock, 4 an API budget stopped it.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from sync_agent.cli.options import check_pipeline, config_option, json_option, load, pipeline_option
from sync_agent.errors import AgentLocked

KINDS = ("first_touch", "sql", "opportunity", "rejected", "recycled")


@click.command("outcomes")
@pipeline_option
@json_option
@config_option
def outcomes(pipeline: str | None, as_json: bool, config_path: Path | None) -> None:
    """Read back what sales did after each handoff, and record it in the audit log.

    For every accepted handoff a sink wrote within [outcomes] lookback_days (default 90)
    whose story is not over there yet (no opportunity, rejection or recycle recorded), it
    asks that sink's CRM what happened: statuses and their history, completed tasks, sales
    activity, conversion, owner, the rejection reason (docs/loop.md says what each
    connector reads). New events (first_touch, sql, opportunity, rejected with its reason,
    recycled) are appended to the outcomes table; reading again adds nothing.
    `run` does the same after its writes; this command is for catching up by hand.
    Settings: [connectors.NAME.outcomes] (statuses, reason field); see docs/loop.md.

    \b
    Examples:
      sync-agent outcomes                          every enabled pipeline
      sync-agent outcomes --pipeline inbound-mqls --json

    Exit codes: 0 read, 1 a read-back failed, 3 another agent holds the lock, 4 an API
    budget stopped it (resume later).
    """
    config = load(config_path)
    check_pipeline(config, pipeline)
    from sync_agent.engine.outcomes_now import read_outcomes_now

    try:
        results = read_outcomes_now(config, pipeline=pipeline)
    except AgentLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(3) from None
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in results], indent=2))
    elif not results:
        click.echo("no sink reads outcomes back (none of the pipelines' sinks can)")
    for r in results if not as_json else []:
        events = ", ".join(f"{k} {r.events.get(k, 0)}" for k in KINDS)
        line = (f"{r.pipeline} → {r.sink}: {r.handoffs} open handoffs read, new events: "
                f"{events}; {r.api_calls} API calls")
        click.echo(line + (f"\n  error: {r.error}" if r.error else ""))
    if any(r.budget for r in results):
        raise SystemExit(4)
    raise SystemExit(1 if any(r.error for r in results) else 0)
