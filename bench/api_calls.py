"""API calls per 1,000 MQLs for a full sync: HubSpot -> rules -> Salesforce + HubSpot.

Seeds the sandbox with N MQLs, runs one pass of the default pipeline through the real SDK
clients, and counts the requests the sandbox answered during the sync (the one-time
property set-up is left out). Twice, on two identical sandboxes: without company context
(``company_context = false``) and with it (the default: each contact's primary company is
read for ICP fit, 100 per call, and the portal's schema once). Targets: <= 25 calls per
1,000 MQLs without and <= 30 with companies (a per-lead implementation needs about 4,000).

    .venv/bin/python bench/api_calls.py [--mqls 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _sandbox import delta, emit, request_totals
from _smoke import smoke

from connectors.sandbox import Sandbox
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once
from sync_agent.logs import configure_logging


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mqls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    smoke(parser, mqls=300)  # SYNC_AGENT_BENCH_SMOKE=1: a few seconds (README test)
    args = parser.parse_args()
    configure_logging(level="WARNING")
    plain = measure(args.mqls, args.seed, company_context=False)
    companies = measure(args.mqls, args.seed, company_context=True)
    emit({"mqls": plain["read"], "api_calls": plain["calls"],
          "calls_per_1000": plain["per_1000"],
          "api_calls_with_companies": companies["calls"],
          "calls_per_1000_with_companies": companies["per_1000"]})  # fmt: skip


def measure(mqls: int, seed: int, *, company_context: bool) -> dict[str, Any]:
    """One pass on a fresh sandbox; the requests it answered during the sync."""
    with Sandbox(contacts=mqls, seed=seed, mql_share=1.0) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        config, _ = prepare_sandbox(sandbox, tmp,
                                    hubspot_options={"company_context": company_context})
        before = request_totals(sandbox.state(include_records=False))
        started = time.perf_counter()
        summaries = run_once(config)
        wall = time.perf_counter() - started
        calls = delta(request_totals(sandbox.state(include_records=False)), before)
    read = sum(s.read for s in summaries)
    total = calls["hubspot"] + calls["salesforce"]
    label = "with companies" if company_context else "without companies"
    print(f"{label}: read {read:,} MQLs in {wall:.1f} s; outcomes: "
          + ", ".join(f"{s.accepted} accepted / {s.review} review / {s.rejected} rejected"
                      for s in summaries))  # fmt: skip
    print(f"  calls: HubSpot {calls['hubspot']} (search {calls['hubspot_search']}), "
          f"Salesforce {calls['salesforce']}")  # fmt: skip
    return {"read": read, "calls": total, "per_1000": round(1000 * total / read, 2)}


if __name__ == "__main__":
    main()
