"""HubSpotSettings.from_options: defaults, overrides, and every problem at once."""

from __future__ import annotations

import pytest

from connectors.hubspot.settings import DEFAULT_BASE_URL, HubSpotSettings
from sync_agent.errors import ConfigError


def test_defaults_target_the_real_api_with_documented_limits():
    s = HubSpotSettings.from_options({})
    assert s.base_url == DEFAULT_BASE_URL
    assert (s.page_size, s.batch_size) == (200, 100)
    assert (s.burst_per_10s, s.search_per_s, s.daily) == (100, 5, 250_000)
    assert s.timeout == (5.0, 30.0)
    assert s.mql_filter[0]["value"] == "marketingqualifiedlead"
    assert {"lastmodifieddate", "hs_object_id", "salesforceleadid"} <= set(s.properties_to_read())


def test_overrides_are_applied():
    s = HubSpotSettings.from_options({
        "base_url": "http://127.0.0.1:9999/", "tier": "enterprise", "overlap_ms": 5000,
        "sal": {"status": "x_sal_status"}, "field_map": {"lead_score": "custom_score"},
        "mql_filter": [{"property": "lifecyclestage", "operator": "IN",
                        "values": ["marketingqualifiedlead", "lead"]}],
        "status_values": {"review": "needs_review"}, "advance_stage": "salesqualifiedlead",
    })
    assert s.base_url == "http://127.0.0.1:9999"
    assert (s.burst_per_10s, s.daily) == (190, 1_000_000)
    assert s.sal.status == "x_sal_status" and s.sal.score == "sal_score"
    assert s.field_map.fields["lead_score"] == "custom_score"
    assert s.mql_filter[0]["values"] == ["marketingqualifiedlead", "lead"]
    assert s.status_values == {"accepted": "accepted", "rejected": "rejected",
                               "review": "needs_review"}


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        HubSpotSettings.from_options({
            "page_size": 500, "tier": "platinum", "nonsense": 1, "daily_max_share": 2,
            "field_map": {"bogus": "x"}, "mql_filter": [{"operator": "EQ"}],
            "advance_stage": "martian", "sal": {"colour": "red"},
        }, file="agent.toml")
    locations = {p.location for p in caught.value.problems}
    assert locations >= {"page_size", "tier", "nonsense", "daily_max_share", "field_map.bogus",
                         "mql_filter[0].property", "advance_stage", "sal.colour"}
    assert all(p.file == "agent.toml" for p in caught.value.problems)


def test_a_field_map_too_long_for_the_search_body_is_refused():
    assert HubSpotSettings.from_options({}).search_body_size() < 3_000
    many = [f"custom_property_number_{i}" for i in range(120)]
    with pytest.raises(ConfigError) as caught:
        HubSpotSettings.from_options({"extra_properties": many})
    assert caught.value.problems[0].location == "field_map"
