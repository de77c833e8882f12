"""The sandbox answers as docs/sandbox.md's vendor table says, row by row.

The table ("Vendor behaviours and their sources") is the contract: every row cites a vendor
doc or a published capture, or says it is unverified. Here each row id has one check,
driven through the real SDK clients where the agent uses them; a row without a check, or a
check without a row, fails, so the catalog cannot drift from the table.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.contacts import ApiException as ContactsApiException
from simple_salesforce import Salesforce

from connectors.sandbox import Faults, Sandbox
from connectors.sandbox.salesforce_org import SalesforceOrg, ValidationRule

DOC = Path(__file__).parents[2] / "docs" / "sandbox.md"
SECTION = "## Vendor behaviours and their sources"
ROW = re.compile(r"^\| `(?P<id>[a-z]+-[a-z0-9-]+)` \| (?P<what>.+?) \| (?P<source>.+) \|$")
MQL = "marketingqualifiedlead"


def table_rows() -> dict[str, str]:
    """Row id -> source column of the vendor table."""
    text = DOC.read_text()
    body = text[text.index(SECTION):]
    body = body[: body.index("\n## ", len(SECTION))]
    return {m["id"]: m["source"] for line in body.splitlines() if (m := ROW.match(line))}


class World:
    """One seeded sandbox with the SDK clients the agent uses."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        info = sb.info()
        self.hs = HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])
        session = requests.Session()
        session.verify = info["ca_bundle"]
        session.trust_env = False
        self.sf = Salesforce(instance_url=info["salesforce_url"],
                             session_id=info["salesforce_session_id"], version="62.0",
                             session=session)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {info['hubspot_token']}"
        self.hubspot_url = info["hubspot_url"]
        self.receiver: Any = None  # the conftest ``receiver`` of the running test

    def contact_prop(self, name: str, obj: str = "contacts") -> Any:
        return self.hs.crm.properties.core_api.get_by_name(object_type=obj, property_name=name)

    def lead_ids(self, pred: Callable[[dict[str, Any]], bool]) -> list[str]:
        return [lid for lid, lead in self.sb.store.leads.items()
                if not lead["IsDeleted"] and not lead["IsConverted"] and pred(lead)]

    def collection(self, records: list[dict[str, Any]], method: str = "PATCH",
                   headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        result = self.sf.restful("composite/sobjects", method=method,
                                 json={"allOrNone": False, "records": records},
                                 headers=headers or {})
        assert isinstance(result, list)
        return result

    @contextmanager
    def org(self, **changes: Any) -> Iterator[SalesforceOrg]:
        org = self.sb.store.org
        saved = {k: getattr(org, k) for k in changes}
        for k, v in changes.items():
            setattr(org, k, v)
        try:
            yield org
        finally:
            for k, v in saved.items():
                setattr(org, k, v)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with Sandbox(contacts=400, seed=23, mql_share=0.6) as sb:
        yield World(sb)


def lead(lid: str, **fields: Any) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "id": lid, **fields}


def codes(result: dict[str, Any]) -> list[str]:
    return [e["statusCode"] for e in result["errors"]]


# -- HubSpot --------------------------------------------------------------------------------


def check_hs_numemployees(w: World) -> None:
    prop = w.contact_prop("numemployees")
    assert (prop.type, prop.field_type) == ("enumeration", "select")
    assert [o.value for o in prop.options] == ["1-5", "5-25", "25-50", "50-100", "100-500",
                                               "500-1000", "1000+"]
    cid = next(iter(w.sb.store.contacts))
    with pytest.raises(ContactsApiException) as refused:
        w.hs.crm.contacts.basic_api.update(cid, simple_public_object_input={
            "properties": {"numemployees": "250"}})
    assert refused.value.status == 400 and "INVALID_OPTION" in refused.value.body
    values = {c["properties"].get("numemployees") for c in w.sb.store.contacts.values()}
    assert values - {None} <= {o.value for o in prop.options} and None in values


def check_hs_free_text(w: World) -> None:
    for name, field_type in (("industry", "text"), ("annualrevenue", "text"),
                             ("phone", "phonenumber")):
        prop = w.contact_prop(name)
        assert (prop.type, prop.field_type, prop.options) == ("string", field_type, [])
    typed = {c["properties"].get("industry") for c in w.sb.store.contacts.values()}
    assert None in typed and {"SaaS", "software"} & typed


def check_hs_score_frozen(w: World) -> None:
    prop = w.contact_prop("hubspotscore")
    assert (prop.type, prop.field_type, prop.calculated) == ("number", "calculation_score", True)
    assert prop.modification_metadata.read_only_value is True
    cid = next(iter(w.sb.store.contacts))
    before = w.sb.store.contacts[cid]["properties"]["hubspotscore"]
    with pytest.raises(ContactsApiException) as refused:
        w.hs.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input={
            "inputs": [{"id": cid, "properties": {"hubspotscore": "99"}}]})
    assert refused.value.status == 400
    error = refused.value.body
    assert "READ_ONLY_VALUE" in error and "is a calculated property" in error
    w.sb.advance(days=30)
    assert w.sb.store.contacts[cid]["properties"]["hubspotscore"] == before


def check_hs_new_scores(w: World) -> None:
    for name in ("example_fit_score", "example_engagement_score", "example_combined_score"):
        prop = w.contact_prop(name)
        assert prop.type == "number" and prop.modification_metadata.read_only_value is True
        assert prop.hubspot_defined is False


def check_hs_enum_options(w: World) -> None:
    status = w.contact_prop("hs_lead_status")
    assert status.field_type == "radio" and [o.value for o in status.options] == [
        "NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
        "CONNECTED", "BAD_TIMING"]
    for name in ("hs_analytics_source", "hs_latest_source"):
        source = w.contact_prop(name)
        assert source.field_type == "select" and "ORGANIC_SEARCH" in [
            o.value for o in source.options]


def check_hs_stage_dates(w: World) -> None:
    entered = w.contact_prop("hs_v2_date_entered_salesqualifiedlead")
    assert entered.type == "datetime" and entered.modification_metadata.read_only_value
    cid = next(i for i, c in w.sb.store.contacts.items()
               if c["properties"]["lifecyclestage"] == MQL)
    w.hs.crm.contacts.basic_api.update(cid, simple_public_object_input={
        "properties": {"lifecyclestage": "salesqualifiedlead"}})
    got = w.hs.crm.contacts.basic_api.get_by_id(cid, properties=[
        "hs_v2_date_entered_salesqualifiedlead", "hs_v2_date_exited_marketingqualifiedlead",
        "lastmodifieddate"]).properties
    assert got["hs_v2_date_entered_salesqualifiedlead"] == got["lastmodifieddate"]
    assert got["hs_v2_date_exited_marketingqualifiedlead"] == got["lastmodifieddate"]


def check_hs_owner(w: World) -> None:
    prop = w.contact_prop("hubspot_owner_id")
    assert (prop.type, prop.field_type, prop.external_options) == ("enumeration", "select", True)
    cid, owner = next(iter(w.sb.store.contacts)), next(iter(w.sb.store.hubspot_owners))
    w.hs.crm.contacts.basic_api.update(cid, simple_public_object_input={
        "properties": {"hubspot_owner_id": owner}})
    props = w.sb.store.contacts[cid]["properties"]
    assert props["hubspot_owner_assigneddate"] == props["lastmodifieddate"]


def check_hs_primary_company(w: World) -> None:
    prop = w.contact_prop("associatedcompanyid")
    assert (prop.type, prop.field_type) == ("number", "number")
    page = w.hs.crm.contacts.search_api.do_search(public_object_search_request={
        "filterGroups": [{"filters": [{"propertyName": "associatedcompanyid",
                                       "operator": "HAS_PROPERTY"}]}],
        "properties": ["associatedcompanyid"], "limit": 100})
    assert page.total > 0
    for contact in page.results:
        primary = w.sb.store.contact_companies[contact.id][0]
        assert contact.properties["associatedcompanyid"] == primary
    alone = [c for c in w.sb.store.contacts.values() if not c["properties"].get(
        "associatedcompanyid")]
    assert alone, "some contacts have no company"


def check_hs_companies(w: World) -> None:
    shared = [cid for cid in w.sb.store.companies
              if sum(cid in links for links in w.sb.store.contact_companies.values()) > 1]
    assert shared, "contacts share companies"
    one = w.hs.crm.companies.basic_api.get_by_id(shared[0], properties=["name", "industry"])
    assert one.properties["name"] == w.sb.store.companies[shared[0]]["properties"]["name"]
    ids = list(w.sb.store.companies)[:100]
    batch = w.hs.crm.companies.batch_api.read(batch_read_input_simple_public_object_id={
        "inputs": [{"id": i} for i in ids], "properties": ["numberofemployees"]})
    assert sorted(r.id for r in batch.results) == sorted(ids)
    too_many = w.http.post(w.hubspot_url + "/crm/v3/objects/companies/batch/read",
                           json={"inputs": [{"id": i} for i in range(101)]}, timeout=10)
    assert too_many.status_code == 400
    partial = w.http.post(w.hubspot_url + "/crm/v3/objects/companies/batch/read",
                          json={"inputs": [{"id": ids[0]}, {"id": "1"}]}, timeout=10)
    assert partial.status_code == 207 and partial.json()["numErrors"] == 1


def check_hs_company_props(w: World) -> None:
    industry = w.contact_prop("industry", "companies")
    assert (industry.type, industry.field_type) == ("enumeration", "select")
    assert {"COMPUTER_SOFTWARE", "INFORMATION_TECHNOLOGY_AND_SERVICES"} <= {
        o.value for o in industry.options}
    for name in ("numberofemployees", "annualrevenue"):
        assert w.contact_prop(name, "companies").type == "number"
    for name in ("country", "hs_lastmodifieddate"):
        w.contact_prop(name, "companies")
    values = [c["properties"]["industry"] for c in w.sb.store.companies.values()]
    assert None in values and "COMPUTER_SOFTWARE" in values


def check_hs_assoc_v4(w: World) -> None:
    links = w.sb.store.contact_companies
    two = next(cid for cid, companies in links.items() if len(companies) > 1)
    none = next(cid for cid in w.sb.store.contacts if cid not in links)
    page = w.hs.crm.associations.v4.batch_api.get_page(
        from_object_type="contacts", to_object_type="companies",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": two},
                                                                        {"id": none}]})
    assert page.status == "COMPLETE" and [r._from.id for r in page.results] == [two]
    primary, other = page.results[0].to
    assert primary.to_object_id == links[two][0] and other.to_object_id == links[two][1]
    assert {(t.category, t.type_id, t.label) for t in primary.association_types} == {
        ("HUBSPOT_DEFINED", 279, None), ("HUBSPOT_DEFINED", 1, "Contact with Primary Company")}
    assert [t.type_id for t in other.association_types] == [279]
    back = w.hs.crm.associations.v4.batch_api.get_page(
        from_object_type="companies", to_object_type="contacts",
        batch_input_public_fetch_associations_batch_request={"inputs": [{"id": links[two][0]}]})
    ids = {t.type_id for to in back.results[0].to for t in to.association_types}
    assert ids <= {280, 2} and 280 in ids


def check_hs_property_shape(w: World) -> None:
    keys = {"name", "label", "type", "fieldType", "groupName", "description", "options",
            "displayOrder", "calculated", "externalOptions", "hasUniqueValue", "hidden",
            "hubspotDefined", "formField", "modificationMetadata"}
    for obj in ("contacts", "companies", "notes"):
        listed = w.http.get(f"{w.hubspot_url}/crm/v3/properties/{obj}", timeout=10).json()
        for prop in listed["results"]:
            assert keys <= prop.keys()
            assert {"archivable", "readOnlyDefinition", "readOnlyOptions",
                    "readOnlyValue"} <= prop["modificationMetadata"].keys()
            for option in prop["options"]:
                assert option.keys() == {"label", "value", "displayOrder", "hidden"}
    one = w.http.get(f"{w.hubspot_url}/crm/v3/properties/contacts/lifecyclestage",
                     timeout=10).json()
    assert one["options"][2] == {"label": "Marketing Qualified Lead",
                                 "value": MQL, "displayOrder": 2, "hidden": False}


def check_hs_late_visible(w: World) -> None:
    faults = Faults(late_visible_share=0.5, late_visible_ms=60_000, seed=3)
    with Sandbox(contacts=0, faults=faults) as sb:
        earlier = [sb.store.add_contact({"email": f"e{i}@x.com"}) for i in range(20)]
        sb.advance(5)
        later = [sb.store.add_contact({"email": f"l{i}@x.com"}) for i in range(10)]
        client = HubSpot(access_token=sb.info()["hubspot_token"],
                         host=sb.info()["hubspot_url"])

        def seen() -> set[str]:
            return {r.id for r in client.crm.contacts.search_api.do_search(
                public_object_search_request={"limit": 100}).results}

        now = seen()
        assert set(earlier) - now and set(later) & now, \
            "an earlier change is still hidden while a later one is found"
        sb.advance(61)
        assert seen() == {*earlier, *later}


# -- HubSpot webhooks ------------------------------------------------------------------------


@contextmanager
def hooked(w: World) -> Iterator[Any]:
    """The world's sandbox sending webhooks to the test receiver, with scaled delays."""
    w.sb.webhooks.configure(target_url=w.receiver.url, client_secret=w.receiver.secret,
                            app_id=777, portal_id=4242, time_scale=1e-5)
    try:
        yield w.receiver
    finally:
        assert w.sb.webhooks.flush()
        w.sb.webhooks.configure(target_url=None)


def stage_change(w: World, contact_id: str, stage: str = "evangelist") -> None:
    w.hs.crm.contacts.basic_api.update(contact_id, simple_public_object_input={
        "properties": {"lifecyclestage": stage}})


def fresh_contacts(w: World, n: int) -> list[str]:
    return [c.id for c in (w.hs.crm.contacts.basic_api.create(
        simple_public_object_input_for_create={"properties": {"email": f"w{i}@{n}.hook.org"}})
        for i in range(n))]


def check_wh_body(w: World) -> None:
    keys = {"eventId", "subscriptionId", "portalId", "appId", "occurredAt", "subscriptionType",
            "attemptNumber", "objectId", "changeSource", "sourceId"}
    with hooked(w) as receiver:
        created = w.hs.crm.contacts.basic_api.create(simple_public_object_input_for_create={
            "properties": {"email": "hook.body@example.org"}})
        stage_change(w, created.id, MQL)
        assert w.sb.webhooks.flush()
        creation, change = receiver.events()
    assert {r["content_type"] for r in receiver.received} == {"application/json"}
    assert creation.keys() >= keys and change.keys() >= keys
    assert (creation["subscriptionType"], creation["changeFlag"], creation["objectId"]) == (
        "contact.creation", "NEW", int(created.id))
    assert (change["subscriptionType"], change["propertyName"], change["propertyValue"]) == (
        "contact.propertyChange", "lifecyclestage", MQL)
    assert (change["portalId"], change["appId"], change["attemptNumber"]) == (4242, 777, 0)
    stamp = w.sb.store.contacts[created.id]["properties"]["lastmodifieddate"]
    assert change["occurredAt"] == int(
        datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
    assert creation["eventId"] != change["eventId"]


def check_wh_signature(w: World) -> None:
    first, second = fresh_contacts(w, 2)
    with hooked(w) as receiver:
        stage_change(w, first, MQL)
        assert w.sb.webhooks.flush()
        w.sb.webhooks.configure(client_secret="someone-else's")
        stage_change(w, second, MQL)
    assert [r["valid"] for r in receiver.received] == [True, False]


def check_wh_batch(w: World) -> None:
    ids = fresh_contacts(w, 120)
    with hooked(w) as receiver:
        receiver.gate.clear()  # hold the first request so the rest pile up
        stage_change(w, ids[0])
        assert receiver.arrived.wait(5)
        for chunk in (ids[1:70], ids[70:]):
            w.hs.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input={
                "inputs": [{"id": i, "properties": {"lifecyclestage": "evangelist"}}
                           for i in chunk]})
        receiver.gate.set()
        assert w.sb.webhooks.flush()
    sizes = [len(r["events"]) for r in receiver.received]
    assert max(sizes) == 100 and sorted(e["objectId"] for e in receiver.events()) == sorted(
        int(i) for i in ids)


def check_wh_retry(w: World) -> None:
    ids = fresh_contacts(w, 6)
    with hooked(w) as receiver:
        receiver.script.extend([(503, {}), (500, {}), (200, {})])
        stage_change(w, ids[0])
        assert w.sb.webhooks.flush()
        assert [r["events"][0]["attemptNumber"] for r in receiver.received] == [0, 1, 2]
        assert all(r["valid"] for r in receiver.received)
        log = w.sb.state()["webhooks"]["deliveries"][-3:]
        assert [d["outcome"] for d in log] == ["retry", "retry", "delivered"]
        assert 60 * 0.75e-5 <= log[0]["retry_in"] <= 60 * 1.25e-5 < log[1]["retry_in"]
        for status, contact in zip((400, 401, 403, 404, 405), ids[1:], strict=True):
            receiver.script.append((status, {}))
            before = len(receiver.received)
            stage_change(w, contact)
            assert w.sb.webhooks.flush()
            assert len(receiver.received) == before + 1, status
            assert w.sb.state()["webhooks"]["deliveries"][-1]["outcome"] == "dropped"


def check_wh_429(w: World) -> None:
    [contact] = fresh_contacts(w, 1)
    with hooked(w) as receiver:
        receiver.script.append((429, {"Retry-After": "3600"}))
        stage_change(w, contact)
        assert w.sb.webhooks.flush()
        retry, delivered = w.sb.state()["webhooks"]["deliveries"][-2:]
    assert (retry["status"], retry["outcome"], delivered["outcome"]) == (429, "retry",
                                                                           "delivered")
    assert retry["retry_in"] == pytest.approx(3600 * 1e-5)


# -- Salesforce ------------------------------------------------------------------------------


def check_sf_describe(w: World) -> None:
    for name in ("Lead", "Task"):
        fields = {f["name"]: f for f in getattr(w.sf, name).describe()["fields"]}
        for field in fields.values():
            assert {"name", "label", "type", "length", "nillable", "createable", "updateable",
                    "externalId", "restrictedPicklist", "picklistValues",
                    "referenceTo", "custom"} <= field.keys()
        status = fields["Status"]
        assert status["type"] == "picklist" and status["restrictedPicklist"] is True
        assert {"active", "defaultValue", "label", "validFor", "value"} == set(
            status["picklistValues"][0])
    lead_fields = {f["name"]: f for f in w.sf.Lead.describe()["fields"]}
    assert lead_fields["IsConverted"]["updateable"] is False
    assert lead_fields["OwnerId"]["referenceTo"] == ["Group", "User"]
    task_fields = {f["name"]: f for f in w.sf.Task.describe()["fields"]}
    assert task_fields["SAL_Handoff_Key__c"]["externalId"] is True
    assert task_fields["CompletedDateTime"]["type"] == "datetime"


def check_sf_leadstatus(w: World) -> None:
    rows = w.sf.query("SELECT ApiName, IsConverted, IsDefault FROM LeadStatus")["records"]
    picklist = next(f for f in w.sf.Lead.describe()["fields"] if f["name"] == "Status")
    assert [r["ApiName"] for r in rows] == [p["value"] for p in picklist["picklistValues"]]
    assert sum(r["IsDefault"] for r in rows) == 1
    assert [p["value"] for p in picklist["picklistValues"] if p["defaultValue"]] == [
        r["ApiName"] for r in rows if r["IsDefault"]]
    closed = w.sf.query("SELECT ApiName FROM TaskStatus WHERE IsClosed = true")["records"]
    assert [r["ApiName"] for r in closed] == ["Completed"]


def check_sf_restricted_picklist(w: World) -> None:
    lid = w.lead_ids(lambda _lead: True)[0]
    results = w.collection([lead(lid, Status="Hot Prospect"),
                            lead(lid, Rejection_Reason__c="Whatever")])
    assert [codes(r) for r in results] == [["INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"]] * 2


def check_sf_validation_rule(w: World) -> None:
    lid, other = w.lead_ids(lambda _lead: True)[1:3]
    results = w.collection([lead(lid, Status="Closed - Not Converted"),
                            lead(other, Status="Closed - Not Converted",
                                 Rejection_Reason__c="No budget")],
                           headers={"Sforce-Auto-Assign": "FALSE"})
    assert codes(results[0]) == ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    assert results[0]["errors"][0]["fields"] == ["Rejection_Reason__c"]
    assert results[1]["success"] is True
    rule = ValidationRule("No_Gmail", "Lead", "Use a business email.",
                          lambda after, _before: "gmail" in str(after.get("Email")))
    with w.org(validation_rules=[rule]):
        [result] = w.collection([lead(lid, Email="someone@gmail.com")])
    assert result["errors"] == [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                                 "message": "Use a business email.", "fields": []}]


def check_sf_fls_hidden(w: World) -> None:
    security = w.sb.store.org.security
    security.hidden["Lead"] = {"SAL_Score__c"}
    try:
        names = {f["name"] for f in w.sf.Lead.describe()["fields"]}
        assert "SAL_Score__c" not in names
        response = requests.get(f"{w.sf.base_url}query", params={
            "q": "SELECT SAL_Score__c FROM Lead"}, headers=w.sf.headers,
            verify=w.sb.info()["ca_bundle"], timeout=10)
        assert response.status_code == 400 and response.json()[0]["errorCode"] == "INVALID_FIELD"
        [result] = w.collection([lead(w.lead_ids(lambda _lead: True)[3], SAL_Score__c=80)])
        assert codes(result) == ["INVALID_FIELD"] and "No such column" in \
            result["errors"][0]["message"]
    finally:
        security.hidden.clear()


def check_sf_fls_readonly(w: World) -> None:
    security = w.sb.store.org.security
    security.read_only["Lead"] = {"SAL_Reason__c"}
    try:
        fields = {f["name"]: f for f in w.sf.Lead.describe()["fields"]}
        assert fields["SAL_Reason__c"]["updateable"] is False
        lid = w.lead_ids(lambda _lead: True)[4]
        results = w.collection([lead(lid, SAL_Reason__c="x"), lead(lid, IsConverted=True)])
        assert [codes(r) for r in results] == [["INVALID_FIELD_FOR_INSERT_UPDATE"]] * 2
        assert results[0]["errors"][0]["message"].startswith(
            "Unable to create/update fields: SAL_Reason__c. Please check the security settings")
    finally:
        security.read_only.clear()


def check_sf_assignment(w: World) -> None:
    store = w.sb.store
    rule_owner = store.org.assignment_rule.owner_for  # type: ignore[union-attr]
    moved = w.lead_ids(lambda lead: rule_owner(lead, store) not in (None, lead["OwnerId"]))
    kept, assigned, lowercase = moved[:3]
    owners = {lid: store.leads[lid]["OwnerId"] for lid in moved[:3]}
    w.collection([lead(kept, Status="Working - Contacted")],
                 headers={"Sforce-Auto-Assign": "FALSE"})
    w.collection([lead(lowercase, Status="Working - Contacted")],
                 headers={"Sforce-Auto-Assign": "false"})
    w.collection([lead(assigned, Status="Working - Contacted")])
    assert store.leads[kept]["OwnerId"] == owners[kept]
    assert store.leads[lowercase]["OwnerId"] == owners[lowercase]
    assert store.leads[assigned]["OwnerId"] == rule_owner(store.leads[assigned], store)
    history = [h for h in store.lead_history if h["LeadId"] == assigned and h["Field"] == "Owner"]
    assert history and history[-1]["OldValue"] == owners[assigned]


def check_sf_assignment_composite(w: World) -> None:
    store = w.sb.store
    rule_owner = store.org.assignment_rule.owner_for  # type: ignore[union-attr]
    own, top = w.lead_ids(lambda lead: rule_owner(lead, store) not in (None, lead["OwnerId"]))[3:5]
    owners = {own: store.leads[own]["OwnerId"], top: store.leads[top]["OwnerId"]}

    def sub(lid: str, ref: str, **extra: Any) -> dict[str, Any]:
        return {"method": "PATCH", "url": "/services/data/v62.0/composite/sobjects",
                "referenceId": ref, "body": {"allOrNone": False, "records": [
                    lead(lid, Status="Working - Contacted")]}, **extra}

    w.sf.restful("composite", method="POST", json={"compositeRequest": [
        sub(own, "own", httpHeaders={"Sforce-Auto-Assign": "FALSE"}), sub(top, "top")]},
        headers={"Sforce-Auto-Assign": "FALSE"})
    assert store.leads[own]["OwnerId"] == owners[own]
    assert store.leads[top]["OwnerId"] != owners[top], "the top-level header is not inherited"


def check_sf_queue_task(w: World) -> None:
    queues = w.sf.query("SELECT Id, Name, Type FROM Group WHERE Type = 'Queue'")["records"]
    queue_ids = {q["Id"] for q in queues}
    assert queues and all(q["Id"].startswith("00G") for q in queues)
    owned = w.lead_ids(lambda lead: lead["OwnerId"] in queue_ids)
    assert owned, "some seeded leads are owned by a queue"
    task = {"attributes": {"type": "Task"}, "WhoId": owned[0], "Subject": "Follow up",
            "OwnerId": w.sb.store.leads[owned[0]]["OwnerId"]}
    [result] = w.collection([task], method="POST")
    assert codes(result) == ["FIELD_INTEGRITY_EXCEPTION"]
    assert result["errors"][0]["fields"] == ["OwnerId"]
    assert "Assigned To ID: id value of incorrect type: 00G" in result["errors"][0]["message"]
    with w.org(task_queues=True):
        [allowed] = w.collection([task], method="POST")
    assert allowed["success"] is True


def check_sf_inactive_owner(w: World) -> None:
    inactive = w.sf.query("SELECT Id FROM User WHERE IsActive = false")["records"]
    inactive_ids = {u["Id"] for u in inactive}
    owned = w.lead_ids(lambda lead: lead["OwnerId"] in inactive_ids)
    assert owned, "some seeded leads are owned by an inactive user"
    task = {"attributes": {"type": "Task"}, "WhoId": owned[0], "Subject": "Follow up",
            "OwnerId": w.sb.store.leads[owned[0]]["OwnerId"]}
    [result] = w.collection([task], method="POST")
    assert result["errors"] == [{"statusCode": "INACTIVE_OWNER_OR_USER",
                                 "message": "operation performed with inactive user",
                                 "fields": []}]


def check_sf_users(w: World) -> None:
    users = w.sf.query("SELECT Id, Name, IsActive, ManagerId FROM User")["records"]
    by_id = {u["Id"]: u for u in users}
    reps = [u for u in users if u["ManagerId"]]
    assert reps and all(by_id[u["ManagerId"]]["IsActive"] for u in reps)
    assert any(not u["IsActive"] for u in users)
    assert all(u["Name"] for u in users)


def check_sf_trigger_limit(w: World) -> None:
    ids = w.lead_ids(lambda _lead: True)[10:20]
    with w.org(trigger_batch_limit=5):
        big = w.collection([lead(i, SAL_Score__c=1) for i in ids],
                           headers={"Sforce-Auto-Assign": "FALSE"})
        small = w.collection([lead(i, SAL_Score__c=2) for i in ids[:5]],
                             headers={"Sforce-Auto-Assign": "FALSE"})
    assert all(codes(r) == ["CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"] for r in big)
    assert "System.LimitException" in big[0]["errors"][0]["message"]
    assert all(r["success"] for r in small)


def check_sf_late_leads(w: World) -> None:
    store = w.sb.store
    with w.org(lead_sync_delay_seconds=600):
        created = w.hs.crm.contacts.basic_api.create(simple_public_object_input_for_create={
            "properties": {"email": "late.lead@example.org", "lastname": "Late",
                           "lifecyclestage": MQL}})
        query = "SELECT Id, Email FROM Lead WHERE Email = 'late.lead@example.org'"
        w.sb.advance(599)
        assert w.sf.query(query)["totalSize"] == 0
        w.sb.advance(1)
        [row] = w.sf.query(query)["records"]
    props = store.contacts[created.id]["properties"]
    assert props["salesforceleadid"] == row["Id"]


def check_sf_late_visible(w: World) -> None:
    store = w.sb.store
    no_assign = {"Sforce-Auto-Assign": "FALSE"}
    with w.org(late_visible_share=0.5, late_visible_seconds=120):
        ids = w.lead_ids(lambda _lead: True)[20:50]
        earlier, later = ids[:20], ids[20:]
        w.collection([lead(i, SAL_Score__c=7) for i in earlier], headers=no_assign)
        since = store.leads[earlier[0]]["SystemModstamp"].replace("+0000", "Z")
        w.sb.advance(10)
        w.collection([lead(i, SAL_Score__c=8) for i in later], headers=no_assign)
        soql = f"SELECT Id FROM Lead WHERE SystemModstamp >= {since}"
        seen = {r["Id"] for r in w.sf.query_all(soql)["records"]}
        assert set(earlier) - seen and set(later) & seen, \
            "an earlier write is still invisible while a later one is read"
        w.sb.advance(121)
        assert set(ids) <= {r["Id"] for r in w.sf.query_all(soql)["records"]}


def check_sf_lead_history(w: World) -> None:
    lid = w.lead_ids(lambda lead: lead["Status"] == "MQL")[0]
    before = len(w.sb.store.lead_history)
    w.collection([lead(lid, Status="Working - Contacted")],
                 headers={"Sforce-Auto-Assign": "FALSE"})
    rows = w.sf.query(f"SELECT LeadId, Field, OldValue, NewValue, CreatedDate FROM LeadHistory "
                      f"WHERE LeadId = '{lid}'")["records"]
    assert [(r["Field"], r["OldValue"], r["NewValue"]) for r in rows] == [
        ("Status", "MQL", "Working - Contacted")]
    with w.org(history_tracked={}):
        w.collection([lead(lid, Status="MQL")], headers={"Sforce-Auto-Assign": "FALSE"})
    assert len(w.sb.store.lead_history) == before + 1


def check_sf_task_archive(w: World) -> None:
    old = [t for t in w.sb.store.tasks.values() if t["Subject"] == "Intro call"]
    assert old, "old leads carry long-closed tasks"
    soql = "SELECT Id, IsArchived, IsClosed FROM Task WHERE Subject = 'Intro call'"
    assert w.sf.query(soql)["totalSize"] == 0
    rows = w.sf.query_all(soql, include_deleted=True)["records"]
    assert len(rows) == len(old) and all(r["IsArchived"] and r["IsClosed"] for r in rows)


def check_sf_task_closed(w: World) -> None:
    lid = w.lead_ids(lambda lead: lead["OwnerId"] in w.sb.store.users
                     and w.sb.store.users[lead["OwnerId"]]["IsActive"])[0]
    [made] = w.collection([{"attributes": {"type": "Task"}, "WhoId": lid, "Subject": "Call",
                            "ActivityDate": "2026-01-20"}], method="POST")
    row = w.sf.query(f"SELECT IsClosed, CompletedDateTime FROM Task WHERE Id = '{made['id']}'")
    assert row["records"][0]["IsClosed"] is False and row["records"][0]["CompletedDateTime"] is None
    w.collection([{"attributes": {"type": "Task"}, "id": made["id"], "Status": "Completed"}])
    row = w.sf.query(f"SELECT IsClosed, CompletedDateTime FROM Task WHERE Id = '{made['id']}'")
    assert row["records"][0]["IsClosed"] is True and row["records"][0]["CompletedDateTime"]
    assert w.sb.store.leads[lid]["LastActivityDate"] >= "2026-01-20"


CHECKS: dict[str, Callable[[World], Any]] = {
    name.removeprefix("check_").replace("_", "-"): fn
    for name, fn in dict(globals()).items()
    if name.startswith("check_") and callable(fn)
}


def test_every_row_cites_a_source_and_has_a_check() -> None:
    rows = table_rows()
    assert len(rows) >= 25
    assert set(rows) == set(CHECKS), "docs/sandbox.md's table and the checks must match"
    for row_id, source in rows.items():
        assert re.search(r"\w+/[\w.-]+#\d+|reference|\.md|unverified|changelog|Help|"
                         r"[\w-]+/[\w-]+ `|fixture", source, re.IGNORECASE), row_id


@pytest.mark.parametrize("row_id", sorted(table_rows()))
def test_sandbox_answers_as_the_table_says(world: World, receiver: Any, row_id: str) -> None:
    world.receiver = receiver
    check_row(world, row_id)


def check_row(world: World, row_id: str) -> None:
    """Run the table row's check: each asserts what the sandbox answers for that row."""
    CHECKS[row_id](world)
