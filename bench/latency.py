"""Speed to lead: seconds from "a contact becomes an MQL" to "its SAL status is in both CRMs".

Both ways run the real agent and connectors (real SDKs over HTTP) against the sandbox in
this process. Leads are made MQLs one after another through the HubSpot API, each at
stage ``lead`` with a Salesforce lead (so both CRMs are written). A lead counts as
handed off when HubSpot has its ``sal_status`` and its Salesforce lead its ``SAL_Date__c``.

* **webhook**: ``sync-agent serve`` (``Agent``) listens; the sandbox POSTs the signed
  ``contact.propertyChange`` event as soon as the stage changes (deliveries are not
  delayed; retries are scaled down but none happen). Measured end to end on the wall
  clock: API call, webhook, verification, batch read, decision, both writes.
* **poll** (``every_minutes = 1``): an MQL waits for the next scheduled pass, then the pass
  reads, decides and writes it. Waiting for real would take a minute per lead, so the
  wait is *drawn* (uniform in [0, 60) s, seeded: MQLs arrive at random moments of the
  minute) and the pass is *run for real* right after the change (``run_once``, what the
  scheduler calls), its wall time measured: latency = drawn wait + measured pass. The
  sandbox's search index has no lag by default (real HubSpot's trails by seconds: a lead
  changed just before a tick can wait one more minute); ``--search-lag-ms`` adds it.
  ``--poll-real`` runs the scheduler for real instead (about a minute per lead).

Prints one JSON object on the last line: ``leads``, ``p50_s_webhook``, ``p95_s_webhook``,
``p50_s_poll``, ``p95_s_poll`` (plus maxima, the poll method and the process CPU time).
Usage: ``python bench/latency.py [--leads 20] [--seed 1]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import emit
from _smoke import smoke
from hubspot import HubSpot

from connectors.hubspot import build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import Faults, Sandbox, TeamConfig, WebhookConfig
from connectors.sandbox.config import config_for_sandbox
from sync_agent.config import Config
from sync_agent.engine import run_once
from sync_agent.logs import configure_logging
from sync_agent.serve import Agent

SECRET = "bench-app-secret"
MQL = "marketingqualifiedlead"
POLL_S = 60.0
TIMEOUT_S = 120.0


def candidates(sb: Sandbox) -> list[str]:
    """Contacts at stage ``lead`` whose live Salesforce lead has no SAL status yet."""
    out = []
    for cid, contact in sb.store.contacts.items():
        props = contact["properties"]
        lead = sb.store.leads.get(props.get("salesforceleadid") or "")
        if (props.get("lifecyclestage") == "lead" and lead and not lead.get("IsConverted")
                and not lead.get("IsDeleted") and not lead.get("SAL_Date__c")):
            out.append(cid)
    return out


def handed_off(sb: Sandbox, cid: str) -> bool:
    props = sb.store.contacts[cid]["properties"]
    lead = sb.store.leads.get(props.get("salesforceleadid") or "") or {}
    return bool(props.get("sal_status")) and bool(lead.get("SAL_Date__c"))


def wait_handed_off(sb: Sandbox, cid: str, start: float) -> float:
    while not handed_off(sb, cid):
        if time.perf_counter() - start > TIMEOUT_S:
            raise SystemExit(f"contact {cid} not handed off within {TIMEOUT_S:.0f} s")
        time.sleep(0.005)
    return time.perf_counter() - start


def configured(sb: Sandbox, workdir: Path, every_minutes: float) -> Config:
    info: dict[str, Any] = {**sb.info(), "every_minutes": every_minutes,
                            "secrets": {"HUBSPOT_APP_SECRET": SECRET}}
    config = config_for_sandbox(info, workdir)
    client = build_client(config.connectors["hubspot"].settings, config.secrets)
    setup_properties(client, client.settings)
    return config


def make_mql(hs: HubSpot, cid: str) -> None:
    hs.crm.contacts.basic_api.update(cid, simple_public_object_input={
        "properties": {"lifecyclestage": MQL}})


def first_run_done(agent: Agent) -> bool:
    run = agent.status().pipelines[0].last_run
    return bool(run and run["ended_at"])


def webhook_latencies(sb: Sandbox, hs: HubSpot, leads: list[str], workdir: Path) -> list[float]:
    config = configured(sb, workdir, every_minutes=60)  # the poll stays out of the way
    agent = Agent(config, port=0).start()
    try:
        while not first_run_done(agent):
            time.sleep(0.05)
        sb.webhooks.configure(target_url=agent.url + "/webhooks/hubspot")
        out = []
        for cid in leads:
            start = time.perf_counter()
            make_mql(hs, cid)
            out.append(wait_handed_off(sb, cid, start))
        return out
    finally:
        sb.webhooks.configure(target_url=None)
        agent.stop()


def poll_latencies(sb: Sandbox, hs: HubSpot, leads: list[str], workdir: Path,
                   rng: random.Random, passes: list[float]) -> list[float]:
    config = configured(sb, workdir, every_minutes=1)
    run_once(config)  # the agent was running before: its cursor is current
    out = []
    for cid in leads:
        wait = rng.uniform(0, POLL_S)  # where in the minute the MQL arrived
        make_mql(hs, cid)
        start = time.perf_counter()
        [summary] = run_once(config)  # the scheduled pass, as the scheduler runs it
        if summary.outcome not in ("ok", "failures"):
            raise SystemExit(f"poll run failed: {summary.outcome} {summary.error}")
        passes.append(wait_handed_off(sb, cid, start))
        out.append(wait + passes[-1])
    return out


def poll_latencies_real(sb: Sandbox, hs: HubSpot, leads: list[str], workdir: Path,
                        rng: random.Random, _passes: list[float]) -> list[float]:
    config = configured(sb, workdir, every_minutes=1)
    agent = Agent(config, port=0).start()  # no webhook target: the schedule alone
    try:
        while not first_run_done(agent):
            time.sleep(0.05)
        out = []
        for cid in leads:
            time.sleep(rng.uniform(0, POLL_S))  # arrive at a random moment
            start = time.perf_counter()
            make_mql(hs, cid)
            out.append(wait_handed_off(sb, cid, start))
        return out
    finally:
        agent.stop()


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--search-lag-ms", type=int, default=0)
    parser.add_argument("--poll-real", action="store_true")
    smoke(parser, leads=2)  # SYNC_AGENT_BENCH_SMOKE=1: a few seconds (README test)
    args = parser.parse_args()
    configure_logging(level="WARNING", json=True)
    cpu = time.process_time()
    rng = random.Random(args.seed)
    hooks = WebhookConfig(client_secret=SECRET, time_scale=1e-3, seed=args.seed)
    faults = Faults(search_lag_ms=args.search_lag_ms)
    with Sandbox(contacts=max(1000, 60 * args.leads), seed=args.seed, mql_share=0.2,
                 webhooks=hooks, team=TeamConfig(enabled=False),
                 hubspot_faults=faults) as sb, tempfile.TemporaryDirectory() as tmp:
        hs = HubSpot(access_token=sb.info()["hubspot_token"], host=sb.info()["hubspot_url"])
        pool = candidates(sb)
        if len(pool) < 2 * args.leads:
            raise SystemExit(f"the sandbox has {len(pool)} candidate leads, "
                             f"{2 * args.leads} needed")
        rng.shuffle(pool)
        webhook = webhook_latencies(sb, hs, pool[:args.leads], Path(tmp) / "webhook")
        poll_leads = pool[args.leads:2 * args.leads]
        passes: list[float] = []  # the measured part of each poll latency (drawn mode)
        poll = (poll_latencies_real if args.poll_real else poll_latencies)(
            sb, hs, poll_leads, Path(tmp) / "poll", rng, passes)
    emit({
        "leads": args.leads,
        "p50_s_webhook": round(statistics.median(webhook), 3),
        "p95_s_webhook": round(p95(webhook), 3),
        "max_s_webhook": round(max(webhook), 3),
        "p50_s_poll": round(statistics.median(poll), 2),
        "p95_s_poll": round(p95(poll), 2),
        "max_s_poll": round(max(poll), 2),
        "p50_s_poll_pass": round(statistics.median(passes), 3) if passes else None,
        "max_s_poll_pass": round(max(passes), 3) if passes else None,
        "poll_every_s": POLL_S,
        "poll_method": "real scheduler" if args.poll_real else "drawn wait + real pass",
        "search_lag_ms": args.search_lag_ms,
        "cpu_s": round(time.process_time() - cpu, 2),
    })


if __name__ == "__main__":
    main()
