"""Logs carry run_id/pipeline, one event per batch and one summary; never secrets or emails.
The audit database is created readable by its owner only."""

from __future__ import annotations

import io
import json
import stat

from structlog.testing import capture_logs
from sync_fakes import World

from sync_agent.audit import AuditLog
from sync_agent.engine import run_once
from sync_agent.errors import RetriableError
from sync_agent.logs import configure_logging, register_secret


def seed(src: World, n: int) -> None:
    for i in range(1, n + 1):
        src.add(str(i), 80, minute=i, email=f"jane.doe{i}@acme-corp.com", phone="+1 415 555 0100")


def test_one_event_per_batch_and_a_bound_summary(make_config, worlds, clock) -> None:
    src, _ = worlds
    seed(src, 7)
    config = make_config(page_size=3)
    with capture_logs() as logs:
        [summary] = run_once(config, clock=clock)
    batches = [e for e in logs if e["event"] == "batch"]
    [final] = [e for e in logs if e["event"] == "run_finished"]
    assert len(batches) == 3 and sum(e["leads"] for e in batches) == 7
    assert all(e["run_id"] == summary.run_id and e["pipeline"] == "mqls" for e in [*batches, final])
    assert final["decided"] == 7 and final["outcome"] == "ok"


def test_rendered_logs_never_contain_secrets_or_lead_contact_data(
    make_config, worlds, clock
) -> None:
    src, crm = worlds
    seed(src, 3)
    token = "pat-na1-0f3c9e2a-secret-token"
    register_secret(token)
    crm.fail_calls.append(
        RetriableError(
            f"401 for Bearer {token} while writing jane.doe1@acme-corp.com, +1 415 555 0100"
        )
    )
    out = io.StringIO()
    configure_logging(json=True, stream=out, level="DEBUG")
    run_once(make_config(), clock=clock)
    text = out.getvalue()
    events = [json.loads(line) for line in text.splitlines()]
    assert any(e["event"] == "sink_retryable" for e in events), "the failure was logged"
    sink_events = [e for e in events if e["event"] == "fake_sink_write"]
    assert sink_events and all(e["run_id"] == 1 and e["pipeline"] == "mqls" for e in sink_events), (
        "connector logs on the writer thread carry the run's context"
    )
    assert token not in text
    assert "acme-corp.com" not in text and "555 0100" not in text


def test_audit_database_is_owner_only(make_config, worlds, clock) -> None:
    config = make_config()
    run_once(config, clock=clock)
    assert stat.S_IMODE(config.audit_db.stat().st_mode) == 0o600
    with AuditLog.open(config.audit_db) as log:
        assert log.rows("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
        from sync_agent.audit.migrations import MIGRATIONS

        assert log.rows("PRAGMA user_version")[0]["user_version"] == len(MIGRATIONS)
        tables = {
            r["name"]
            for r in log.rows("SELECT name FROM sqlite_master WHERE type IN ('table','view')")
        }
    assert {
        "runs",
        "decisions",
        "writes",
        "cursors",
        "malformed",
        "dead_letters",
        "aggregates",
    } <= tables
