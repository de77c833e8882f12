"""An accepted MQL whose Salesforce Lead does not exist yet waits for it (HubSpot's own
Salesforce sync creates it minutes later), then gets its status and task; one that never
gets a Lead becomes a dead letter with the reason once the window is over."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hubspot import HubSpot

from connectors.sandbox import SalesforceOrg, Sandbox
from sync_agent.audit import AuditLog
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once


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


def test_a_lead_that_arrives_late_gets_its_handoff_and_one_that_never_does_is_reported(
    tmp_path: Path,
) -> None:
    org = SalesforceOrg(lead_sync_delay_seconds=600)
    with Sandbox(contacts=30, seed=4, mql_share=1.0, org=org) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        run_once(config, clock=sb.now)  # the seeded MQLs
        late = new_mql(sb, "lee.okafor@globex.net")
        org.lead_sync_delay_seconds = None  # this one never gets a Lead
        never = new_mql(sb, "nia.brandt@initech.example")
        sb.advance(seconds=5)
        [first] = run_once(config, clock=sb.now)
        assert first.accepted == 2, "both are fast-lane leads"
        assert first.writes.waiting == 2 and first.outcome == "ok"
        sb.advance(seconds=600)  # HubSpot's sync creates the first Lead
        sb.advance(minutes_to_seconds(15))
        run_once(config, clock=sb.now)
        tasks = [t for t in sb.state()["tasks"] if t.get("SAL_Handoff_Key__c")]
        lead_ids = {t["WhoId"] for t in tasks}
        with sb.store.lock:
            late_lead = sb.store.contacts[late]["properties"]["salesforceleadid"]
        assert late_lead in lead_ids, "the late Lead got its task"
        assert sb.store.leads[late_lead]["Status"] == "SAL - Accepted"
        with AuditLog.open(config.audit_db) as log:
            waiting = {r["lead_key"] for r in log.rows(
                "SELECT d.lead_key FROM writes w JOIN decisions d ON d.id = w.decision_id "
                "WHERE w.state = 'waiting'")}  # fmt: skip
        assert f"hubspot:{never}" in waiting and f"hubspot:{late}" not in waiting
        sb.advance(24 * 3600)
        [last] = run_once(config, clock=sb.now)
        assert last.writes.dead == len(waiting)
    with AuditLog.open(config.audit_db) as log:
        dead = {d["lead_key"]: d for d in log.dead_letters()}
    assert set(dead) == waiting
    gone = dead[f"hubspot:{never}"]
    assert gone["sink"] == "salesforce" and "24 h" in gone["last_error"]
    assert "waiting for the CRM record" in gone["last_error"]


def minutes_to_seconds(minutes: float) -> float:
    return timedelta(minutes=minutes).total_seconds()
