"""HubSpot rate limits (429 bodies, policy names, headers) and fault injection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException

from connectors.sandbox import Faults, HubSpotLimits, Sandbox

RATE_LIMIT_KEYS = {"status", "message", "errorType", "correlationId", "policyName"}


class FakeClock:
    """A settable clock for the store (sliding windows use it)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def assert_rate_limited(response: Any, policy: str) -> None:
    assert response.status_code == 429
    body = response.json()
    assert body.keys() >= RATE_LIMIT_KEYS
    assert body["status"] == "error"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == policy
    assert body["correlationId"] == response.headers["X-HubSpot-Correlation-Id"]


@pytest.fixture
def limited(make_api: Any) -> Iterator[tuple[Any, FakeClock, Sandbox]]:
    clock = FakeClock()
    limits = HubSpotLimits(burst_per_10s=3, search_per_s=2, daily=8)
    with Sandbox(contacts=20, seed=1, hubspot_limits=limits, clock=clock) as sb:
        yield make_api(sb.info()), clock, sb


def test_burst_limit_is_a_rolling_ten_second_window(limited: Any) -> None:
    api, clock, _sb = limited
    remaining = []
    for _ in range(3):
        response = api.get("/crm/v3/objects/contacts/101")
        assert response.status_code == 200
        remaining.append(int(response.headers["X-HubSpot-RateLimit-Remaining"]))
        assert response.headers["X-HubSpot-RateLimit-Max"] == "3"
        clock.advance(3)
    assert remaining == [2, 1, 0]
    assert_rate_limited(api.get("/crm/v3/objects/contacts/101"), "TEN_SECONDLY_ROLLING")
    clock.advance(1.5)  # the first call (t=0) has left the window at t=10.5
    assert api.get("/crm/v3/objects/contacts/101").status_code == 200
    assert_rate_limited(api.get("/crm/v3/objects/contacts/101"), "TEN_SECONDLY_ROLLING")


def test_search_has_its_own_per_second_limit(limited: Any) -> None:
    api, clock, _sb = limited
    assert api.search({}).status_code == 200
    assert api.search({}).status_code == 200
    assert_rate_limited(api.search({}), "SECONDLY")
    read = api.get("/crm/v3/objects/contacts/101")
    assert read.status_code == 200, "searches must not use the 10-second burst budget"
    assert read.headers["X-HubSpot-RateLimit-Remaining"] == "2"
    clock.advance(1)
    assert api.search({}).status_code == 200


def test_daily_limit_and_reset_at_midnight(limited: Any) -> None:
    api, clock, _sb = limited
    statuses = []
    for _ in range(9):
        statuses.append(api.get("/crm/v3/objects/contacts/101"))
        clock.advance(11)
    assert [r.status_code for r in statuses] == [200] * 8 + [429]
    assert statuses[7].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert_rate_limited(statuses[8], "DAILY")
    clock.advance(86_400)
    assert api.get("/crm/v3/objects/contacts/101").status_code == 200


def test_retry_after_header_is_optional_and_configurable(make_api: Any) -> None:
    clock = FakeClock()
    limits = HubSpotLimits(burst_per_10s=1, retry_after=True)
    with Sandbox(contacts=5, hubspot_limits=limits, clock=clock) as sb:
        api = make_api(sb.info())
        assert api.get("/crm/v3/objects/contacts/101").status_code == 200
        clock.advance(4)
        limited = api.get("/crm/v3/objects/contacts/101")
        assert_rate_limited(limited, "TEN_SECONDLY_ROLLING")
        assert limited.headers["Retry-After"] == "6"


def test_tier_presets_match_the_documented_numbers() -> None:
    assert HubSpotLimits.for_tier("starter").burst_per_10s == 100
    assert HubSpotLimits.for_tier("professional").daily == 625_000
    assert HubSpotLimits.for_tier("enterprise").search_per_s == 5
    assert HubSpotLimits.for_tier("off") == HubSpotLimits()


# -- faults ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def faulty() -> Iterator[Sandbox]:
    with Sandbox(contacts=30, seed=2, faults=Faults(seed=9)) as sb:
        yield sb


@pytest.fixture
def fapi(faulty: Sandbox, make_api: Any) -> Iterator[Any]:
    yield make_api(faulty.info())
    faulty.faults.rate_429 = faulty.faults.rate_5xx = faulty.faults.malformed_rate = 0.0
    faulty.faults.retry_after = None


def test_429_storm_can_start_and_stop_mid_run(faulty: Sandbox, fapi: Any) -> None:
    assert fapi.search({}).status_code == 200
    faulty.faults.rate_429 = 1.0
    faulty.faults.retry_after = 2
    storm = fapi.search({})
    assert_rate_limited(storm, "TEN_SECONDLY_ROLLING")
    assert storm.headers["Retry-After"] == "2"
    faulty.faults.rate_429 = 0.0
    assert fapi.search({}).status_code == 200


def test_sdk_sees_429_as_plain_api_exception(faulty: Sandbox) -> None:
    info = faulty.info()
    client = HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])
    faulty.faults.fail_next(1, 429, "hubspot")
    with pytest.raises(ApiException) as caught:
        client.crm.contacts.basic_api.get_by_id("101")
    assert caught.value.status == 429
    assert json.loads(caught.value.body)["policyName"] == "TEN_SECONDLY_ROLLING"


def test_5xx_faults_are_html_proxy_pages(faulty: Sandbox, fapi: Any) -> None:
    faulty.faults.rate_5xx = 1.0
    response = fapi.search({})
    assert response.status_code in (502, 503)
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html")


def test_malformed_faults_truncate_json(faulty: Sandbox, fapi: Any) -> None:
    faulty.faults.malformed_rate = 1.0
    response = fapi.search({})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_queued_failures_are_exact(faulty: Sandbox, fapi: Any) -> None:
    faulty.faults.fail_next(2, 503, "hubspot")
    assert [fapi.search({}).status_code for _ in range(3)] == [503, 503, 200]


def test_fault_rolls_are_deterministic_for_a_seed() -> None:
    first, second = Faults(seed=4), Faults(seed=4)
    assert [first.roll(0.3) for _ in range(50)] == [second.roll(0.3) for _ in range(50)]
    third = Faults(seed=4)
    assert 20 < sum(third.roll(0.3) for _ in range(200)) < 100


def test_latency_uses_the_injected_sleep(make_api: Any) -> None:
    slept: list[float] = []
    with Sandbox(contacts=5, faults=Faults(latency_ms=250, sleep=slept.append)) as sb:
        assert make_api(sb.info()).search({}).status_code == 200
    assert slept == [0.25]


def test_faults_are_counted_like_real_answers(faulty: Sandbox, fapi: Any) -> None:
    before = faulty.store.request_count("hubspot", "contacts.search", 429)
    faulty.faults.fail_next(1, 429, "hubspot")
    fapi.search({})
    assert faulty.store.request_count("hubspot", "contacts.search", 429) == before + 1


def test_search_index_lag_hides_fresh_changes_until_indexed(make_api: Any) -> None:
    """Freshly changed records reach HubSpot search late; reads by id see them at once."""
    clock = FakeClock()
    with Sandbox(contacts=0, clock=clock, faults=Faults(search_lag_ms=3000)) as sb:
        api = make_api(sb.info())
        cid = sb.store.add_contact({"email": "late@example.com",
                                    "lifecyclestage": "marketingqualifiedlead"})
        body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ",
                                               "value": "late@example.com"}]}]}
        assert api.search(body).json()["total"] == 0
        assert api.get(f"/crm/v3/objects/contacts/{cid}").status_code == 200
        clock.advance(3)
        assert [r["id"] for r in api.search(body).json()["results"]] == [cid]
        api.post("/crm/v3/objects/contacts/batch/update",
                 {"inputs": [{"id": cid, "properties": {"jobtitle": "CTO"}}]})
        assert api.search(body).json()["total"] == 0, "an update is invisible again for a while"
        clock.advance(3)
        assert api.search(body).json()["total"] == 1
