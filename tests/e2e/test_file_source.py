"""A pipeline over a lead file, end to end: the real sinks over HTTP(S), exactly once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from lead_files import file_pipeline_config, write_lead_file

from connectors.sandbox import Sandbox
from sync_agent.audit import AuditLog
from sync_agent.config import load_config
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once

ROWS = 10_000


def test_a_10000_row_file_run_twice_hands_each_accepted_lead_off_once(tmp_path: Path) -> None:
    with Sandbox(contacts=ROWS, seed=11, mql_share=0.5) as sb:
        prepare_sandbox(sb, tmp_path / "setup")  # the SAL properties, as an admin would
        lead_file = tmp_path / "trade-show.csv"
        assert write_lead_file(sb, lead_file) == ROWS
        config = load_config(file_pipeline_config(sb, tmp_path, lead_file), environ={})
        [first] = run_once(config, pipeline="fair-leads")
        [second] = run_once(config)
        state = sb.state()
    assert first.outcome == "ok", first.error
    assert first.read == ROWS and first.decided == ROWS and first.accepted > 20
    assert second.pipeline == "fair-leads" and second.read == 0 and second.writes.written == 0
    with AuditLog.open(config.audit_db) as log:
        accepted = {
            r["handoff_key"]
            for r in log.rows("SELECT handoff_key FROM decisions WHERE outcome = 'accepted'")
        }
        keys = {r["lead_key"] for r in log.rows("SELECT lead_key FROM decisions")}
    assert len(accepted) == first.accepted and all(k.startswith("fair:") for k in keys)
    notes = Counter(n["properties"].get("sal_handoff_key") for n in state["notes"])
    tasks = Counter(t["SAL_Handoff_Key__c"] for t in state["tasks"] if t.get("SAL_Handoff_Key__c"))
    assert set(notes) == accepted and max(notes.values()) == 1, "one note per accepted lead"
    assert set(tasks) <= accepted and max(tasks.values()) == 1, "at most one task each"
    assert len(tasks) > 0.5 * len(accepted), "the Salesforce sink matched leads by e-mail"
