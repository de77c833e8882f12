"""Through the engine, against the sandbox: review decisions reach a person in both CRMs, and
an accepted MQL that never gets a Salesforce Lead gets one created, once, even when the
create's answer is lost and the next run has to retry it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hubspot import HubSpot

from connectors.sandbox import Sandbox
from sync_agent.audit import AuditLog
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once

UPSERT = "PATCH composite/sobjects/upsert"


def new_mql(sb: Sandbox, email: str) -> str:
    """A contact that becomes an MQL now, through the HubSpot API (a strong fast-lane lead)."""
    info = sb.info()
    client = HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])
    today = sb.now().date().isoformat()
    created = client.crm.contacts.basic_api.create({"properties": {
        "email": email, "firstname": "Lee", "lastname": "Okafor", "company": "Globex",
        "jobtitle": "Head of Operations", "country": "Germany",
        "lifecyclestage": "marketingqualifiedlead", "trial_started": "true",
        "webinar_attended_date": today,
    }})  # fmt: skip
    return str(created.id)


def test_review_decisions_go_to_the_reviewer_in_both_crms(tmp_path: Path) -> None:
    with Sandbox(contacts=300, seed=11, mql_share=1.0) as sb:
        queue = sorted(sb.store.groups)[0]
        reviewer = next(uid for uid, u in sorted(sb.store.users.items())
                        if u.get("IsRep") and u.get("IsActive"))
        owner_id = next(o for o, u in sb.store.hubspot_owners.items()
                        if u["salesforceUserId"] == reviewer)
        unowned = {c for c in sb.store.mqls()
                   if not sb.store.contacts[c]["properties"].get("hubspot_owner_id")}
        config, _ = prepare_sandbox(
            sb, tmp_path,
            salesforce_options={"review_owner": queue, "review_task": True,
                                "review_task_owner": reviewer},
            hubspot_options={"review_owner_id": owner_id, "review_note": True},
            follow_up_sla_hours=72.0)
        [summary] = run_once(config, clock=sb.now)
        assert summary.review > 0 and summary.outcome == "ok", summary.error
        with AuditLog.open(config.audit_db) as log:
            written = log.rows(
                "SELECT w.sink, w.handoff_key, w.target_id, d.source_id, d.decided_at "
                "FROM writes w "
                "JOIN decisions d ON d.id = w.decision_id "
                "WHERE d.outcome = 'review' AND w.state = 'written'")  # fmt: skip
        state = sb.state()
    tasks = {t["SAL_Handoff_Key__c"]: t for t in state["tasks"] if t.get("SAL_Handoff_Key__c")}
    notes = {n["properties"].get("sal_handoff_key"): n for n in state["notes"]}
    leads = {lead["Id"]: lead for lead in state["leads"]}
    contacts = {c["id"]: c for c in state["contacts"]}
    in_salesforce = [w for w in written if w["sink"] == "salesforce"]
    in_hubspot = [w for w in written if w["sink"] == "hubspot"]
    assert in_salesforce and in_hubspot
    for w in in_salesforce:
        task = tasks[w["handoff_key"]]
        assert task["OwnerId"] == reviewer and task["WhoId"] == w["target_id"]
        assert task["Description"].startswith("SAL review")
        due = datetime.fromisoformat(w["decided_at"]) + timedelta(hours=72)
        assert task["ActivityDate"] == due.date().isoformat(), "the follow-up SLA, 72 h"
        assert leads[w["target_id"]]["OwnerId"] == queue or \
            leads[w["target_id"]]["Status"] not in ("MQL", "Open - Not Contacted")
    for w in in_hubspot:
        assert notes[w["handoff_key"]]["properties"]["hs_note_body"].startswith("SAL review")
        if w["source_id"] in unowned:
            assert contacts[w["source_id"]]["properties"]["hubspot_owner_id"] == owner_id
    assert len([t for t in tasks.values() if t["OwnerId"] == reviewer
                and t["Subject"].startswith("SAL review")]) == len(in_salesforce)


def test_a_lead_created_for_an_accepted_mql_is_created_once_across_a_lost_answer(
    tmp_path: Path,
) -> None:
    with Sandbox(contacts=30, seed=4, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, salesforce_options={
            "create_missing_leads": True, "create_missing_after_minutes": 0,
            "max_attempts": 1})  # fmt: skip
        run_once(config, clock=sb.now)  # the seeded MQLs
        contact = new_mql(sb, "nia.brandt@initech.example")  # HubSpot never syncs it
        sb.faults.cut_next(1, UPSERT)  # the Lead is created, the answer never arrives
        [first] = run_once(config, clock=sb.now)
        assert first.accepted == 1 and first.writes.retryable == 1
        sb.advance(3600)  # past the retry backoff
        [second] = run_once(config, clock=sb.now)
        assert second.writes.written == 1 and second.outcome == "ok", second.error
        state = sb.state()
        with AuditLog.open(config.audit_db) as log:
            [write] = log.rows(
                "SELECT w.state, w.target_id, w.handoff_key FROM writes w JOIN decisions d "
                "ON d.id = w.decision_id WHERE w.sink = 'salesforce' AND d.lead_key = ?",
                (f"hubspot:{contact}",))  # fmt: skip
    [lead] = [lead for lead in state["leads"] if lead["Email"] == "nia.brandt@initech.example"]
    assert (write["state"], write["target_id"]) == ("written", lead["Id"])
    assert lead["Status"] == "SAL - Accepted" and lead["SAL_Handoff_Key__c"] == write["handoff_key"]
    assert (lead["LastName"], lead["Company"]) == ("Okafor", "Globex")
    [task] = [t for t in state["tasks"] if t.get("SAL_Handoff_Key__c") == write["handoff_key"]]
    assert task["WhoId"] == lead["Id"] and task["OwnerId"] == lead["OwnerId"]
