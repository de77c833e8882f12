"""Backfill speed under HubSpot Professional limits, against the floor those limits allow.

The sandbox enforces 190 requests per 10 s and 5 searches per second (HubSpot
Professional, private app); the agent is configured for the same tier and paces itself.
A backfill of N MQLs runs against it; the floor is the time the limits alone force for
the HubSpot calls made (search calls at 5/s, the others at 19/s, whichever takes longer).
Targets: wall/floor <= 1.3 (reads and writes overlap), < 1 % of requests answered 429,
and still <= 25 calls per 1,000 MQLs.

    .venv/bin/python bench/backfill.py [--mqls 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import delta, emit, request_totals

from connectors.sandbox import HubSpotLimits, Sandbox
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import backfill
from sync_agent.logs import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mqls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    configure_logging(level="WARNING")
    limits = HubSpotLimits.for_tier("professional")
    with Sandbox(contacts=args.mqls, seed=args.seed, mql_share=1.0, hubspot_limits=limits) as sb, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        config, _ = prepare_sandbox(sb, tmp, hubspot_options={"tier": "professional"})
        before = request_totals(sb.state(include_records=False))
        started = time.perf_counter()
        summaries = backfill(config, since=datetime.now(UTC) - timedelta(days=3 * 365))
        wall = time.perf_counter() - started
        calls = delta(request_totals(sb.state(include_records=False)), before)
    read = sum(s.read for s in summaries)
    searches = calls["hubspot_search"]
    others = calls["hubspot"] - searches
    floor = max(searches / 5, others / 19)
    total = calls["hubspot"] + calls["salesforce"]
    print(f"backfilled {read:,} MQLs in {wall:.1f} s; HubSpot search {searches}, other {others}, "
          f"Salesforce {calls['salesforce']}, 429s {calls['http_429']}")  # fmt: skip
    emit({
        "mqls": read,
        "wall_s": round(wall, 2),
        "floor_s": round(floor, 2),
        "ratio": round(wall / floor, 3) if floor else None,
        "http_429": calls["http_429"],
        "calls_per_1000": round(1000 * total / read, 2) if read else None,
    })  # fmt: skip


if __name__ == "__main__":
    main()
