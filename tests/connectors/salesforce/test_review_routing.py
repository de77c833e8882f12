"""The review band has a destination: a queue or a user owns the lead, a Task says why.

Driven through simple-salesforce against the sandbox org, whose active assignment rule would
re-own every lead it is allowed to (the agent sends ``Sforce-Auto-Assign: FALSE``).
"""

from __future__ import annotations

from typing import Any

import pytest
from sf_kit import OWNER, add_lead, client_secrets, handoff, no_sleep, options, sf_calls

from connectors.salesforce import SalesforceSettings, build_sink
from connectors.sandbox import AssignmentRule, Sandbox
from sync_agent.errors import ConfigError, PermanentApiError
from sync_agent.model import Outcome, WriteState

REVIEWER = "0055g0000000031AAA"
OTHER_REP = "0055g0000000002AAA"
NOTE = "SAL review: Ada Lovelace (Analytical Engines)\nNeeds a person: score 60 is in the band."


def sink(sb: Sandbox, **opts: Any):
    return build_sink(options(sb, **opts), client_secrets(sb), sleep=no_sleep)


def review(key: str, lead_id: str, note: str = NOTE):
    return handoff(key, lead_id=lead_id, outcome=Outcome.REVIEW, score=60.0, note=note)


@pytest.fixture
def org(sb: Sandbox) -> dict[str, str]:
    """A reviewer, a rep, a review queue, and an assignment rule that would take every lead."""
    for uid, active in ((OWNER, True), (REVIEWER, True), (OTHER_REP, True)):
        sb.store.users[uid] = {"Id": uid, "Name": f"Rep {uid[-6:-3]}", "IsActive": active,
                               "ManagerId": None, "Email": f"{uid}@example.com"}
    queue = sb.store.new_id("group")
    sb.store.groups[queue] = {"Id": queue, "Name": "Lead Review", "Type": "Queue",
                              "DeveloperName": "Lead_Review"}
    sb.org.assignment_rule = AssignmentRule("Everything to one rep", lambda lead, s: OTHER_REP)
    return {"queue": queue}


def review_tasks(sb: Sandbox) -> list[dict[str, Any]]:
    return [t for t in sb.store.tasks.values() if t.get("SAL_Handoff_Key__c")]


def test_a_review_decision_goes_to_the_review_queue_with_a_task_for_the_reviewer(
    sb: Sandbox, org: dict[str, str],
) -> None:
    lead = add_lead(sb.store, "ada@example.com")
    [result] = sink(sb, review_owner=org["queue"], review_task=True,
                    review_task_owner=REVIEWER).write([review("v1", lead)])
    assert result.status is WriteState.WRITTEN, result.reason
    row = sb.store.leads[lead]
    assert row["OwnerId"] == org["queue"], "assignment rules did not undo the review owner"
    assert row["Status"] == "MQL" and row["SAL_Score__c"] == 60.0
    [task] = review_tasks(sb)
    assert task["OwnerId"] == REVIEWER and task["WhoId"] == lead
    assert task["SAL_Handoff_Key__c"] == "pipe:v1"
    assert task["Description"] == NOTE
    assert task["Subject"].startswith("SAL review: decide on Ada Lovelace")


def test_a_user_as_review_owner_takes_the_lead_and_its_task(sb: Sandbox, org: dict) -> None:
    lead = add_lead(sb.store, "ada@example.com")
    [result] = sink(sb, review_owner=REVIEWER, review_task=True,
                    status_review="Working - Contacted").write([review("v1", lead)])
    assert result.status is WriteState.WRITTEN, result.reason
    assert sb.store.leads[lead]["OwnerId"] == REVIEWER
    assert sb.store.leads[lead]["Status"] == "Working - Contacted"
    [task] = review_tasks(sb)
    assert task["OwnerId"] == REVIEWER


def test_a_resent_review_handoff_never_makes_a_second_task(sb: Sandbox, org: dict) -> None:
    lead = add_lead(sb.store, "ada@example.com")
    routed = sink(sb, review_owner=org["queue"], review_task=True, review_task_owner=REVIEWER)
    first = routed.write([review("v1", lead)])
    again = routed.write([review("v1", lead)], recovering=True)
    assert first[0].status is again[0].status is WriteState.WRITTEN
    assert [t["SAL_Handoff_Key__c"] for t in review_tasks(sb)] == ["pipe:v1"]
    assert sb.store.leads[lead]["OwnerId"] == org["queue"]


def test_a_lead_sales_already_works_keeps_its_owner(sb: Sandbox, org: dict) -> None:
    worked = add_lead(sb.store, "ada@example.com", status="Working - Contacted")
    [result] = sink(sb, review_owner=org["queue"], review_task=True,
                    review_task_owner=REVIEWER).write([review("v1", worked)])
    assert result.status is WriteState.WRITTEN, result.reason
    assert sb.store.leads[worked]["OwnerId"] == OWNER
    assert sb.store.leads[worked]["SAL_Reason__c"].startswith("review:")
    [task] = review_tasks(sb)
    assert task["OwnerId"] == REVIEWER, "the reviewer still decides"


def test_a_lead_already_in_review_stays_with_whoever_took_it(sb: Sandbox, org: dict) -> None:
    """A reviewer handed the lead to a rep; a new review decision for it (the lead changed)
    must not take it back to the queue."""
    sb.store.lead_statuses.append({"ApiName": "SAL - Review", "IsConverted": False,
                                   "IsDefault": False})
    taken = add_lead(sb.store, "ada@example.com", status="SAL - Review", OwnerId=OTHER_REP)
    fresh = add_lead(sb.store, "bob@example.com")
    results = sink(sb, review_owner=org["queue"], status_review="SAL - Review").write(
        [review("v1", taken), review("v2", fresh)])
    assert {r.status for r in results} == {WriteState.WRITTEN}, results[0].reason
    assert sb.store.leads[taken]["OwnerId"] == OTHER_REP
    assert (sb.store.leads[fresh]["OwnerId"], sb.store.leads[fresh]["Status"]) == (
        org["queue"], "SAL - Review")


def test_a_queue_owned_review_lead_gives_its_task_to_the_fallback_owner(
    sb: Sandbox, org: dict,
) -> None:
    lead = add_lead(sb.store, "ada@example.com")
    [result] = sink(sb, review_owner=org["queue"], review_task=True,
                    fallback_task_owner=REVIEWER).write([review("v1", lead)])
    assert result.status is WriteState.WRITTEN, result.reason
    [task] = review_tasks(sb)
    assert task["OwnerId"] == REVIEWER
    assert "queue Lead Review" in task["Description"] and NOTE in task["Description"]


def test_without_review_settings_review_leads_are_left_as_they_were(sb: Sandbox, org: dict) -> None:
    lead = add_lead(sb.store, "ada@example.com")
    [result] = sink(sb).write([review("v1", lead)])
    assert result.status is WriteState.WRITTEN
    assert sb.store.leads[lead]["OwnerId"] == OWNER and review_tasks(sb) == []


def test_a_review_handoff_without_a_note_gets_its_reasons_in_the_task(
    sb: Sandbox, org: dict,
) -> None:
    lead = add_lead(sb.store, "ada@example.com")
    sink(sb, review_task=True, review_task_owner=REVIEWER).write([review("v1", lead, note="")])
    [task] = review_tasks(sb)
    assert task["Description"].startswith("SAL review: score 82 >= 70; demo requested")


@pytest.mark.parametrize(("owner", "why"), [
    ("00G5g0000009999AAA", "not a user or queue"),
    (OTHER_REP, "inactive"),
])
def test_a_review_owner_the_org_cannot_use_stops_before_anything_is_written(
    sb: Sandbox, org: dict, owner: str, why: str,
) -> None:
    sb.store.users[OTHER_REP]["IsActive"] = False
    lead = add_lead(sb.store, "ada@example.com")
    accepted = add_lead(sb.store, "bob@example.com")
    routed = sink(sb, review_owner=owner, review_task=True, review_task_owner=REVIEWER)
    with pytest.raises(PermanentApiError, match=why) as info:
        routed.write([handoff("a1", lead_id=accepted), review("v1", lead)])
    assert info.value.configuration
    assert sb.store.leads[lead]["SAL_Score__c"] is None
    assert sb.store.leads[accepted]["Status"] == "MQL" and sb.store.tasks == {}
    assert sf_calls(sb.store, "PATCH composite/sobjects") == 0


def test_the_configured_owners_are_looked_up_once_per_sink(sb: Sandbox, org: dict) -> None:
    routed = sink(sb, review_owner=org["queue"], review_task=True, review_task_owner=REVIEWER,
                  use_composite=False)
    for key in ("v1", "v2"):
        routed.write([review(key, add_lead(sb.store, f"{key}@example.com"))])
    assert sf_calls(sb.store, "GET query") == 2  # the queue and the reviewer, once


# -- settings ----------------------------------------------------------------------------


def problems(**options: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        SalesforceSettings.from_options(options)
    return {p.location: f"{p.message} {p.hint}" for p in info.value.problems}


def test_a_queue_cannot_be_given_a_task_and_the_settings_say_so() -> None:
    found = problems(review_task_owner="00G5g000000AbCdEAA",
                     fallback_task_owner="00G5g000000AbCdEAA")
    assert set(found) == {"review_task_owner", "fallback_task_owner"}
    assert all("a queue cannot own a Task" in text for text in found.values())


def test_review_owner_must_be_a_user_or_a_queue_id() -> None:
    found = problems(review_owner="Lead Review")
    assert "User id (005" in found["review_owner"] and "queue id (00G" in found["review_owner"]


def test_a_review_task_for_a_queue_needs_someone_to_give_it_to() -> None:
    found = problems(review_owner="00G5g000000AbCdEAA", review_task=True)
    assert "review_task_owner" in found["review_task"]
    SalesforceSettings.from_options({"review_owner": "00G5g000000AbCdEAA", "review_task": True,
                                     "fallback_task_owner": REVIEWER})


def test_assignment_rules_would_undo_the_review_owner_so_both_is_refused() -> None:
    found = problems(review_owner=REVIEWER, run_assignment_rules=True)
    assert "assignment rules" in found["review_owner"]


def test_task_subjects_only_take_the_documented_placeholders() -> None:
    found = problems(review_task_subject="Review {lead}", task_subject="{name} {sla_hours")
    assert set(found) == {"review_task_subject", "task_subject"}
    assert "{name}" in found["review_task_subject"]


def test_15_character_ids_are_stored_as_18() -> None:
    s = SalesforceSettings.from_options({"review_owner": "00G5g000000AbCd",
                                         "review_task_owner": "0055g0000000031"})
    assert (s.review_owner, s.review_task_owner) == ("00G5g000000AbCdEAK", REVIEWER)
