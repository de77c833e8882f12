"""``sync-agent serve`` and ``sync-agent status``: the long-running agent and its health.

Thin: parse options, call :func:`sync_agent.serve.serve` or :func:`sync_agent.status.collect`,
render. Exit codes: ``serve`` 0 stopped by SIGTERM/Ctrl-C, 1 could not start (the port),
3 another agent holds the lock; ``status`` 0 healthy, 1 not.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from sync_agent.cli.options import config_option, echo_json, json_option, load
from sync_agent.errors import AgentLocked, FatalError


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface; put TLS in front).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port to listen on (0: any free port).")
@config_option
def serve(host: str, port: int, config_path: Path | None) -> None:
    """Run the agent with its HTTP server until SIGTERM/Ctrl-C.

    Every pipeline runs on its schedule (as `run` does) and, for sources that send
    webhooks, as soon as a change arrives: POST /webhooks/<connector> (signed; see
    docs/serve.md). GET /healthz answers 200 or 503 with the reasons, GET /metrics the
    Prometheus figures.

    \b
    Examples:
      sync-agent serve                               127.0.0.1:8080
      sync-agent serve --host 0.0.0.0 --port 9000    behind a TLS proxy
      curl -s localhost:8080/healthz
    """
    from sync_agent.serve import Agent
    from sync_agent.serve import serve as serve_agent

    config = load(config_path)

    def ready(agent: Agent) -> None:
        click.echo(f"sync-agent serving on {agent.url}: {len(config.selected(None))} "
                   "pipeline(s), GET /healthz, GET /metrics; Ctrl-C to stop", err=True)
        for point in agent.points.values():
            state = "on" if point.secret else f"OFF ({point.secret_name} is not set)"
            click.echo(f"  POST {point.path}: webhooks {state}", err=True)

    try:
        code = serve_agent(config, host=host, port=port, ready=ready)
    except AgentLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(3) from None
    except FatalError as exc:
        click.echo(f"Error: {exc}", err=True)
        raise SystemExit(1) from None
    raise SystemExit(code)


@click.command("status")
@json_option
@config_option
def status(as_json: bool, config_path: Path | None) -> None:
    """Is the agent healthy? Per pipeline: last run, lag, outbox, SLA breaches, budget.

    Exits 0 when every enabled pipeline is healthy, 1 when one is not (its last run
    failed, dead letters wait, it has not run for two scheduled slots, it never ran):
    a monitor can call it. Reads the audit database only; changes nothing.

    \b
    Examples:
      sync-agent status
      sync-agent status --json
    """
    from sync_agent.status import collect

    config = load(config_path, logging=False)
    result = collect(config)
    if as_json:
        echo_json(result.to_dict())
    else:
        click.echo(render_status(result.to_dict(), result.checked_at))
    raise SystemExit(result.exit_code)


def render_status(data: dict[str, Any], now: datetime) -> str:
    """The text ``status`` prints (from :meth:`AgentStatus.to_dict`)."""
    lines = []
    for p in data["pipelines"]:
        verdict = ("healthy" if p["healthy"] else "NOT HEALTHY") if p["enabled"] else "disabled"
        lines.append(f"{p['name']}: {verdict}")
        run = p["last_run"]
        if run:
            when = run["ended_at"] or run["started_at"]
            outcome = run["outcome"] if run["ended_at"] else "running"
            lines.append(f"  last run       #{run['id']} {run['mode']} {outcome}, "
                         f"{run['decided']} decided, {run['written']} written, "
                         f"{_ago(when, now)} ({p['schedule']})")
        else:
            lines.append(f"  last run       never ({p['schedule']})")
        good = p["last_good_at"]
        lines.append(f"  last good run  {_ago(good, now) if good else 'never'}")
        newest = p["newest_lead_at"]
        lag = f"newest lead seen {_ago(newest, now)}" if newest else "-"
        lines.append(f"  lag            {lag}")
        w = p["writes"]
        lines.append(f"  writes         pending {w['pending'] + w['in_flight']}, retryable "
                     f"{w['retryable']}, dead {w['dead']}; waiting handoffs {w['waiting']}")
        lines.append(f"  SLA breaches   {p['open_sla_breaches']} open ({p['sla_breaches']} in all)")
        budgets = [f"{name} {b['left']:,} of {b['allowed']:,} calls left this {b['period']}"
                   if b else f"{name} not known" for name, b in p["api_budget"].items()]
        lines.append(f"  API budget     {'; '.join(budgets) or '-'}")
        lines += [f"  ✗ {problem}" for problem in p["problems"]]
    backlog = {k: v for k, v in data["webhook_backlog"].items() if v}
    if backlog:
        lines.append("webhook events not read yet: "
                     + ", ".join(f"{k} {v}" for k, v in sorted(backlog.items())))
    pipeline_problems = {f"{p['name']}: {x}" for p in data["pipelines"] for x in p["problems"]}
    lines += [f"✗ {x}" for x in data["problems"] if x not in pipeline_problems]
    lines.append("healthy" if data["healthy"] else "NOT HEALTHY")
    return "\n".join(lines)


def _ago(text: str, now: datetime) -> str:
    """``2026-05-01T10:00:00+00:00`` as ``3 min ago`` (or the time itself when unreadable)."""
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return str(text)
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return "just now"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"
