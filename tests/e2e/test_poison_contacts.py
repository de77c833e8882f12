"""Poison contacts in a real portal's shape (a 5,000-digit score, a megabyte of text) cost
what docs/rules.md "What one value may cost" says: the number is read as unreadable text,
the text is cut; both leads are decided, the rest of the page too, and the cursor moves, so
the next run does not read the same page again (the issue's case: "0 of 190 MQLs decided,
on every run"). Real SDK clients against the sandbox."""

from __future__ import annotations

from pathlib import Path

from connectors.sandbox import Sandbox
from sync_agent.audit import AuditLog
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once

MQL = {"lifecyclestage": "marketingqualifiedlead", "jobtitle": "VP Sales",
       "company": "Poison Ltd", "country": "Germany"}  # fmt: skip


def test_poison_values_neither_stop_the_page_nor_the_cursor(tmp_path: Path) -> None:
    with Sandbox(contacts=60, seed=21, mql_share=1.0) as sb:
        huge = sb.store.add_contact({**MQL, "email": "huge@poison.example",
                                     "example_combined_score": "9" * 5000})  # fmt: skip
        long_text = sb.store.add_contact({**MQL, "email": "long@poison.example",
                                          "jobtitle": "x" * 1_000_000})  # fmt: skip
        config, _ = prepare_sandbox(sb, tmp_path)
        [first] = run_once(config)
        [second] = run_once(config)
    assert first.outcome == "ok", first.error
    assert first.malformed == 0 and first.decided == first.read >= 62
    with AuditLog.open(config.audit_db) as log:
        rows = {r["source_id"]: r for r in log.rows(
            "SELECT source_id, explanation, snapshot FROM decisions")}  # fmt: skip
    assert {huge, long_text} <= set(rows)
    assert "cannot read the value as a number" in rows[huge]["explanation"]
    # capped at 131,072 characters per value (the mapped field and its raw property)
    assert len(rows[long_text]["snapshot"]) < 300_000, "the megabyte was stored whole"
    assert second.outcome == "ok" and second.decided == 0, "the cursor did not move past it"
