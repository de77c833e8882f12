"""The API-call budget with company context (issue: <= 30 calls per 1,000 MQLs; the bench
`bench/api_calls.py` measures 10,000). Here the cost of 600 more MQLs is counted on two
small sandboxes, so the one-time calls (schema, login) don't hide a per-lead call."""

from __future__ import annotations

from pathlib import Path

from connectors.sandbox import Sandbox
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once


def _calls(mqls: int, tmp: Path) -> tuple[int, int]:
    with Sandbox(contacts=mqls, seed=11, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp / str(mqls),
                                    hubspot_options={"company_context": True})  # fmt: skip
        before = sb.store.request_count("hubspot") + sb.store.request_count("salesforce")
        [run] = run_once(config)
        after = sb.store.request_count("hubspot") + sb.store.request_count("salesforce")
        companies = sb.store.request_count("hubspot", "companies.batch_read")
    assert run.outcome == "ok", run.error
    assert companies > 0, "no company was read: the budget would be measured without them"
    return after - before, run.read


def test_company_context_costs_at_most_30_calls_per_1000_mqls(tmp_path: Path) -> None:
    small_calls, small_read = _calls(200, tmp_path)
    big_calls, big_read = _calls(800, tmp_path)
    per_1000 = 1000 * (big_calls - small_calls) / (big_read - small_read)
    print(f"{per_1000:.1f} calls per 1,000 more MQLs")
    assert per_1000 <= 30, f"{per_1000:.1f} calls per 1,000 more MQLs"
    assert big_calls < big_read / 10, "a call per lead crept in"
