"""``check_targets``: what the sink writes, checked against the sandbox org's describe before
any write, through the real client (simple-salesforce over https).

The org models what a real one does to an integration user: field-level security hides a
field (absent from describe) or makes it read-only (not updateable), Status and Task
Priority are restricted picklists, LeadStatus rows say which statuses are converted."""

from __future__ import annotations

from typing import Any

import pytest
from sf_kit import client_secrets, options

from connectors.base import Instance, MemoryState, TargetProblem
from connectors.salesforce import CONNECTOR, SalesforceSettings
from sync_agent.errors import SyncAgentError


def check(sb: Any, state: MemoryState | None = None, refresh: bool = False,
          **extra: Any) -> list[TargetProblem]:  # fmt: skip
    return check_with(options(sb, **extra), client_secrets(sb), state, refresh)


def check_with(opts: dict[str, Any], secrets: dict[str, str], state: MemoryState | None = None,
               refresh: bool = False) -> list[TargetProblem]:  # fmt: skip
    instance = Instance("salesforce", CONNECTOR, SalesforceSettings.from_options(opts), secrets,
                        state or MemoryState())  # fmt: skip
    assert CONNECTOR.check_targets is not None
    return CONNECTOR.check_targets(instance, refresh)


def by_option(found: list[TargetProblem]) -> dict[tuple[str, ...], TargetProblem]:
    assert len({p.option for p in found}) == len(found), found
    return {p.option: p for p in found}


def test_the_default_settings_fit_the_sandbox_org(sb) -> None:
    assert check(sb) == []


def test_a_field_hidden_or_read_only_for_the_integration_user_is_named_with_the_fix(sb) -> None:
    sb.org.security.hidden["Lead"] = {"SAL_Score__c"}
    sb.org.security.read_only["Lead"] = {"SAL_Reason__c"}
    found = by_option(check(sb))
    hidden, read_only = found.pop(("score_field",)), found.pop(("reason_field",))
    assert found == {}
    assert hidden.severity == "error"
    assert hidden.message == ("Lead.SAL_Score__c is absent from the Lead describe: it does not "
                              "exist, or field-level security hides it from the integration user")
    assert "Set Field-Level Security" in hidden.hint
    assert read_only.message == ("Lead.SAL_Reason__c is read-only for the integration user "
                                 "(not updateable)")


def test_status_values_the_org_lacks_are_errors_with_a_did_you_mean(sb) -> None:
    found = by_option(check(sb, status_accepted="SAL Accepted", status_review="Closed - Converted",
                            new_statuses=["MQL", "New"]))  # fmt: skip
    accepted = found[("status_accepted",)]
    assert accepted.severity == "error"
    assert accepted.message == ("'SAL Accepted' is not a Lead Status of the org (a restricted "
                                "picklist: the org refuses other values)")
    assert accepted.hint.startswith("did you mean 'SAL - Accepted'")
    assert "Closed - Not Converted" in accepted.hint  # the org's values are listed
    converted = found[("status_review",)]
    assert "is a converted Lead Status" in converted.message and converted.severity == "error"
    new = found[("new_statuses",)]
    assert new.severity == "warning" and "'New' is not a Lead Status" in new.message


def test_the_task_key_must_be_an_external_id_and_picklist_values_must_exist(sb) -> None:
    found = by_option(check(sb, task_key_field="Subject", task_priority="Urgent"))
    key = found[("task_key_field",)]
    assert key.message == "Task.Subject is not an External ID: the agent's upsert by it is refused"
    priority = found[("task_priority",)]
    assert priority.severity == "error" and "restricted picklist" in priority.message
    assert priority.hint == "values: High, Normal, Low"
    assert check(sb, create_task=False, task_key_field="Subject", task_priority="Urgent") == []


def test_the_describe_is_cached_until_refresh(sb) -> None:
    state = MemoryState()
    assert check(sb, state) == []
    sb.org.security.hidden["Task"] = {"SAL_Handoff_Key__c"}
    assert check(sb, state) == [], "the cached describe answers"
    [hidden] = check(sb, state, refresh=True)
    assert hidden.option == ("task_key_field",)
    assert "absent from the Task describe" in hidden.message


def test_an_org_that_cannot_be_asked_uses_the_cache_with_a_warning_else_raises(sb) -> None:
    state = MemoryState()
    opts, secrets = options(sb, max_attempts=1), client_secrets(sb)
    assert check_with(opts, secrets, state) == []
    sb.stop()
    [stale] = check_with(opts, secrets, state, refresh=True)
    assert stale.severity == "warning" and stale.option == ()
    assert stale.message.startswith("the schema could not be read (")
    assert "; using the one from 20" in stale.message
    with pytest.raises(SyncAgentError):
        check_with(opts, secrets, MemoryState())


def test_created_leads_need_an_external_id_key_and_createable_fields(sb) -> None:
    """With create_missing_leads the sink upserts Leads on lead_key_field: it must be an
    External ID, and the fields copied onto a new Lead must be createable."""
    assert check(sb, create_missing_leads=True) == []
    sb.org.security.read_only["Lead"] = {"Title"}
    found = by_option(check(sb, refresh=True, create_missing_leads=True,
                            lead_key_field="SAL_Reason__c"))  # fmt: skip
    key = found[("lead_key_field",)]
    assert key.message == ("Lead.SAL_Reason__c is not an External ID: the agent's upsert by it "
                           "is refused")
    title = found[("create_fields",)]
    assert title.message == ("Lead.Title (the mapped 'title') is read-only for the integration "
                             "user (not createable): created Leads cannot have it")


def test_review_tasks_are_checked_without_accepted_tasks(sb) -> None:
    sb.org.security.hidden["Task"] = {"SAL_Handoff_Key__c"}
    [hidden] = check(sb, create_task=False, review_task=True)
    assert hidden.option == ("task_key_field",)
    assert check(sb, create_task=False, review_task=False) == []


def test_the_outcome_read_back_settings_are_checked_against_the_org(sb) -> None:
    """A reason field the integration user cannot read would fail every read-back query;
    a status the org lacks is only never seen (a warning)."""
    sb.org.security.hidden["Lead"] = {"Rejection_Reason__c"}
    found = by_option(check(sb, outcomes={
        "rejection_reason_field": "Rejection_Reason__c",
        "recycled_statuses": ["Recyled"], "sql_statuses": ["Qualified"]}))
    reason = found.pop(("outcomes", "rejection_reason_field"))
    assert reason.severity == "error" and "INVALID_FIELD" in reason.message
    recycled, sql = found.pop(("outcomes", "recycled_statuses")), found.pop(
        ("outcomes", "sql_statuses"))
    assert found == {}
    assert (recycled.severity, sql.severity) == ("warning", "warning")
    assert "did you mean 'Recycled'" in recycled.hint
    assert check(sb, outcomes={"enabled": False, "rejection_reason_field": "Rejection_Reason__c",
                               "recycled_statuses": ["Recyled"]}) == []


def test_the_sla_status_field_missing_is_only_a_warning(sb) -> None:
    sb.org.security.hidden["Lead"] = {"SAL_SLA_Status__c"}  # the [sla] "mark" action's field
    found = by_option(check(sb))
    problem = found.pop(("sla_status_field",))
    assert found == {} and problem.severity == "warning" and "docs/sla.md" in problem.hint
