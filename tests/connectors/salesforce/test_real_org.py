"""What a real org does to an integration: assignment rules, queue and inactive owners,
statuses sales already moved. Driven through simple-salesforce against the sandbox org."""

from __future__ import annotations

from typing import Any

from sf_kit import OWNER, add_lead, client_secrets, handoff, no_sleep, options

from connectors.salesforce import build_sink
from connectors.sandbox import AssignmentRule, Sandbox
from sync_agent.model import Outcome, WriteState

OTHER_REP = "0055g0000000002AAA"


def sink(sb: Sandbox, **opts: Any):
    return build_sink(options(sb, **opts), client_secrets(sb), sleep=no_sleep)


def users(sb: Sandbox, **active: bool) -> None:
    """Users by id with their IsActive flag (the sandbox's org has its own too)."""
    for uid, is_active in active.items():
        sb.store.users[uid] = {"Id": uid, "Name": f"Rep {uid[-4:]}", "IsActive": is_active,
                               "ManagerId": None, "Email": f"{uid}@example.com"}


def test_setting_a_status_does_not_rerun_the_orgs_assignment_rules(sb: Sandbox) -> None:
    """The REST default is Sforce-Auto-Assign: TRUE; the agent sends FALSE, so writing a SAL
    status never reassigns the lead, and the task goes to the owner sales sees."""
    users(sb, **{OWNER: True, OTHER_REP: True})
    sb.org.assignment_rule = AssignmentRule("Everything to one rep", lambda lead, store: OTHER_REP)
    first = add_lead(sb.store, "ada@example.com")
    second = add_lead(sb.store, "bob@example.com")
    handoffs = [handoff("h1", lead_id=first), handoff("h2", lead_id=second)]
    results = sink(sb).write(handoffs)
    assert {r.status for r in results} == {WriteState.WRITTEN}
    assert sb.store.leads[first]["OwnerId"] == OWNER and sb.store.leads[second]["OwnerId"] == OWNER
    assert {t["OwnerId"] for t in sb.store.tasks.values()} == {OWNER}


def test_assignment_rules_can_be_asked_for(sb: Sandbox) -> None:
    users(sb, **{OWNER: True, OTHER_REP: True})
    sb.org.assignment_rule = AssignmentRule("Everything to one rep", lambda lead, store: OTHER_REP)
    lead = add_lead(sb.store, "ada@example.com")
    sink(sb, run_assignment_rules=True, use_composite=False).write([handoff("h1", lead_id=lead)])
    assert sb.store.leads[lead]["OwnerId"] == OTHER_REP


def test_a_queue_owned_lead_gets_its_task_from_the_fallback_owner_and_the_note_says_so(
    sb: Sandbox,
) -> None:
    fallback = "0055g0000000009AAA"
    users(sb, **{fallback: True})
    queue = sb.store.new_id("group")
    sb.store.groups[queue] = {"Id": queue, "Name": "Inbound Lead Queue", "Type": "Queue",
                              "DeveloperName": "Inbound_Lead_Queue"}
    lead = add_lead(sb.store, "ada@example.com", OwnerId=queue)
    [result] = sink(sb, fallback_task_owner=fallback).write([handoff("h1", lead_id=lead)])
    assert result.status is WriteState.WRITTEN, result.reason
    [task] = [t for t in sb.store.tasks.values() if t.get("SAL_Handoff_Key__c") == "pipe:h1"]
    assert task["OwnerId"] == fallback
    assert "queue Inbound Lead Queue" in task["Description"]


def test_an_inactive_owner_never_makes_a_dead_letter(sb: Sandbox) -> None:
    """With no fallback configured the task is created by (and for) the integration user."""
    gone = "0055g0000000007AAA"
    users(sb, **{gone: False})
    lead = add_lead(sb.store, "ada@example.com", OwnerId=gone)
    [result] = sink(sb).write([handoff("h1", lead_id=lead)])
    assert result.status is WriteState.WRITTEN, result.reason
    [task] = [t for t in sb.store.tasks.values() if t.get("SAL_Handoff_Key__c") == "pipe:h1"]
    assert task.get("OwnerId") != gone
    assert "inactive" in task["Description"]


def test_a_status_sales_already_set_is_not_overwritten_by_default(sb: Sandbox) -> None:
    """A re-decision may write its SAL fields, but only moves a Status the agent set or a
    new/MQL one; "Working - Contacted" belongs to sales."""
    users(sb, **{OWNER: True})
    worked = add_lead(sb.store, "ada@example.com", status="Working - Contacted")
    fresh = add_lead(sb.store, "bob@example.com", status="MQL")
    mine = add_lead(sb.store, "cy@example.com", status="SAL - Accepted")
    rejected = [handoff(k, lead_id=lid, outcome=Outcome.REJECTED)
                for k, lid in (("a", worked), ("b", fresh), ("c", mine))]
    results = sink(sb).write(rejected)
    assert {r.status for r in results} == {WriteState.WRITTEN}
    assert sb.store.leads[worked]["Status"] == "Working - Contacted"
    assert sb.store.leads[worked]["SAL_Reason__c"].startswith("rejected")
    assert sb.store.leads[fresh]["Status"] == "SAL - Rejected"
    assert sb.store.leads[mine]["Status"] == "SAL - Rejected"
    anything = add_lead(sb.store, "dee@example.com", status="Working - Contacted")
    sink(sb, update_status_from=["*"]).write([handoff("d", lead_id=anything,
                                                      outcome=Outcome.REJECTED)])
    assert sb.store.leads[anything]["Status"] == "SAL - Rejected"


def test_records_a_trigger_fails_on_in_big_batches_go_through_in_smaller_ones(
    sb: Sandbox,
) -> None:
    """An org trigger that hits a governor limit fails every record of a 200-record batch
    (CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY); the same records succeed in smaller batches."""
    users(sb, **{OWNER: True})
    sb.org.trigger_batch_limit = 40
    leads = [add_lead(sb.store, f"lead{i}@example.com") for i in range(120)]
    results = sink(sb).write([handoff(str(i), lead_id=lid) for i, lid in enumerate(leads)])
    assert {r.status for r in results} == {WriteState.WRITTEN}, results[0].reason
    assert all(sb.store.leads[lid]["Status"] == "SAL - Accepted" for lid in leads)
