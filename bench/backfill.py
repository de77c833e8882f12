"""Backfill speed under HubSpot Professional limits, against the floor those limits allow.

The sandbox enforces 190 requests per 10 s and 5 searches per second (HubSpot
Professional, private app); the agent is configured for the same tier and paces itself.
A backfill of N MQLs runs against it; the floor is the time the limits alone force for
the HubSpot calls made (search calls at 5/s, the others at 19/s, whichever takes longer).
Targets: wall/floor <= 1.3 (reads and writes overlap), < 1 % of requests answered 429,
and still <= 25 calls per 1,000 MQLs.

The ratio moves with the machine's load (two cores shared by the agent, the sandbox and
whatever else runs), so the bench also prints the agent's own CPU cost, which load barely
moves: ``agent_cpu_s_per_1000`` is ``time.process_time()`` of this process over the
backfill alone (set-up excluded) per 1,000 MQLs read. ``process_time`` counts user + system
time of every thread of THIS process (the page loop, the prefetcher, the writer thread), and
the sandbox is a child process, so none of its CPU is in it. The sandbox's CPU over the
same span is read from its process (``psutil``: user + system of all its threads) and
printed as ``sandbox_cpu_s``, to show where the rest of the two cores went: agent plus
sandbox CPU above two cores' worth of the floor cannot fit, whatever the overlap.

The sandbox serves from its own process (``sync-agent sandbox serve``), as HubSpot and
Salesforce are remote for a real agent: inside the agent's process its request handling
would compete with the agent for one interpreter lock and slow the agent down by a third.

    .venv/bin/python bench/backfill.py [--mqls 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import delta, emit, request_totals

from connectors.hubspot import build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox.config import config_for_sandbox
from sync_agent.engine import backfill
from sync_agent.logs import configure_logging


def serve_sandbox(mqls: int, seed: int) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """``sync-agent sandbox serve`` with HubSpot Professional limits; its info line."""
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "sync_agent.cli", "sandbox", "serve", "--contacts", str(mqls),
         "--mql-share", "1.0", "--seed", str(seed), "--hubspot-tier", "professional"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert sandbox.stdout is not None
    return sandbox, json.loads(sandbox.stdout.readline())  # ready once it printed its line


def state(info: dict[str, Any]) -> dict[str, Any]:
    with urllib.request.urlopen(info["state_url"] + "?records=0", timeout=30) as answer:
        return dict(json.load(answer))


def _cpu(process: psutil.Process) -> float:
    """User + system CPU seconds of ``process`` so far (all its threads)."""
    times = process.cpu_times()
    return float(times.user + times.system)


def _children_cpu() -> float:
    """User + system CPU of this process's children that ended (the backfill's writer
    process is joined when the run ends; the sandbox still runs, so it is not counted)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _steal() -> float:
    """Seconds of CPU the hypervisor gave to other machines, over all cores (Linux
    ``/proc/stat``; 0 elsewhere): a noisy neighbour shows here, not in the load average."""
    try:
        with open("/proc/stat") as stat:
            fields = stat.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mqls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--writer", choices=("auto", "thread", "process"), default="auto",
                        help="where the backfill's writes run (default: as `sync-agent "
                        "backfill` does)")
    from _smoke import smoke  # SYNC_AGENT_BENCH_SMOKE=1: a few seconds (README test)

    smoke(parser, mqls=200)
    args = parser.parse_args()
    configure_logging(level="WARNING")
    sandbox, info = serve_sandbox(args.mqls, args.seed)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            options = {"hubspot_options": {"tier": "professional"}, "salesforce_options": {}}
            config = config_for_sandbox({**info, **options}, tmp)
            client = build_client(config.connectors["hubspot"].settings, config.secrets)
            setup_properties(client, client.settings)
            before = request_totals(state(info))
            server = psutil.Process(sandbox.pid)
            started, cpu_started = time.perf_counter(), time.process_time()
            children_started = _children_cpu()
            steal_started = _steal()
            server_started = _cpu(server)
            summaries = backfill(config, since=datetime.now(UTC) - timedelta(days=3 * 365),
                                 writer=args.writer)
            wall = time.perf_counter() - started
            page_loop_cpu = time.process_time() - cpu_started
            writer_cpu = _children_cpu() - children_started  # the writer process, joined
            agent_cpu = page_loop_cpu + writer_cpu
            steal = _steal() - steal_started
            sandbox_cpu = _cpu(server) - server_started
            calls = delta(request_totals(state(info)), before)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    read = sum(s.read for s in summaries)
    searches = calls["hubspot_search"]
    others = calls["hubspot"] - searches
    floor = max(searches / 5, others / 19)
    total = calls["hubspot"] + calls["salesforce"]
    print(f"backfilled {read:,} MQLs in {wall:.1f} s; HubSpot search {searches}, other {others}, "
          f"Salesforce {calls['salesforce']}, 429s {calls['http_429']}; agent CPU "
          f"{agent_cpu:.1f} s, sandbox CPU {sandbox_cpu:.1f} s")  # fmt: skip
    emit({
        "mqls": read,
        "wall_s": round(wall, 2),
        "floor_s": round(floor, 2),
        "ratio": round(wall / floor, 3) if floor else None,
        "http_429": calls["http_429"],
        "calls_per_1000": round(1000 * total / read, 2) if read else None,
        "agent_cpu_s": round(agent_cpu, 2),
        "agent_cpu_s_per_1000": round(1000 * agent_cpu / read, 3) if read else None,
        "page_loop_cpu_s": round(page_loop_cpu, 2),
        "writer_cpu_s": round(writer_cpu, 2),
        "sandbox_cpu_s": round(sandbox_cpu, 2),
        "steal_s": round(steal, 2),
        "writer": args.writer,
    })  # fmt: skip


if __name__ == "__main__":
    main()
