"""SalesforceSettings.from_options: defaults, every problem reported at once."""

from __future__ import annotations

import pytest

from connectors.salesforce import SalesforceSettings
from sync_agent.errors import ConfigError


def test_defaults_cover_the_documented_values():
    s = SalesforceSettings.from_options({})
    assert (s.login_url, s.api_version, s.batch_size, s.daily_max_share) == (
        "https://login.salesforce.com", "62.0", 200, 0.5)
    assert (s.status_accepted, s.status_rejected, s.status_review) == (
        "SAL - Accepted", "SAL - Rejected", "")
    assert (s.score_field, s.date_field, s.reason_field) == (
        "SAL_Score__c", "SAL_Date__c", "SAL_Reason__c")
    assert s.sla_hours is None, "unset: the task is due when the agent's follow-up SLA says"
    assert s.source_condition == "Status = 'MQL'"
    assert s.source_fields()[:4] == ["Id", "SystemModstamp", "IsConverted", "OwnerId"]


def test_options_override_and_field_map_extends_the_defaults():
    s = SalesforceSettings.from_options({
        "status_accepted": "Working - Contacted", "sla_hours": 4, "extra_fields": ["Rating"],
        "field_map": {"lead_score": "Lead_Score__c"},
    })
    assert s.status_accepted == "Working - Contacted" and s.sla_hours == 4.0
    assert "Lead_Score__c" in s.source_fields() and "Rating" in s.source_fields()
    assert s.field_map.fields["email"] == "Email"


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as info:
        SalesforceSettings.from_options({
            "batch_size": 500, "login_url": "http://login.salesforce.com", "colour": "red",
            "sla_hours": "soon", "field_map": {"not_a_field": "X"}, "create_task": "yes",
        })
    where = sorted(p.location for p in info.value.problems)
    assert where == sorted([
        "batch_size", "login_url", "colour", "sla_hours", "field_map.not_a_field", "create_task",
    ])


def test_status_for_maps_outcomes():
    s = SalesforceSettings.from_options({"status_review": "Working - Contacted"})
    assert [s.status_for(o) for o in ("accepted", "rejected", "review")] == [
        "SAL - Accepted", "SAL - Rejected", "Working - Contacted"]
