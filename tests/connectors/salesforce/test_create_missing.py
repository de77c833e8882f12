"""Accepted MQLs that never reached Salesforce: the sink creates their Lead, exactly once.

Through simple-salesforce against the sandbox org, whose active assignment rule owns new
leads, whose validation rules and restricted picklists apply to creates too, and whose
answers can be lost after the org committed (``faults.cut_next``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sf_kit import DECIDED, OWNER, add_lead, client_secrets, handoff, no_sleep, options, sf_calls

from connectors.salesforce import SalesforceClient, SalesforceSettings, SalesforceSink
from connectors.sandbox import AssignmentRule, Sandbox, ValidationRule
from sync_agent.errors import ConfigError, PermanentApiError, RetriableError
from sync_agent.model import MQL, Handoff, Outcome, WriteState

REP = "0055g0000000002AAA"
FALLBACK = "0055g0000000009AAA"
UPSERT = "PATCH composite/sobjects/upsert"


def sink(sb: Sandbox, clock: Callable[[], datetime] | None = None, **opts: Any) -> SalesforceSink:
    opts.setdefault("create_missing_leads", True)
    opts.setdefault("create_missing_after_minutes", 0)
    settings = SalesforceSettings.from_options(options(sb, **opts))
    client = SalesforceClient(settings, client_secrets(sb), sleep=no_sleep)
    return SalesforceSink(settings, client, clock=clock or (lambda: DECIDED))


def new_mql(key: str, email: str | None, outcome: Outcome = Outcome.ACCEPTED,
            **fields: Any) -> Handoff:
    base = handoff(key, email=email, outcome=outcome)
    mql = MQL("hubspot", key, {"email": email, **fields}, crm_ids={"hubspot": key})
    return Handoff(base.key, mql, base.decision, "Accepted: demo requested, ICP fit.")


def leads_with(sb: Sandbox, email: str) -> list[dict[str, Any]]:
    return [lead for lead in sb.store.leads.values() if lead.get("Email") == email]


@pytest.fixture
def org(sb: Sandbox) -> Sandbox:
    for uid in (OWNER, REP, FALLBACK):
        sb.store.users[uid] = {"Id": uid, "Name": f"Rep {uid[-6:-3]}", "IsActive": True,
                               "ManagerId": None, "Email": f"{uid}@example.com"}
    sb.org.assignment_rule = AssignmentRule("New leads to one rep", lambda lead, s: REP)
    return sb


def test_an_accepted_mql_without_a_lead_gets_one_with_its_fields_status_and_task(org) -> None:
    sb = org
    mql = new_mql("n1", "lee@globex.example", first_name="Lee", last_name="Okafor",
                  company="Globex", title="Head of Operations", phone="+49 30 1234567",
                  country="Germany", lead_source="Web", industry="Technology")
    [result] = sink(sb).write([mql])
    assert result.status is WriteState.WRITTEN, result.reason
    [lead] = leads_with(sb, "lee@globex.example")
    assert result.target_id == lead["Id"]
    assert {k: lead[k] for k in ("FirstName", "LastName", "Company", "Title", "Phone", "Country",
                                 "LeadSource")} == {
        "FirstName": "Lee", "LastName": "Okafor", "Company": "Globex",
        "Title": "Head of Operations", "Phone": "+49 30 1234567", "Country": "Germany",
        "LeadSource": "Web"}
    assert lead.get("Industry") is None, "only the configured create_fields are copied"
    assert lead["Status"] == "SAL - Accepted" and lead["SAL_Score__c"] == 82.0
    assert lead["SAL_Handoff_Key__c"] == "pipe:n1"
    assert lead["OwnerId"] == REP, "the org's assignment rule owns a new lead"
    [task] = sb.store.tasks.values()
    assert (task["WhoId"], task["OwnerId"], task["SAL_Handoff_Key__c"]) == (
        lead["Id"], REP, "pipe:n1")


def test_missing_name_and_company_are_not_provided_as_hubspots_connector_writes(org) -> None:
    [result] = sink(org).write([new_mql("n1", "x@example.com", title="x" * 300)])
    assert result.status is WriteState.WRITTEN, result.reason
    [lead] = leads_with(org, "x@example.com")
    assert (lead["LastName"], lead["Company"]) == ("[not provided]", "[not provided]")
    assert lead["Title"] == "x" * 128, "cut to the field's length, not refused"


def test_a_configured_owner_wins_over_the_assignment_rule(org) -> None:
    queue = org.store.new_id("group")
    org.store.groups[queue] = {"Id": queue, "Name": "New Leads", "Type": "Queue",
                               "DeveloperName": "New_Leads"}
    s = sink(org, create_lead_owner=queue, fallback_task_owner=FALLBACK)
    [result] = s.write([new_mql("n1", "q@example.com")])
    assert result.status is WriteState.WRITTEN, result.reason
    [lead] = leads_with(org, "q@example.com")
    assert lead["OwnerId"] == queue
    [task] = org.store.tasks.values()
    assert task["OwnerId"] == FALLBACK and "queue New Leads" in task["Description"]


def test_the_crms_own_sync_gets_its_chance_first(org) -> None:
    now = [DECIDED + timedelta(minutes=10)]
    s = sink(org, clock=lambda: now[0], create_missing_after_minutes=60)
    [early] = s.write([new_mql("n1", "late@example.com")])
    assert early.status is WriteState.WAITING
    assert "creates it from 2026-01-15 11:30 UTC" in early.reason
    assert leads_with(org, "late@example.com") == []
    now[0] = DECIDED + timedelta(minutes=61)
    [due] = s.write([new_mql("n1", "late@example.com")])
    assert due.status is WriteState.WRITTEN and len(leads_with(org, "late@example.com")) == 1


def test_a_lead_the_sync_created_meanwhile_is_updated_not_created_again(org) -> None:
    s = sink(org, create_missing_after_minutes=0)
    lid = add_lead(org.store, "sync@example.com")
    [result] = s.write([new_mql("n1", "sync@example.com")])
    assert (result.status, result.target_id) == (WriteState.WRITTEN, lid)
    assert len(leads_with(org, "sync@example.com")) == 1


def test_a_lost_create_answer_then_a_recovering_retry_makes_one_lead(org) -> None:
    org.faults.cut_next(1, UPSERT)  # the Lead upsert lands; its answer is cut off
    s = sink(org, max_attempts=1)
    with pytest.raises(RetriableError):
        s.write([new_mql("n1", "cut@example.com")])
    assert len(leads_with(org, "cut@example.com")) == 1, "the create landed"
    assert org.store.tasks == {}
    [result] = sink(org, max_attempts=1).write([new_mql("n1", "cut@example.com")],
                                                recovering=True)
    assert result.status is WriteState.WRITTEN, result.reason
    [lead] = leads_with(org, "cut@example.com")
    assert result.target_id == lead["Id"]
    [task] = org.store.tasks.values()
    assert task["WhoId"] == lead["Id"]


def test_a_retry_that_cannot_see_the_new_lead_yet_still_makes_one(org) -> None:
    """SOQL may see a new record late: the retried upsert finds it by its key anyway, and
    its Task waits until the Lead (and so its owner) can be read."""
    org.org.late_visible_share, org.org.late_visible_seconds = 1.0, 3600
    org.faults.cut_next(1, UPSERT)
    with pytest.raises(RetriableError):
        sink(org, max_attempts=1).write([new_mql("n1", "unseen@example.com")])
    [unseen] = sink(org).write([new_mql("n1", "unseen@example.com")], recovering=True)
    assert unseen.status is WriteState.RETRYABLE and "not readable yet" in unseen.reason
    [lead] = leads_with(org, "unseen@example.com")
    assert unseen.target_id == lead["Id"] and org.store.tasks == {}
    org.advance(3601)
    [result] = sink(org).write([new_mql("n1", "unseen@example.com")], recovering=True)
    assert (result.status, result.target_id) == (WriteState.WRITTEN, lead["Id"])
    assert len(leads_with(org, "unseen@example.com")) == 1
    [task] = org.store.tasks.values()
    assert (task["WhoId"], task["OwnerId"]) == (lead["Id"], REP)


def test_a_lost_answer_retried_within_the_call_makes_one_lead(org) -> None:
    org.faults.cut_next(1, UPSERT)
    [result] = sink(org, max_attempts=3).write([new_mql("n1", "again@example.com")])
    assert result.status is WriteState.WRITTEN, result.reason
    assert len(leads_with(org, "again@example.com")) == 1 and len(org.store.tasks) == 1


def test_creates_the_org_refuses_are_results_with_the_reason(org) -> None:
    org.org.validation_rules.append(ValidationRule(
        "No_Mars", "Lead", "We do not sell on Mars.", lambda after, _b: after.get("Country")
        == "Mars", "Country"))
    results = sink(org).write([new_mql("bad", "m@example.com", country="Mars"),
                               new_mql("ok", "e@example.com", country="Earth")])
    assert [r.status for r in results] == [WriteState.DEAD, WriteState.WRITTEN]
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION" in results[0].reason
    assert "We do not sell on Mars." in results[0].reason
    assert leads_with(org, "m@example.com") == [] and len(leads_with(org, "e@example.com")) == 1
    [refused] = sink(org, status_accepted="Not A Status").write([new_mql("p", "p@example.com")])
    assert refused.status is WriteState.DEAD
    assert "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST" in refused.reason


def test_two_accepted_mqls_with_one_email_make_one_lead(org) -> None:
    results = sink(org).write([new_mql("a", "twin@example.com"),
                               new_mql("b", "twin@example.com", first_name="Bo")])
    assert [r.status for r in results] == [WriteState.WRITTEN, WriteState.WRITTEN]
    [lead] = leads_with(org, "twin@example.com")
    assert {r.target_id for r in results} == {lead["Id"]}
    assert sorted(t["SAL_Handoff_Key__c"] for t in org.store.tasks.values()) == [
        "pipe:a", "pipe:b"]


def test_only_accepted_handoffs_with_an_email_create_and_only_when_asked(org) -> None:
    results = sink(org).write([
        new_mql("r", "r@example.com", Outcome.REJECTED),
        new_mql("v", "v@example.com", Outcome.REVIEW),
        new_mql("n", None),
    ])
    assert [r.status for r in results] == [WriteState.WAITING, WriteState.WAITING,
                                           WriteState.SKIPPED]
    [off] = sink(org, create_missing_leads=False).write([new_mql("a", "a@example.com")])
    assert off.status is WriteState.WAITING
    assert all(not leads_with(org, f"{k}@example.com") for k in "rva")
    assert sf_calls(org.store, UPSERT) == 0


def test_a_key_field_the_org_lacks_stops_before_anything_is_written(org) -> None:
    known = add_lead(org.store, "known@example.com")
    with pytest.raises(PermanentApiError, match="External ID") as info:
        sink(org, lead_key_field="Nope__c").write([handoff("k", lead_id=known),
                                                   new_mql("n1", "new@example.com")])
    assert info.value.configuration
    assert org.store.leads[known]["Status"] == "MQL" and org.store.tasks == {}


@pytest.mark.parametrize("count", [1, 250])
def test_creates_cost_ceil_c_over_200_upserts(org, count) -> None:
    handoffs = [new_mql(str(i), f"c{i}@example.com") for i in range(count)]
    results = sink(org, use_composite=False).write(handoffs)
    assert {r.status for r in results} == {WriteState.WRITTEN}, results[0].reason
    assert len({r.target_id for r in results}) == count == len(org.store.tasks)
    assert sf_calls(org.store, UPSERT) == 2 * math.ceil(count / 200)  # the Leads, the Tasks


def test_creates_an_org_trigger_fails_in_big_batches_go_through_in_smaller_ones(org) -> None:
    org.org.trigger_batch_limit = 40
    handoffs = [new_mql(str(i), f"c{i}@example.com") for i in range(120)]
    results = sink(org).write(handoffs)
    assert {r.status for r in results} == {WriteState.WRITTEN}, results[0].reason
    assert len({r.target_id for r in results}) == 120 == len(org.store.tasks)


# -- settings ----------------------------------------------------------------------------


def problems(**opts: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        SalesforceSettings.from_options(opts)
    return {p.location: f"{p.message} {p.hint}" for p in info.value.problems}


def test_create_settings_are_checked() -> None:
    found = problems(create_missing_leads=True, create_fields=["email", "favourite_colour"],
                     create_lead_owner="someone", create_missing_after_minutes=-1)
    assert set(found) == {"create_fields", "create_lead_owner", "create_missing_after_minutes"}
    assert "favourite_colour" in found["create_fields"]
    found = problems(create_missing_leads=True, create_fields=["first_name", "last_name"],
                     lead_key_field="")
    assert "email" in found["create_fields"] and "lead_key_field" in found
    s = SalesforceSettings.from_options({"create_lead_owner": "00G5g000000AbCd"})
    assert s.create_lead_owner == "00G5g000000AbCdEAK"
    assert not SalesforceSettings.from_options({}).create_missing_leads
