"""Contract of the Salesforce emulator, written from the documented API shapes.

Expectations come from ``/work/shared/docs/salesforce-api.md`` (Salesforce's REST docs and
simple-salesforce's behaviour), not from the emulator's code, so the sandbox cannot drift
into agreeing with the connector's bugs. Most cases use werkzeug's test client on the WSGI
app (fast, no TLS); the last ones drive the real simple-salesforce over https.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce, format_soql
from werkzeug.test import Client

from connectors.sandbox.faults import Faults
from connectors.sandbox.limits import SalesforceLimits
from connectors.sandbox.salesforce_app import make_salesforce_app
from connectors.sandbox.server import Sandbox
from connectors.sandbox.store import SandboxStore

V = "/services/data/v62.0"
LIMIT_INFO = re.compile(r"^api-usage=(\d+)/(\d+)$")


def lead(store: SandboxStore, email: str, **fields: Any) -> str:
    lid = store.new_id("lead")
    stamp = "2026-01-15T10:30:00.000+0000"
    store.leads[lid] = {"Id": lid, "Email": email, "LastName": "Doe", "Company": "Acme",
                        "Status": "MQL", "OwnerId": "0055g0000000001AAA", "IsConverted": False,
                        "IsDeleted": False, "CreatedDate": stamp, "LastModifiedDate": stamp,
                        "SystemModstamp": stamp, **fields}
    return lid


class Api:
    def __init__(self, faults: Faults | None = None, limits: Any = None) -> None:
        self.store = SandboxStore()
        self.app = make_salesforce_app(self.store, faults, limits)
        self.client = Client(self.app)
        self.session = self.store.credentials["salesforce_session_id"]

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session}", **extra}

    def query(self, soql: str, **headers: str) -> Any:
        return self.client.get(f"{V}/query", query_string={"q": soql},
                               headers=self.headers(**headers))

    def collection(self, method: str, records: list[dict[str, Any]], path: str = "",
                   all_or_none: bool = False) -> Any:
        return self.client.open(f"{V}/composite/sobjects{path}", method=method,
                                json={"allOrNone": all_or_none, "records": records},
                                headers=self.headers())


@pytest.fixture
def api() -> Api:
    return Api()


def assert_error_body(response: Any, status: int, code: str) -> None:
    assert response.status_code == status
    body = response.get_json()
    assert isinstance(body, list) and body
    assert body[0]["errorCode"] == code and isinstance(body[0]["message"], str)


# -- query -----------------------------------------------------------------------------


def test_query_answer_shape_and_record_attributes(api):
    lid = lead(api.store, "a@example.com")
    body = api.query("SELECT Id, Email FROM Lead").get_json()
    assert set(body) >= {"totalSize", "done", "records"}
    assert body["totalSize"] == 1 and body["done"] is True
    [record] = body["records"]
    assert record["attributes"]["type"] == "Lead"
    assert record["attributes"]["url"].endswith(f"/sobjects/Lead/{lid}")
    assert (record["Id"], record["Email"]) == (lid, "a@example.com")


def test_query_pages_through_next_records_url_2000_by_default(api):
    for i in range(2300):
        lead(api.store, f"p{i}@example.com")
    first = api.query("SELECT Id FROM Lead ORDER BY Id").get_json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (2300, False, 2000)
    assert re.match(rf"^{V}/query/[0-9A-Za-z]+-2000$", first["nextRecordsUrl"])
    second = api.client.get(first["nextRecordsUrl"], headers=api.headers()).get_json()
    assert second["done"] is True and len(second["records"]) == 300
    ids = [r["Id"] for r in first["records"] + second["records"]]
    assert len(set(ids)) == 2300 and ids == sorted(ids)


@pytest.mark.parametrize(("asked", "served"), [(200, 200), (500, 500), (50, 200), (5000, 2000)])
def test_batch_size_header_is_honoured_between_200_and_2000(api, asked, served):
    for i in range(2100):
        lead(api.store, f"b{i}@example.com")
    body = api.query("SELECT Id FROM Lead", **{"Sforce-Query-Options": f"batchSize={asked}"})
    assert len(body.get_json()["records"]) == served


def test_soql_subset_filters_orders_and_limits(api):
    lead(api.store, "o'brien@example.com", NumberOfEmployees=50, Status="MQL")
    lead(api.store, "big@example.com", NumberOfEmployees=5000, Status="Working - Contacted")
    lead(api.store, "none@example.com", NumberOfEmployees=None, Status="MQL")
    soql = format_soql(
        "SELECT Email FROM Lead WHERE (Email IN {} OR NumberOfEmployees >= {}) AND Status != {} "
        "ORDER BY Email DESC LIMIT 5", ["O'Brien@example.com"], 1000, "Closed - Converted")
    emails = [r["Email"] for r in api.query(soql).get_json()["records"]]
    assert emails == ["o'brien@example.com", "big@example.com"]
    like = api.query("SELECT Email FROM Lead WHERE Email LIKE 'b%' AND NumberOfEmployees != null")
    assert [r["Email"] for r in like.get_json()["records"]] == ["big@example.com"]
    dated = api.query("SELECT Id FROM Lead WHERE SystemModstamp >= 2026-01-15T10:30:00Z "
                      "AND SystemModstamp < 2026-01-15T10:30:01+00:00 AND IsConverted = false")
    assert dated.get_json()["totalSize"] == 3


def test_deleted_leads_only_in_query_all(api):
    lead(api.store, "gone@example.com", IsDeleted=True)
    assert api.query("SELECT Id FROM Lead").get_json()["totalSize"] == 0
    all_rows = api.client.get(f"{V}/queryAll", query_string={"q": "SELECT Id, IsDeleted FROM Lead"},
                              headers=api.headers()).get_json()
    assert all_rows["records"][0]["IsDeleted"] is True


def test_lead_status_values_are_queryable(api):
    rows = api.query("SELECT ApiName, IsConverted, IsDefault FROM LeadStatus").get_json()["records"]
    names = {r["ApiName"] for r in rows}
    assert {"Open - Not Contacted", "Closed - Converted"} <= names
    assert sum(r["IsDefault"] for r in rows) == 1


@pytest.mark.parametrize(("soql", "code"), [
    ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
    ("SELEC Id FROM Lead", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE Email = 'unterminated", "MALFORMED_QUERY"),
    ("SELECT Nope__c FROM Lead", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE Bogus = 1", "INVALID_FIELD"),
])
def test_bad_soql_is_a_400_with_the_documented_codes(api, soql, code):
    assert_error_body(api.query(soql), 400, code)


# -- auth, limits, errors ------------------------------------------------------------


def test_missing_or_wrong_session_is_401_invalid_session_id(api):
    response = api.client.get(f"{V}/limits", headers={"Authorization": "Bearer nope"})
    assert_error_body(response, 401, "INVALID_SESSION_ID")


def test_every_data_answer_carries_sforce_limit_info_and_counts_calls(api):
    first = api.client.get(f"{V}/limits", headers=api.headers())
    second = api.query("SELECT Id FROM Lead")
    used = [int(LIMIT_INFO.match(r.headers["Sforce-Limit-Info"]).group(1)) for r in (first, second)]
    assert used[1] == used[0] + 1
    denied = api.client.get(f"{V}/limits", headers={"Authorization": "Bearer nope"})
    assert LIMIT_INFO.match(denied.headers["Sforce-Limit-Info"])


def test_limits_shape(api):
    body = api.client.get(f"{V}/limits", headers=api.headers()).get_json()
    assert body["DailyApiRequests"]["Max"] == 15000
    assert 0 <= body["DailyApiRequests"]["Remaining"] <= 15000


def test_past_the_daily_allocation_calls_are_403_request_limit_exceeded():
    api = Api(limits=SalesforceLimits(daily_api_max=2, enforce_daily=True))
    for _ in range(2):
        assert api.query("SELECT Id FROM Lead").status_code == 200
    response = api.query("SELECT Id FROM Lead")
    assert_error_body(response, 403, "REQUEST_LIMIT_EXCEEDED")
    assert "TotalRequests Limit exceeded" in response.get_json()[0]["message"]


def test_unknown_resource_is_404_not_found(api):
    assert_error_body(api.client.get(f"{V}/nothing/here", headers=api.headers()), 404, "NOT_FOUND")


def test_versions_and_describe(api):
    versions = api.client.get("/services/data/").get_json()
    assert {"62.0"} <= {v["version"] for v in versions}
    assert all(v["url"] == f"/services/data/v{v['version']}" for v in versions)
    describe = api.client.get(f"{V}/sobjects/Lead/describe", headers=api.headers()).get_json()
    fields = {f["name"]: f for f in describe["fields"]}
    assert fields["Status"]["type"] == "picklist" and fields["IsConverted"]["updateable"] is False


# -- OAuth ------------------------------------------------------------------------------


def test_token_endpoint_flows_and_error_shape(api):
    creds = api.store.credentials
    ok = api.client.post("/services/oauth2/token", data={
        "grant_type": "password", "client_id": creds["salesforce_client_id"],
        "client_secret": creds["salesforce_client_secret"],
        "username": creds["salesforce_username"], "password": creds["salesforce_password"]})
    body = ok.get_json()
    assert ok.status_code == 200
    assert set(body) >= {"access_token", "instance_url", "token_type", "issued_at", "signature"}
    assert body["token_type"] == "Bearer"
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    fresh = api.client.get(f"{V}/limits", headers=bearer)
    assert fresh.status_code == 200
    bad = api.client.post("/services/oauth2/token", data={
        "grant_type": "password", "client_id": creds["salesforce_client_id"],
        "client_secret": creds["salesforce_client_secret"],
        "username": creds["salesforce_username"], "password": "wrong"})
    assert bad.status_code == 400 and bad.get_json()["error"] == "invalid_grant"
    assert "error_description" in bad.get_json()


def test_session_expiry_every_n_calls_until_relogin():
    api = Api(faults=Faults(session_expiry_every=2))
    assert api.query("SELECT Id FROM Lead").status_code == 200
    assert_error_body(api.query("SELECT Id FROM Lead"), 401, "INVALID_SESSION_ID")
    assert_error_body(api.query("SELECT Id FROM Lead"), 401, "INVALID_SESSION_ID")
    creds = api.store.credentials
    token = api.client.post("/services/oauth2/token", data={
        "grant_type": "client_credentials", "client_id": creds["salesforce_client_id"],
        "client_secret": creds["salesforce_client_secret"]}).get_json()["access_token"]
    api.session = token
    assert api.query("SELECT Id FROM Lead").status_code == 200


# -- sObject Collections ------------------------------------------------------------


def upd(lid: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "id": lid, **fields}


def test_update_partial_failures_are_200_with_per_record_status_codes_in_order(api):
    ok = lead(api.store, "ok@example.com")
    converted = lead(api.store, "c@example.com", IsConverted=True, Status="Closed - Converted")
    deleted = lead(api.store, "d@example.com", IsDeleted=True)
    bad = lead(api.store, "b@example.com")
    response = api.collection("PATCH", [
        upd(ok, Status="Working - Contacted"), upd(converted, Status="Working - Contacted"),
        upd(deleted, Status="Working - Contacted"), upd(bad, Status="No Such Status"),
    ])
    assert response.status_code == 200
    results = response.get_json()
    assert results[0] == {"id": ok, "success": True, "errors": []}
    codes = [r["errors"][0]["statusCode"] for r in results[1:]]
    assert codes == ["CANNOT_UPDATE_CONVERTED_LEAD", "ENTITY_IS_DELETED",
                     "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]
    assert all(r["success"] is False and "errorCode" not in r["errors"][0] for r in results[1:])
    assert all(isinstance(r["errors"][0]["fields"], list) for r in results[1:])
    assert api.store.leads[ok]["Status"] == "Working - Contacted"
    assert api.store.leads[bad]["Status"] == "MQL"


def test_update_bumps_system_modstamp(api):
    lid = lead(api.store, "m@example.com")
    before = api.store.leads[lid]["SystemModstamp"]
    api.collection("PATCH", [upd(lid, SAL_Score__c=90)])
    assert api.store.leads[lid]["SystemModstamp"] > before


def test_all_or_none_applies_nothing_when_one_record_fails(api):
    ok = lead(api.store, "ok@example.com")
    bad = lead(api.store, "bad@example.com")
    results = api.collection("PATCH", [upd(ok, Status="Working - Contacted"),
                                       upd(bad, Status="Nope")], all_or_none=True).get_json()
    assert [r["success"] for r in results] == [False, False]
    assert api.store.leads[ok]["Status"] == "MQL"


def test_more_than_200_records_is_refused_whole(api):
    lid = lead(api.store, "x@example.com")
    response = api.collection("PATCH", [upd(lid, SAL_Score__c=1)] * 201)
    assert response.status_code == 400
    assert isinstance(response.get_json(), list) and "errorCode" in response.get_json()[0]
    assert api.store.leads[lid].get("SAL_Score__c") is None


def test_create_returns_ids_in_request_order(api):
    lid = lead(api.store, "x@example.com")
    tasks = [{"attributes": {"type": "Task"}, "WhoId": lid, "Subject": f"t{i}"} for i in range(3)]
    results = api.collection("POST", tasks).get_json()
    assert all(r["success"] for r in results)
    assert [api.store.tasks[r["id"]]["Subject"] for r in results] == ["t0", "t1", "t2"]


def test_upsert_on_external_id_creates_once_then_updates(api):
    lid = lead(api.store, "x@example.com")
    task = {"attributes": {"type": "Task"}, "SAL_Handoff_Key__c": "k-1", "WhoId": lid,
            "Subject": "first"}
    first = api.collection("PATCH", [task], "/Task/SAL_Handoff_Key__c").get_json()
    second = api.collection("PATCH", [{**task, "Subject": "second"}],
                            "/Task/SAL_Handoff_Key__c").get_json()
    assert first[0]["success"] and first[0]["created"] is True
    assert second[0]["id"] == first[0]["id"] and second[0]["created"] is False
    assert [t["Subject"] for t in api.store.tasks.values()] == ["second"]


def test_lock_faults_are_per_record_unable_to_lock_row():
    api = Api(faults=Faults(rate_lock=1.0))
    lid = lead(api.store, "x@example.com")
    [result] = api.collection("PATCH", [upd(lid, SAL_Score__c=5)]).get_json()
    assert result["success"] is False and result["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"


# -- the real SDK over https ----------------------------------------------------------


@pytest.fixture
def https_sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=0) as sb:
        yield sb


def sdk(sb: Sandbox) -> Salesforce:
    info = sb.info()
    session = requests.Session()
    session.verify = info["ca_bundle"]
    session.trust_env = False  # REQUESTS_CA_BUNDLE would override verify
    return Salesforce(instance_url=info["salesforce_url"], session_id=info["salesforce_session_id"],
                      version="62.0", session=session)


def test_simple_salesforce_pages_lazily_and_reads_api_usage_over_https(https_sandbox):
    for i in range(2500):
        lead(https_sandbox.store, f"s{i}@example.com")
    sf = sdk(https_sandbox)
    rows = list(sf.query_all_iter("SELECT Id FROM Lead"))
    assert len(rows) == 2500
    assert sf.api_usage["api-usage"].used == 2 and sf.api_usage["api-usage"].total == 15000


def test_simple_salesforce_restful_collections_over_https(https_sandbox):
    lid = lead(https_sandbox.store, "r@example.com")
    sf = sdk(https_sandbox)
    result = sf.restful("composite/sobjects", method="PATCH", json={
        "allOrNone": False, "records": [upd(lid, Status="Working - Contacted")]})
    assert result == [{"id": lid, "success": True, "errors": []}]


# -- Composite ----------------------------------------------------------------------------


def composite(api: Api, subs: list[dict[str, Any]], all_or_none: bool = False) -> Any:
    return api.client.post(f"{V}/composite", json={"allOrNone": all_or_none,
                                                   "compositeRequest": subs},
                           headers=api.headers())


def sub_update(ref: str, lid: str, **fields: Any) -> dict[str, Any]:
    return {"method": "PATCH", "url": f"{V}/composite/sobjects", "referenceId": ref,
            "body": {"allOrNone": False, "records": [upd(lid, **fields)]}}


def test_composite_answers_in_order_and_counts_as_one_api_call(api):
    lid = lead(api.store, "c@example.com")
    before = api.store.api_usage["sf_api_used"]
    response = composite(api, [
        {"method": "GET", "url": f"{V}/query?q=SELECT+Id+FROM+Lead", "referenceId": "q"},
        sub_update("u", lid, Status="Working - Contacted"),
    ])
    assert response.status_code == 200
    items = response.get_json()["compositeResponse"]
    assert [i["referenceId"] for i in items] == ["q", "u"]
    assert all(set(i) >= {"body", "httpHeaders", "httpStatusCode", "referenceId"} for i in items)
    assert items[0]["body"]["records"][0]["Id"] == lid
    assert items[1]["body"] == [{"id": lid, "success": True, "errors": []}]
    assert api.store.api_usage["sf_api_used"] == before + 1


def test_composite_limits_25_subrequests_and_5_collections_or_queries(api):
    lid = lead(api.store, "c@example.com")
    many = [{"method": "GET", "url": f"{V}/limits", "referenceId": f"l{i}"} for i in range(26)]
    assert composite(api, many).status_code == 400
    heavy = [sub_update(f"u{i}", lid, SAL_Score__c=i) for i in range(6)]
    assert composite(api, heavy).status_code == 400
    assert composite(api, heavy[:5]).status_code == 200


def test_composite_all_or_none_rolls_everything_back(api):
    lid = lead(api.store, "c@example.com")
    items = composite(api, [
        sub_update("ok", lid, Status="Working - Contacted"),
        {"method": "GET", "url": f"{V}/query?q=SELECT+Nope+FROM+Lead", "referenceId": "bad"},
    ], all_or_none=True).get_json()["compositeResponse"]
    assert items[1]["httpStatusCode"] == 400
    assert items[0]["httpStatusCode"] == 400
    assert items[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert api.store.leads[lid]["Status"] == "MQL"
