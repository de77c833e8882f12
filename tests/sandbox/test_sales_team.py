"""The sales team acts on handoffs over sandbox time, and leaves vendor-shaped traces.

One scenario, played once: the agent's moves are made through the real SDKs (a SAL Task and
the accepted Status in Salesforce, the SAL status on HubSpot contacts), sandbox time is
moved with ``POST /_sandbox/clock``, and what the reps did is read back the way the agent
will read it (SOQL ``query``/``queryAll``, ``LeadHistory``, contact properties). Expected
numbers come from the team's own plans in ``/_sandbox/state``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from simple_salesforce import Salesforce

from connectors.sandbox import Sandbox, TeamConfig

DAY = 86_400
SLA = timedelta(hours=24)
REASONS = {"No budget", "Not the decision maker", "Bad timing", "Chose a competitor",
           "Not a fit", "Unresponsive", "Duplicate"}


def when(stamp: str) -> datetime:
    """HubSpot (`Z`) or Salesforce (`+0000`) timestamps as aware datetimes."""
    text = stamp.replace("Z", "+00:00")
    if text.endswith("+0000"):
        text = text[:-5] + "+00:00"
    return datetime.fromisoformat(text)


@dataclass
class Played:
    sb: Sandbox
    sf: Salesforce
    hs: HubSpot
    leads: list[str]
    contacts: list[str]
    first_day: dict[str, Any]  # /_sandbox/state after 24 h
    month: dict[str, Any]  # after 30 days

    def plans(self) -> dict[str, dict[str, Any]]:
        return {h["key"]: h for h in self.month["team"]["handoffs"]}

    def soql(self, query: str, *, all_rows: bool = False) -> list[dict[str, Any]]:
        return list(self.sf.query_all(query, include_deleted=all_rows)["records"])


def clock(sb: Sandbox, seconds: float) -> dict[str, Any]:
    answer = requests.post(sb.info()["state_url"].replace("state", "clock"),
                           json={"advance_seconds": seconds}, timeout=10)
    assert answer.status_code == 200
    return dict(answer.json())


def handoff_leads(sf: Salesforce, leads: list[str]) -> None:
    """What the agent does for an accepted lead: a SAL Task and the accepted Status."""
    no_assign = {"Sforce-Auto-Assign": "FALSE"}
    tasks = [{"attributes": {"type": "Task"}, "WhoId": lid, "Subject": "SAL: follow up",
              "SAL_Handoff_Key__c": f"sal-{lid}"} for lid in leads]
    sf.restful("composite/sobjects", method="POST", json={"records": tasks}, headers=no_assign)
    status = [{"attributes": {"type": "Lead"}, "id": lid, "Status": "SAL - Accepted"}
              for lid in leads]
    sf.restful("composite/sobjects", method="PATCH", json={"records": status},
               headers=no_assign)


@pytest.fixture(scope="module")
def played() -> Iterator[Played]:
    with Sandbox(contacts=300, seed=31, mql_share=0.8, team=TeamConfig(seed=31)) as sb:
        info = sb.info()
        session = requests.Session()
        session.verify = info["ca_bundle"]
        session.trust_env = False
        sf = Salesforce(instance_url=info["salesforce_url"],
                        session_id=info["salesforce_session_id"], version="62.0",
                        session=session)
        hs = HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])
        hs.crm.properties.core_api.create(object_type="contacts", property_create={
            "name": "sal_status", "label": "SAL status", "type": "enumeration",
            "fieldType": "select", "groupName": "contactinformation",
            "options": [{"label": v, "value": v} for v in ("accepted", "rejected", "review")]})
        store = sb.store
        leads = [lid for lid, lead in store.leads.items()
                 if lead["Status"] == "MQL" and not lead["IsDeleted"]
                 and lead["OwnerId"].startswith("005")][:60]
        handoff_leads(sf, leads)
        lonely = [cid for cid, c in store.contacts.items()
                  if c["properties"]["lifecyclestage"] == "marketingqualifiedlead"
                  and not any(lead["Email"] == c["properties"]["email"]
                              for lead in store.leads.values())][:8]
        hs.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input={
            "inputs": [{"id": cid, "properties": {"sal_status": "accepted"}} for cid in lonely]})
        assert sb.state(include_records=False)["team"]["summary"]["touched"] == 0
        clock(sb, DAY)
        first_day = sb.state()
        clock(sb, 29 * DAY)
        yield Played(sb, sf, hs, leads, lonely, first_day, sb.state())


def test_reps_act_only_as_sandbox_time_passes(played: Played) -> None:
    plans = played.plans()
    day_one = {h["key"]: h for h in played.first_day["team"]["handoffs"]}
    for key, plan in day_one.items():
        due = plan["first_touch_due"]
        on_time = due is not None and when(due) - when(plan["handed_off_at"]) <= SLA
        assert (plan["first_touch_at"] is not None) == on_time, key
    assert all((p["first_touch_at"] is None) == (p["outcome"] == "untouched")
               for p in plans.values())


def test_sla_breaches_read_back_from_tasks_match_the_plans(played: Played) -> None:
    ids = ", ".join(f"'{lid}'" for lid in played.leads)
    rows = played.soql("SELECT WhoId, IsClosed, CompletedDateTime, CreatedDate, OwnerId FROM "
                       f"Task WHERE WhoId IN ({ids}) AND Subject = 'SAL: follow up'")
    assert len(rows) == len(played.leads)
    late = {r["WhoId"] for r in rows if r["IsClosed"]
            and when(r["CompletedDateTime"]) - when(r["CreatedDate"]) > SLA}
    open_ = {r["WhoId"] for r in rows if not r["IsClosed"]}
    plans = played.plans()
    assert late == {lid for lid in played.leads if plans[f"lead:{lid}"]["first_touch_at"]
                    and when(plans[f"lead:{lid}"]["first_touch_at"])
                    - when(plans[f"lead:{lid}"]["handed_off_at"]) > SLA}
    assert open_ == {lid for lid in played.leads
                     if plans[f"lead:{lid}"]["outcome"] == "untouched"}
    assert late and len(late) < len(rows) / 2, "some reps are late, most are not"


def test_outcomes_in_salesforce(played: Played) -> None:
    plans = played.plans()
    ids = ", ".join(f"'{lid}'" for lid in played.leads)
    rows = {r["Id"]: r for r in played.soql(
        "SELECT Id, Status, IsConverted, ConvertedDate, ConvertedOpportunityId, "
        "ConvertedContactId, ConvertedAccountId, Rejection_Reason__c FROM Lead "
        f"WHERE Id IN ({ids})")}
    seen = set()
    for lid in played.leads:
        plan, row = plans[f"lead:{lid}"], rows[lid]
        seen.add(plan["outcome"])
        if plan["outcome"] == "converted":
            assert row["IsConverted"] and row["Status"] == "Closed - Converted"
            assert row["ConvertedDate"] == plan["outcome_at"][:10]
            assert row["ConvertedOpportunityId"].startswith("006")
            assert row["ConvertedContactId"].startswith("003")
            assert row["ConvertedAccountId"].startswith("001")
        elif plan["outcome"] == "rejected":
            assert row["Status"] == "Closed - Not Converted"
            assert row["Rejection_Reason__c"] == plan["reason"] in REASONS
        elif plan["outcome"] == "recycled":
            assert row["Status"] == "Recycled"
        elif plan["outcome"] == "working":
            assert row["Status"] == "Working - Contacted" and not row["IsConverted"]
        else:
            assert row["Status"] == "SAL - Accepted"
    assert {"converted", "rejected", "working"} <= seen


def test_lead_history_tells_the_status_story(played: Played) -> None:
    plans = played.plans()
    converted = next(lid for lid in played.leads
                     if plans[f"lead:{lid}"]["outcome"] == "converted")
    rows = played.soql("SELECT Field, OldValue, NewValue, CreatedDate FROM LeadHistory "
                       f"WHERE LeadId = '{converted}' AND Field = 'Status' ORDER BY CreatedDate")
    assert [(r["OldValue"], r["NewValue"]) for r in rows] == [
        ("MQL", "SAL - Accepted"), ("SAL - Accepted", "Working - Contacted"),
        ("Working - Contacted", "Closed - Converted")]
    plan = plans[f"lead:{converted}"]
    assert when(rows[1]["CreatedDate"]) == when(plan["first_touch_at"])
    assert when(rows[2]["CreatedDate"]) == when(plan["outcome_at"])


def test_hubspot_contacts_move_forward(played: Played) -> None:
    plans = [p for p in played.plans().values() if p["contact_id"] and p["first_touch_at"]]
    assert any(p["lead_id"] is None for p in plans), "HubSpot-only handoffs are acted on too"
    wanted = ["lifecyclestage", "hs_lead_status", "hs_last_sales_activity_timestamp",
              "hs_v2_date_entered_salesqualifiedlead", "hs_v2_date_entered_opportunity",
              "hubspot_owner_id", "sales_rejection_reason", "hs_sa_first_engagement_date"]
    batch = played.hs.crm.contacts.batch_api.read(batch_read_input_simple_public_object_id={
        "inputs": [{"id": p["contact_id"]} for p in plans[:100]], "properties": wanted})
    got = {r.id: r.properties for r in batch.results}
    for plan in plans[:100]:
        props = got[plan["contact_id"]]
        assert props["hs_last_sales_activity_timestamp"] == plan["first_touch_at"]
        assert props["hubspot_owner_id"] in played.sb.store.hubspot_owners
        if plan["outcome"] == "converted":
            assert props["lifecyclestage"] == "opportunity"
            assert props["hs_v2_date_entered_opportunity"] == plan["outcome_at"]
            assert props["hs_lead_status"] == "OPEN_DEAL"
        elif plan["outcome"] == "rejected":
            assert props["hs_lead_status"] == "UNQUALIFIED" and props["sales_rejection_reason"]
        elif plan["outcome"] == "recycled":
            assert props["lifecyclestage"] == "lead" and props["hs_lead_status"] == "BAD_TIMING"
        else:
            assert props["lifecyclestage"] == "salesqualifiedlead"
            assert props["hs_v2_date_entered_salesqualifiedlead"] == plan["first_touch_at"]


def test_the_same_seed_plans_the_same_team() -> None:
    def plans() -> list[tuple[Any, ...]]:
        with Sandbox(contacts=60, seed=5, mql_share=1.0) as sb:
            info = sb.info()
            session = requests.Session()
            session.verify, session.trust_env = info["ca_bundle"], False
            sf = Salesforce(instance_url=info["salesforce_url"], version="62.0",
                            session_id=info["salesforce_session_id"], session=session)
            leads = [lid for lid, lead in sb.store.leads.items()
                     if lead["OwnerId"].startswith("005") and not lead["IsDeleted"]
                     and not lead["IsConverted"]][:15]
            handoff_leads(sf, leads)
            return [(h["key"], h["outcome"], h["reason"],
                     h["first_touch_due"] and round((when(h["first_touch_due"])
                                                     - when(h["handed_off_at"])).total_seconds()))
                    for h in sb.state()["team"]["handoffs"]]

    first = plans()
    assert first == plans()
    assert len({p[1] for p in first}) > 1
