"""``sync-agent sandbox serve``: the local HubSpot + Salesforce emulator in the foreground.

A thin layer over :class:`connectors.sandbox.Sandbox`: parse options, start it, print one
JSON line with what a client needs, serve until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Any

import click

TIERS = ("free", "starter", "professional", "enterprise", "off")


@click.group()
def sandbox() -> None:
    """Run the local HubSpot + Salesforce emulator."""


@sandbox.command("serve")
@click.option(
    "--port",
    type=int,
    default=0,
    show_default=True,
    help="HubSpot port; Salesforce (https) listens on PORT+1. 0 picks free ports.",
)
@click.option(
    "--contacts",
    type=int,
    default=1000,
    show_default=True,
    help="Synthetic HubSpot contacts to seed.",
)
@click.option("--seed", type=int, default=7, show_default=True, help="Seed for the data.")
@click.option(
    "--mql-share",
    type=float,
    default=0.6,
    show_default=True,
    help="Share of contacts that are MQLs.",
)
@click.option(
    "--hubspot-tier",
    type=click.Choice(TIERS),
    default="off",
    show_default=True,
    help="Enforce this tier's HubSpot rate limits (10 s burst, 5 searches/s, daily).",
)
@click.option(
    "--sf-daily-api",
    type=int,
    default=15_000,
    show_default=True,
    help="Salesforce daily API allocation reported in Sforce-Limit-Info.",
)
@click.option("--rate-429", type=float, default=0.0, help="Share of requests answered 429.")
@click.option("--rate-5xx", type=float, default=0.0, help="Share answered 502/503 (HTML).")
@click.option(
    "--rate-lock",
    type=float,
    default=0.0,
    help="Share of Salesforce records failing UNABLE_TO_LOCK_ROW.",
)
@click.option("--latency-ms", type=int, default=0, help="Added latency per request.")
@click.option(
    "--session-expiry-every",
    type=int,
    default=None,
    help="Expire the Salesforce session every N calls.",
)
@click.option("--malformed-rate", type=float, default=0.0, help="Share of truncated JSON bodies.")
@click.option(
    "--search-lag-ms",
    type=int,
    default=0,
    help="Hide records from HubSpot search until their last change is this old (index lag).",
)
@click.option(
    "--lead-sync-delay",
    type=float,
    default=None,
    help="HubSpot's Salesforce sync creates an MQL's Lead this many seconds later.",
)
@click.option(
    "--late-visible-share",
    type=float,
    default=0.0,
    help="Share of writes HubSpot search and SOQL see late (out of order).",
)
@click.option(
    "--late-visible-seconds",
    type=float,
    default=60.0,
    show_default=True,
    help="How late those writes become visible.",
)
@click.option(
    "--trigger-batch-limit",
    type=int,
    default=None,
    help="Salesforce collections of more than N records fail in an org trigger.",
)
@click.option(
    "--no-assignment-rule",
    is_flag=True,
    help="The org has no active lead assignment rule.",
)
@click.option(
    "--write-config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a sync-agent config pointing at this sandbox to PATH.",
)
def serve(
    port: int,
    contacts: int,
    seed: int,
    mql_share: float,
    hubspot_tier: str,
    sf_daily_api: int,
    rate_429: float,
    rate_5xx: float,
    rate_lock: float,
    latency_ms: int,
    session_expiry_every: int | None,
    malformed_rate: float,
    search_lag_ms: int,
    lead_sync_delay: float | None,
    late_visible_share: float,
    late_visible_seconds: float,
    trigger_batch_limit: int | None,
    no_assignment_rule: bool,
    write_config: Path | None,
) -> None:
    """Serve both emulators on 127.0.0.1 until Ctrl-C; prints one JSON line first."""
    from connectors.sandbox import Faults, HubSpotLimits, SalesforceLimits, SalesforceOrg, Sandbox

    faults = Faults(
        rate_429=rate_429,
        rate_5xx=rate_5xx,
        rate_lock=rate_lock,
        latency_ms=latency_ms,
        session_expiry_every=session_expiry_every,
        malformed_rate=malformed_rate,
        search_lag_ms=search_lag_ms,
        late_visible_share=late_visible_share,
        late_visible_ms=int(late_visible_seconds * 1000),
        seed=seed,
    )
    org = SalesforceOrg(
        lead_sync_delay_seconds=lead_sync_delay,
        late_visible_share=late_visible_share,
        late_visible_seconds=late_visible_seconds,
        trigger_batch_limit=trigger_batch_limit,
    )
    if no_assignment_rule:
        org.assignment_rule = None
    sb = Sandbox(
        contacts=contacts,
        seed=seed,
        mql_share=mql_share,
        faults=faults,
        hubspot_limits=HubSpotLimits.for_tier(hubspot_tier),
        salesforce_limits=SalesforceLimits(daily_api_max=sf_daily_api),
        hubspot_port=port,
        salesforce_port=port + 1 if port else 0,
        org=org,
    )
    try:
        sb.start()
    except OSError as exc:
        raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc}") from exc
    try:
        info = sb.info()
        if write_config is not None:
            write_config.write_text(config_text(info))
            info["config"] = str(write_config)
        click.echo(json.dumps(info), nl=True)
        _wait_for_stop()
    finally:
        sb.stop()


def config_text(info: dict[str, Any]) -> str:
    """A sync-agent config for this sandbox (its secrets go to a 0600 file it names)."""
    from connectors.sandbox.config import sandbox_config_text

    return sandbox_config_text(info)


def _wait_for_stop() -> None:
    """Block until SIGINT or SIGTERM."""
    stop = threading.Event()

    def handler(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop.wait(0.5):
        pass
