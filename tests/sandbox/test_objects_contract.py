"""Batch read/update, single reads, notes and properties against the documented contract."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException
from hubspot.crm.contacts.exceptions import NotFoundException
from hubspot.crm.objects.notes import BatchInputSimplePublicObjectBatchInputForCreate
from hubspot.crm.properties import PropertyCreate

from connectors.sandbox import Sandbox

BATCH_KEYS = {"status", "results", "startedAt", "completedAt"}
RATE_HEADERS = [
    "X-HubSpot-RateLimit-Daily", "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds", "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
]


def _ids(sb: Sandbox, n: int, stage: str = "marketingqualifiedlead") -> list[str]:
    with sb.store.lock:
        return [cid for cid, c in sb.store.contacts.items()
                if c["properties"]["lifecyclestage"] == stage][:n]


def _note(contact_id: str, key: str, **props: Any) -> dict[str, Any]:
    return {
        "properties": {"hs_note_body": "SAL accepted: score 82", "hs_timestamp":
                       "2026-01-15T10:30:00.000Z", "sal_handoff_key": key, **props},
        "associations": [{"to": {"id": contact_id}, "types": [
            {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}],
    }


# -- auth and headers -----------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic abc"])
def test_missing_or_wrong_token_is_401(sandbox: Sandbox, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    response = requests.post(sandbox.info()["hubspot_url"] + "/crm/v3/objects/contacts/search",
                             json={}, headers=headers, timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["correlationId"] == response.headers["X-HubSpot-Correlation-Id"]


def test_sdk_maps_401_to_unauthorized(sandbox: Sandbox) -> None:
    from hubspot.crm.contacts.exceptions import UnauthorizedException

    bad = HubSpot(access_token="nope", host=sandbox.info()["hubspot_url"])
    with pytest.raises(UnauthorizedException):
        bad.crm.contacts.basic_api.get_by_id("101")


def test_rate_headers_on_non_search_responses_only(sandbox: Sandbox, api: Any) -> None:
    cid = _ids(sandbox, 1)[0]
    read = api.get(f"/crm/v3/objects/contacts/{cid}")
    assert read.status_code == 200
    for header in RATE_HEADERS:
        assert int(read.headers[header]) >= 0
    assert read.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    search = api.search({})
    assert search.headers["X-HubSpot-Correlation-Id"]
    assert read.headers["X-HubSpot-Correlation-Id"] != search.headers["X-HubSpot-Correlation-Id"]


# -- reads ----------------------------------------------------------------------------


def test_get_by_id_with_properties_and_history(sandbox: Sandbox, client: HubSpot) -> None:
    cid = _ids(sandbox, 1)[0]
    contact = client.crm.contacts.basic_api.get_by_id(
        cid, properties=["email", "hubspotscore"], properties_with_history=["lifecyclestage"])
    assert contact.id == cid
    assert set(contact.properties) == {"email", "hubspotscore", "createdate", "lastmodifieddate",
                                       "hs_object_id"}
    history = contact.properties_with_history["lifecyclestage"]
    assert history[0].value == "marketingqualifiedlead"


def test_get_unknown_id_is_404(client: HubSpot) -> None:
    with pytest.raises(NotFoundException):
        client.crm.contacts.basic_api.get_by_id("999999999")


def test_batch_read_returns_known_ids_and_207_for_unknown(sandbox: Sandbox, api: Any) -> None:
    ids = _ids(sandbox, 3)
    body = {"inputs": [{"id": i} for i in [*ids, "999999999"]], "properties": ["email"]}
    response = api.post("/crm/v3/objects/contacts/batch/read", body)
    assert response.status_code == 207
    payload = response.json()
    assert payload.keys() >= BATCH_KEYS
    assert sorted(r["id"] for r in payload["results"]) == sorted(ids)
    assert payload["numErrors"] == 1
    assert payload["errors"][0]["context"]["ids"] == ["999999999"]


@pytest.mark.parametrize("path", ["batch/read", "batch/update"])
def test_batches_over_100_inputs_are_400(api: Any, path: str) -> None:
    inputs = [{"id": str(101 + i), "properties": {"sal_status": "x"}} for i in range(101)]
    response = api.post(f"/crm/v3/objects/contacts/{path}", {"inputs": inputs})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_batch_read_with_history_allows_50(sandbox: Sandbox, api: Any) -> None:
    inputs = [{"id": str(101 + i)} for i in range(51)]
    response = api.post("/crm/v3/objects/contacts/batch/read",
                        {"inputs": inputs, "propertiesWithHistory": ["lifecyclestage"]})
    assert response.status_code == 400


# -- writes ---------------------------------------------------------------------------


def test_batch_update_sets_values_and_bumps_lastmodifieddate(sandbox: Sandbox,
                                                             client: HubSpot) -> None:
    ids = _ids(sandbox, 2, "lead")
    with sandbox.store.lock:
        before = {i: sandbox.store.contacts[i]["properties"]["lastmodifieddate"] for i in ids}
    result = client.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input={
        "inputs": [{"id": i, "properties": {"pricing_page_views": 77, "industry": ""}}
                   for i in ids]})
    assert result.status == "COMPLETE"
    assert {r.id for r in result.results} == set(ids)
    with sandbox.store.lock:
        for i in ids:
            props = sandbox.store.contacts[i]["properties"]
            assert props["pricing_page_views"] == "77"
            assert props["industry"] == ""
            assert props["lastmodifieddate"] > before[i]
            assert sandbox.store.contacts[i]["updatedAt"] == props["lastmodifieddate"]


def test_batch_update_unknown_id_is_207_partial(sandbox: Sandbox, client: HubSpot) -> None:
    cid = _ids(sandbox, 1, "lead")[0]
    result = client.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input={
        "inputs": [{"id": cid, "properties": {"pricing_page_views": "12"}},
                   {"id": "999999999", "properties": {"pricing_page_views": "12"}}]})
    assert result.num_errors == 1
    assert result.errors[0].category == "OBJECT_NOT_FOUND"
    assert [r.id for r in result.results] == [cid]
    with sandbox.store.lock:
        assert sandbox.store.contacts[cid]["properties"]["pricing_page_views"] == "12"


@pytest.mark.parametrize(
    ("props", "code"),
    [({"sal_nope": "x"}, "PROPERTY_DOESNT_EXIST"),
     ({"pricing_page_views": "high"}, "INVALID_INTEGER"),
     ({"lifecyclestage": "hotlead"}, "INVALID_OPTION"), ({"hs_object_id": "5"}, "READ_ONLY_VALUE")],
)
def test_batch_update_invalid_property_is_400_and_writes_nothing(
    sandbox: Sandbox, api: Any, props: dict[str, str], code: str
) -> None:
    first, cid = _ids(sandbox, 2)
    with sandbox.store.lock:
        before = dict(sandbox.store.contacts[first]["properties"])
    response = api.post("/crm/v3/objects/contacts/batch/update",
                        {"inputs": [{"id": first, "properties": {"pricing_page_views": "1"}},
                                    {"id": cid, "properties": props}]})
    assert response.status_code == 400
    body = response.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert body["errors"][0]["code"] == code
    with sandbox.store.lock:
        assert dict(sandbox.store.contacts[first]["properties"]) == before


def test_duplicate_ids_in_a_batch_update_are_400(sandbox: Sandbox, api: Any) -> None:
    cid = _ids(sandbox, 1)[0]
    response = api.post("/crm/v3/objects/contacts/batch/update",
                        {"inputs": [{"id": cid, "properties": {"pricing_page_views": "1"}},
                                    {"id": cid, "properties": {"pricing_page_views": "2"}}]})
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_lifecycle_stage_never_moves_backwards(sandbox: Sandbox, api: Any) -> None:
    cid = _ids(sandbox, 1)[0]
    response = api.post("/crm/v3/objects/contacts/batch/update",
                        {"inputs": [{"id": cid, "properties": {"lifecyclestage": "lead"}}]})
    assert response.status_code == 200
    with sandbox.store.lock:
        assert sandbox.store.contacts[cid]["properties"]["lifecyclestage"] == (
            "marketingqualifiedlead")
        assert sandbox.store.ignored_writes[-1]["id"] == cid


# -- notes ----------------------------------------------------------------------------


def test_notes_batch_create_associates_and_is_searchable(sandbox: Sandbox,
                                                         client: HubSpot) -> None:
    ids = _ids(sandbox, 3)
    inputs = [_note(cid, f"key-{cid}") for cid in ids]
    created = client.crm.objects.notes.batch_api.create(
        batch_input_simple_public_object_batch_input_for_create=BatchInputSimplePublicObjectBatchInputForCreate(
            inputs=inputs))
    assert created.status == "COMPLETE"
    assert len(created.results) == 3
    with sandbox.store.lock:
        stored = {n["properties"]["sal_handoff_key"]: n for n in sandbox.store.notes.values()}
    for cid in ids:
        assert stored[f"key-{cid}"]["associations"] == [cid]
    found = client.crm.objects.notes.search_api.do_search(public_object_search_request={
        "filterGroups": [{"filters": [{"propertyName": "sal_handoff_key", "operator": "IN",
                                       "values": [f"key-{ids[0]}", "key-none"]}]}],
        "properties": ["sal_handoff_key"]})
    assert found.total == 1
    assert found.results[0].properties["sal_handoff_key"] == f"key-{ids[0]}"


def test_notes_batch_create_partial_failure_is_207(sandbox: Sandbox, api: Any) -> None:
    cid = _ids(sandbox, 1)[0]
    no_timestamp = _note(cid, "k-missing-ts")
    del no_timestamp["properties"]["hs_timestamp"]
    wrong_type = _note(cid, "k-type")
    wrong_type["associations"][0]["types"][0]["associationTypeId"] = 1
    no_contact = _note("999999999", "k-contact")
    good = _note(cid, "k-good")
    response = api.post("/crm/v3/objects/notes/batch/create",
                        {"inputs": [no_timestamp, good, wrong_type, no_contact]})
    assert response.status_code == 207
    body = response.json()
    assert body["numErrors"] == 3
    assert len(body["results"]) == 1
    assert body["results"][0]["properties"]["sal_handoff_key"] == "k-good"
    with sandbox.store.lock:
        keys = [n["properties"].get("sal_handoff_key") for n in sandbox.store.notes.values()]
    assert "k-good" in keys
    assert not {"k-missing-ts", "k-type", "k-contact"} & set(keys)


def test_notes_batch_create_over_100_is_400(sandbox: Sandbox, api: Any) -> None:
    cid = _ids(sandbox, 1)[0]
    response = api.post("/crm/v3/objects/notes/batch/create",
                        {"inputs": [_note(cid, f"k{i}") for i in range(101)]})
    assert response.status_code == 400


def test_single_note_create_is_201(sandbox: Sandbox, api: Any) -> None:
    cid = _ids(sandbox, 1)[0]
    response = api.post("/crm/v3/objects/notes", _note(cid, "single"))
    assert response.status_code == 201
    assert response.json()["properties"]["hs_note_body"] == "SAL accepted: score 82"


# -- properties -----------------------------------------------------------------------


def test_create_custom_property_then_409(client: HubSpot, api: Any) -> None:
    create = PropertyCreate(name="sal_status", label="SAL status", type="enumeration",
                            field_type="select", group_name="contactinformation",
                            options=[{"label": "Accepted", "value": "accepted", "displayOrder": 0,
                                      "hidden": False},
                                     {"label": "Rejected", "value": "rejected", "displayOrder": 1,
                                      "hidden": False}])
    made = client.crm.properties.core_api.create(object_type="contacts", property_create=create)
    assert made.name == "sal_status"
    got = client.crm.properties.core_api.get_by_name(object_type="contacts",
                                                     property_name="sal_status")
    assert [o.value for o in got.options] == ["accepted", "rejected"]
    again = api.post("/crm/v3/properties/contacts", create.to_dict() | {
        "fieldType": "select", "groupName": "contactinformation"})
    assert again.status_code == 409
    assert again.json()["category"] == "OBJECT_ALREADY_EXISTS"
    names = [p["name"] for p in api.get("/crm/v3/properties/contacts").json()["results"]]
    assert "sal_status" in names
    update = api.post("/crm/v3/objects/contacts/batch/update",
                      {"inputs": [{"id": "101", "properties": {"sal_status": "maybe"}}]})
    assert update.status_code == 400


def test_unknown_property_definition_is_404(client: HubSpot) -> None:
    from hubspot.crm.properties import ApiException as PropertiesApiException

    with pytest.raises(PropertiesApiException) as caught:
        client.crm.properties.core_api.get_by_name(object_type="contacts", property_name="zzz")
    assert caught.value.status == 404


def test_note_property_for_idempotency_exists(api: Any) -> None:
    response = api.get("/crm/v3/properties/notes/sal_handoff_key")
    assert response.status_code == 200
    assert response.json()["type"] == "string"


def test_unknown_route_is_404_json(api: Any) -> None:
    response = api.get("/crm/v3/objects/deals/1")
    assert response.status_code == 404
    assert response.json()["status"] == "error"


def test_requests_are_counted_per_endpoint_and_status(sandbox: Sandbox, api: Any) -> None:
    before = sandbox.store.request_count("hubspot", "contacts.search", 200)
    api.search({})
    api.search({"limit": 999})
    state = sandbox.state(include_records=False)
    counts = {(r["endpoint"], r["status"]): r["count"] for r in state["requests"]
              if r["system"] == "hubspot"}
    assert counts[("contacts.search", 200)] == before + 1
    assert counts[("contacts.search", 400)] >= 1
    assert "contacts" not in state


_ = ApiException  # the contacts ApiException is what do_search raises (imported for clarity)
