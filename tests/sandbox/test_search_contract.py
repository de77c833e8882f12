"""Contacts search against the documented contract (hubspot-api.md), not the implementation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException, PublicObjectSearchRequest

from connectors.sandbox import Sandbox

MQL = {"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"}
#: Documented search response shape: {"total", "results": [...], "paging": {"next": {"after"}}}
RESULT_KEYS = {"id", "properties", "createdAt", "updatedAt", "archived"}
ERROR_KEYS = {"status", "message", "correlationId", "category"}


def _mqls(sb: Sandbox) -> list[dict[str, Any]]:
    with sb.store.lock:
        return [dict(c["properties"]) for c in sb.store.contacts.values()
                if c["properties"].get("lifecyclestage") == "marketingqualifiedlead"]


def _millis(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def assert_validation_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400
    body = response.json()
    assert body.keys() >= ERROR_KEYS
    assert body["status"] == "error"
    assert body["category"] == "VALIDATION_ERROR"
    assert body["correlationId"] == response.headers["X-HubSpot-Correlation-Id"]
    return body


def test_sdk_pages_through_all_mqls_in_modified_order(sandbox: Sandbox, client: HubSpot) -> None:
    """200 per page, paging.next.after until the end, no paging on the last page, no dupes."""
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [MQL]}],
        sorts=[{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        properties=["email", "lifecyclestage"], limit=200, after="0",
    )
    seen: list[str] = []
    stamps: list[int] = []
    pages = 0
    while True:
        page = client.crm.contacts.search_api.do_search(public_object_search_request=request)
        pages += 1
        assert page.total == len(_mqls(sandbox))
        assert len(page.results) <= 200
        for result in page.results:
            seen.append(result.id)
            stamps.append(_millis(result.properties["lastmodifieddate"]))
            assert result.properties["lifecyclestage"] == "marketingqualifiedlead"
        if page.paging is None:
            break
        request.after = page.paging.next.after
    assert len(seen) == len(set(seen)) == len(_mqls(sandbox))
    assert stamps == sorted(stamps)
    assert pages == -(-len(seen) // 200)


def test_results_have_documented_shape_and_only_requested_properties(api: Any) -> None:
    body = api.search({"filterGroups": [{"filters": [MQL]}], "properties": ["email"],
                       "limit": 5}).json()
    assert set(body) == {"total", "results", "paging"}
    assert body["paging"] == {"next": {"after": "5"}}
    for result in body["results"]:
        assert set(result) == RESULT_KEYS
        assert result["archived"] is False
        assert set(result["properties"]) == {"email", "createdate", "lastmodifieddate",
                                             "hs_object_id"}
        assert all(v is None or isinstance(v, str) for v in result["properties"].values())
        assert result["properties"]["hs_object_id"] == result["id"]


def test_default_page_size_is_10_and_default_properties(api: Any) -> None:
    body = api.search({}).json()
    assert len(body["results"]) == 10
    assert {"email", "firstname", "lastname"} <= set(body["results"][0]["properties"])


def test_ties_on_the_sort_property_are_broken_by_id(sandbox: Sandbox, api: Any) -> None:
    """Bulk imports leave many contacts on one timestamp; paging over them must be stable."""
    stamps: dict[str, list[str]] = {}
    for props in _mqls(sandbox):
        stamps.setdefault(props["lastmodifieddate"], []).append(props["hs_object_id"])
    stamp, ids = max(stamps.items(), key=lambda kv: len(kv[1]))
    assert len(ids) > 200
    eq = {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(_millis(stamp))}
    got: list[str] = []
    after = "0"
    while after:
        body = api.search({"filterGroups": [{"filters": [MQL, eq]}], "limit": 200, "after": after,
                           "sorts": [{"propertyName": "lastmodifieddate",
                                      "direction": "DESCENDING"}]}).json()
        got += [r["id"] for r in body["results"]]
        after = body.get("paging", {}).get("next", {}).get("after")
    assert got == sorted(ids, key=int)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"operator": "GTE", "value": "60", "propertyName": "hubspotscore"},
         lambda p: p["hubspotscore"] is not None and int(p["hubspotscore"]) >= 60),
        ({"operator": "LT", "value": "9", "propertyName": "hubspotscore"},
         lambda p: p["hubspotscore"] is not None and int(p["hubspotscore"]) < 9),
        ({"operator": "BETWEEN", "value": "40", "highValue": "50", "propertyName": "hubspotscore"},
         lambda p: p["hubspotscore"] is not None and 40 <= int(p["hubspotscore"]) <= 50),
        ({"operator": "NEQ", "value": "lead", "propertyName": "lifecyclestage"},
         lambda p: p["lifecyclestage"] != "lead"),
        ({"operator": "IN", "values": ["customer", "opportunity"],
          "propertyName": "lifecyclestage"},
         lambda p: p["lifecyclestage"] in ("customer", "opportunity")),
        ({"operator": "NOT_IN", "values": ["customer", "lead"], "propertyName": "lifecyclestage"},
         lambda p: p["lifecyclestage"] not in ("customer", "lead")),
        ({"operator": "HAS_PROPERTY", "propertyName": "salesforceleadid"},
         lambda p: bool(p.get("salesforceleadid"))),
        ({"operator": "NOT_HAS_PROPERTY", "propertyName": "company"},
         lambda p: not p.get("company")),
        ({"operator": "CONTAINS_TOKEN", "value": "*@gmail.com", "propertyName": "email"},
         lambda p: p["email"].endswith("@gmail.com")),
        ({"operator": "NOT_CONTAINS_TOKEN", "value": "*@gmail.com", "propertyName": "email"},
         lambda p: not p["email"].endswith("@gmail.com")),
        ({"operator": "EQ", "value": "TRUE", "propertyName": "demo_requested"},
         lambda p: p.get("demo_requested") == "true"),
    ],
)
def test_operators(sandbox: Sandbox, api: Any, flt: dict[str, Any], expected: Any) -> None:
    with sandbox.store.lock:
        want = {c["id"] for c in sandbox.store.contacts.values() if expected(c["properties"])}
    assert want, "the seed should give every operator something to find"
    body = api.search({"filterGroups": [{"filters": [flt]}], "limit": 1}).json()
    assert body["total"] == len(want)


def test_date_filters_take_epoch_millis(sandbox: Sandbox, api: Any) -> None:
    cutoff = datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000
    with sandbox.store.lock:
        want = sum(_millis(c["properties"]["lastmodifieddate"]) >= cutoff
                   for c in sandbox.store.contacts.values())
    flt = {"propertyName": "lastmodifieddate", "operator": "GTE", "value": str(int(cutoff))}
    assert api.search({"filterGroups": [{"filters": [flt]}]}).json()["total"] == want


def test_filter_groups_are_or_of_ands(sandbox: Sandbox, api: Any) -> None:
    groups = [{"filters": [MQL, {"propertyName": "trial_started", "operator": "EQ",
                                 "value": "true"}]},
              {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ",
                            "value": "customer"}]}]
    with sandbox.store.lock:
        want = sum(
            (p["lifecyclestage"] == "marketingqualifiedlead" and p["trial_started"] == "true")
            or p["lifecyclestage"] == "customer"
            for p in (c["properties"] for c in sandbox.store.contacts.values())
        )
    assert api.search({"filterGroups": groups}).json()["total"] == want


def test_search_sees_direct_store_changes(sandbox: Sandbox, api: Any) -> None:
    """Tests mutate the store directly; search must not serve a stale cached result."""
    body = {"filterGroups": [{"filters": [{"propertyName": "jobtitle", "operator": "EQ",
                                           "value": "Chief Handoff Officer"}]}]}
    assert api.search(body).json()["total"] == 0
    with sandbox.store.lock:
        cid = next(iter(sandbox.store.contacts))
        old = sandbox.store.contacts[cid]["properties"]["jobtitle"]
        sandbox.store.contacts[cid]["properties"]["jobtitle"] = "Chief Handoff Officer"
    try:
        assert [r["id"] for r in api.search(body).json()["results"]] == [cid]
    finally:
        with sandbox.store.lock:
            sandbox.store.contacts[cid]["properties"]["jobtitle"] = old


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 201},
        {"sorts": [{"propertyName": "lastmodifieddate"}, {"propertyName": "hs_object_id"}]},
        {"filterGroups": [{"filters": [MQL]}] * 6},
        {"filterGroups": [{"filters": [MQL] * 6}] * 3 + [{"filters": [MQL]}]},
        {"filterGroups": [{"filters": [MQL] * 7}]},
        {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "LIKE",
                                        "value": "x"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "IN"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "no_such_prop", "operator": "EQ",
                                        "value": "x"}]}]},
        {"filterGroups": [{"filters": [MQL]}], "properties": ["email"] * 400},
    ],
    ids=["limit>200", "two-sorts", "6-groups", "19-filters", "7-in-group", "bad-operator",
         "in-without-values", "unknown-property", "body>3000"],
)
def test_invalid_search_requests_are_400_validation_errors(api: Any, body: dict[str, Any]) -> None:
    assert_validation_error(api.search(body))


def test_malformed_json_is_400(api: Any) -> None:
    response = api.session.post(api.base + "/crm/v3/objects/contacts/search", data="{nope",
                                headers={"Content-Type": "application/json"}, timeout=10)
    assert_validation_error(response)


def test_sdk_raises_api_exception_on_limit_above_200(client: HubSpot) -> None:
    request = PublicObjectSearchRequest(limit=500)
    with pytest.raises(ApiException) as caught:
        client.crm.contacts.search_api.do_search(public_object_search_request=request)
    assert caught.value.status == 400


class TestTenThousandCap:
    """Paging past 10,000 results is refused with HTTP 400 even though total says more."""

    @pytest.fixture(scope="class")
    def big(self) -> Any:
        with Sandbox(contacts=10_300, seed=3, mql_share=0.5) as sb:
            yield sb

    def test_total_reports_all_but_after_10000_is_400(self, big: Sandbox, make_api: Any) -> None:
        api = make_api(big.info())
        first = api.search({"limit": 200}).json()
        assert first["total"] == 10_300
        last_ok = api.search({"limit": 200, "after": "9800"})
        assert last_ok.status_code == 200
        assert len(last_ok.json()["results"]) == 200
        body = assert_validation_error(api.search({"limit": 200, "after": "10000"}))
        assert "10000" in body["message"]


def test_non_scalar_filter_values_are_400_not_a_crash(api: Any) -> None:
    body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ",
                                           "value": {"nested": 1}}]}]}
    assert_validation_error(api.search(body))
    body = {"filterGroups": [{"filters": [{"propertyName": "email", "operator": "IN",
                                           "values": [["a"]]}]}]}
    assert_validation_error(api.search(body))
