"""Pure matching and record-building logic of the Salesforce sink (no I/O)."""

from __future__ import annotations

from sf_kit import handoff

from connectors.salesforce import SalesforceSettings, ids
from connectors.salesforce import matching as m
from sync_agent.model import Outcome, WriteResult, WriteState

LID = "00Q5g0000000001EAA"


def row(rid=LID, email="ada@example.com", converted=False, deleted=False, owner="005x"):
    return m.LeadRow(rid, email, converted, deleted, owner)


def test_lead_id_must_look_like_a_salesforce_id():
    assert m.lead_id_of(handoff("1", lead_id=LID)) == LID
    assert m.lead_id_of(handoff("1", lead_id="not an id")) is None
    assert m.lead_id_of(handoff("1")) is None


def test_15_character_ids_are_extended_to_18():
    assert m.lead_id_of(handoff("1", lead_id=LID[:15])) == LID
    assert ids.id_suffix("001A0000006Vm9r") == "IAC"  # Salesforce's documented example


def test_resolve_by_id_reports_deleted_and_converted_and_defers_unknown():
    h = handoff("1", lead_id=LID)
    assert m.resolve_by_id(h, {LID: row()}) == row()
    assert m.resolve_by_id(h, {}) is None
    deleted = m.resolve_by_id(h, {LID: row(deleted=True)})
    assert isinstance(deleted, WriteResult) and deleted.reason == "lead deleted"
    converted = m.resolve_by_id(h, {LID: row(converted=True)})
    assert isinstance(converted, WriteResult) and converted.reason == "lead converted"


def test_resolve_by_email_ignores_converted_twins_and_flags_ambiguity():
    h = handoff("1", email="ADA@example.com")
    open_one, conv = row("00Q1"), row("00Q2", converted=True)
    assert m.resolve_by_email(h, m.index_by_email([open_one, conv])) == open_one
    amb = m.resolve_by_email(h, m.index_by_email([open_one, row("00Q3")]))
    assert isinstance(amb, WriteResult) and amb.reason == "ambiguous: 2 leads share this email"
    only_conv = m.resolve_by_email(h, m.index_by_email([conv]))
    assert isinstance(only_conv, WriteResult) and only_conv.reason == "lead converted"
    missing = m.resolve_by_email(h, {})
    assert isinstance(missing, WriteResult) and missing.status is WriteState.WAITING
    assert missing.reason.startswith("waiting for the CRM record")


def test_lead_update_uses_configured_names_and_skips_disabled_fields():
    settings = SalesforceSettings.from_options({"score_field": "", "reason_field": "Why__c",
                                                "reason_max_chars": 20})
    record = m.lead_update(handoff("1", outcome=Outcome.REJECTED), row(), settings)
    assert record["attributes"] == {"type": "Lead"} and record["id"] == LID
    assert record["Status"] == "SAL - Rejected"
    assert "SAL_Score__c" not in record
    assert len(record["Why__c"]) == 20 and record["Why__c"].endswith("…")
    assert record["SAL_Date__c"] == "2026-01-15T10:30:00.000+0000"


def test_task_is_keyed_by_handoff_and_due_within_the_sla():
    settings = SalesforceSettings.from_options({"sla_hours": 48, "task_key_field": "Key__c"})
    task = m.task_upsert(handoff("7"), row(), settings)
    assert task["Key__c"] == "pipe:7" and task["WhoId"] == LID and task["OwnerId"] == "005x"
    assert task["ActivityDate"] == "2026-01-17"
    assert task["Subject"] == "SAL: follow up with Ada Lovelace (Analytical Engines) within 48h"


def test_rounds_never_put_one_lead_twice_in_a_call():
    pairs = [(handoff(str(i)), row(f"00Q{i % 3}")) for i in range(7)]
    chunks = m.rounds(pairs, 2)
    assert sum(len(c) for c in chunks) == 7
    for chunk in chunks:
        assert len(chunk) <= 2 and len({lead.id for _, lead in chunk}) == len(chunk)
