"""No secret and no lead e-mail in any log line, tracebacks included, of a faulty run."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import structlog

from connectors.hubspot.sink import HubSpotSink
from connectors.sandbox import Faults, Sandbox
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once
from sync_agent.logs import configure_logging


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    structlog.reset_defaults()


def test_a_fault_injected_run_logs_no_secret_and_no_email(tmp_path: Path, monkeypatch) -> None:
    faults = Faults(seed=8, rate_5xx=0.15, rate_429=0.1, malformed_rate=0.05,
                    session_expiry_every=7)  # fmt: skip
    with Sandbox(contacts=200, seed=8, mql_share=1.0, faults=faults) as sb:
        info = sb.info()
        secrets = [info[k] for k in ("hubspot_token", "salesforce_session_id",
                                     "salesforce_client_secret") if info.get(k)]  # fmt: skip
        emails = [c["properties"]["email"] for c in sb.state()["contacts"]
                  if c["properties"].get("email")]  # fmt: skip
        sb.faults.rate_5xx = sb.faults.rate_429 = sb.faults.malformed_rate = 0.0
        config, _ = prepare_sandbox(sb, tmp_path, salesforce_options={"max_attempts": 2})
        sb.faults.rate_5xx, sb.faults.rate_429, sb.faults.malformed_rate = 0.15, 0.1, 0.05
        original = HubSpotSink.write
        crashed = []

        def crash_once(self, handoffs, *, recovering=False):
            if not crashed:
                crashed.append(True)
                lead = handoffs[0].mql.fields.get("email")
                raise RuntimeError(f"sink bug with token {info['hubspot_token']} for {lead}")
            return original(self, handoffs, recovering=recovering)

        monkeypatch.setattr(HubSpotSink, "write", crash_once)
        stream = io.StringIO()
        configure_logging(json=True, level="DEBUG", stream=stream)
        for _ in range(3):
            run_once(config)
    text = stream.getvalue()
    assert "sink_crashed" in text and "Traceback" in text, "the crash was logged with its trace"
    assert "hubspot_retry" in text or "salesforce_retry" in text, "faults were hit"
    leaked = [s for s in secrets if s in text] + [e for e in emails if e in text]
    assert leaked == []


def test_a_crashed_run_logs_its_traceback_redacted(tmp_path: Path, monkeypatch) -> None:
    """`run_crashed` (an error no sink or source handled) carries the traceback: masked too."""
    from connectors.hubspot.source import HubSpotSource

    with Sandbox(contacts=30, seed=9, mql_share=1.0) as sb:
        info = sb.info()
        email = next(c["properties"]["email"] for c in sb.state()["contacts"]
                     if c["properties"].get("email"))  # fmt: skip
        config, _ = prepare_sandbox(sb, tmp_path)

        def source_bug(self, *args, **kwargs):
            raise RuntimeError(f"source bug with token {info['hubspot_token']} for {email}")

        monkeypatch.setattr(HubSpotSource, "read", source_bug)
        stream = io.StringIO()
        configure_logging(json=True, level="DEBUG", stream=stream)
        [run] = run_once(config)
    text = stream.getvalue()
    assert run.outcome != "ok"
    assert "run_crashed" in text and "Traceback" in text and "source bug" in text
    assert info["hubspot_token"] not in text and email not in text
