"""A portal whose schema endpoints are down never blocks a run: the last known schema is
used, marked stale and logged, and the MQLs are decided (real SDKs against the sandbox)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import structlog

from connectors.sandbox import Sandbox
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once
from sync_agent.logs import configure_logging


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    structlog.reset_defaults()


def test_a_run_uses_the_last_known_schema_when_the_portal_cannot_describe_itself(
    tmp_path: Path,
) -> None:
    with Sandbox(contacts=30, seed=3, mql_share=1.0) as sb:
        # refresh on every run, so the second run must ask for the schema again
        config, _ = prepare_sandbox(sb, tmp_path, hubspot_options={"schema_refresh_hours": 0,
                                                         "backoff_base": 0.01})
        [first] = run_once(config)
        for i in range(20):
            sb.store.add_contact({"email": f"new{i}@example.com", "jobtitle": "CTO",
                                  "lifecyclestage": "marketingqualifiedlead"})  # fmt: skip
        sb.faults.fail_next(50, 503, "hubspot:properties_list")
        stream = io.StringIO()
        configure_logging(json=True, level="INFO", stream=stream)
        [second] = run_once(config)
        refused = sb.store.request_count("hubspot", "properties.contacts.list", 503)
    assert first.outcome == "ok" and second.outcome == "ok", second.error
    assert refused > 0, "the schema was not asked for again: nothing was tested"
    assert second.decided == 20
    assert "schema_stale" in stream.getvalue()
