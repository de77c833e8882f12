"""Seeded data: deterministic for a seed, and varied enough to exercise every path."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.sandbox import SandboxStore, seed_store

ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
HS_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SF_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
N = 4000


def _seeded(seed: int = 5, mql_share: float = 0.6) -> SandboxStore:
    store = SandboxStore()
    seed_store(store, N, seed=seed, mql_share=mql_share, anchor=ANCHOR)
    return store


@pytest.fixture(scope="module")
def store() -> SandboxStore:
    return _seeded()


def _mqls(store: SandboxStore) -> list[dict[str, Any]]:
    return [c["properties"] for c in store.contacts.values()
            if c["properties"]["lifecyclestage"] == "marketingqualifiedlead"]


def _sf_id_ok(sf_id: str) -> bool:
    """Salesforce's 18-char id: 3 checksum letters encode the upper-case positions."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(sf_id[start:start + 5]) if ch.isupper())
        suffix += alphabet[bits]
    return len(sf_id) == 18 and sf_id[15:] == suffix


def test_same_seed_same_data_other_seed_other_data(store: SandboxStore) -> None:
    again = _seeded()
    assert {**again.snapshot(), "now": None} == {**store.snapshot(), "now": None}
    other = _seeded(seed=6)
    assert [c["properties"]["email"] for c in other.contacts.values()] != [
        c["properties"]["email"] for c in store.contacts.values()]


def test_mql_share_is_honoured(store: SandboxStore) -> None:
    assert abs(len(_mqls(store)) / N - 0.6) < 0.04
    few = SandboxStore()
    seed_store(few, 1000, seed=1, mql_share=0.1, anchor=ANCHOR)
    assert abs(len(_mqls(few)) / 1000 - 0.1) < 0.04


def test_property_values_are_strings_or_none_with_hubspot_timestamps(store: SandboxStore) -> None:
    for contact in store.contacts.values():
        props = contact["properties"]
        assert all(v is None or isinstance(v, str) for v in props.values())
        assert HS_TIME.match(props["createdate"]) and HS_TIME.match(props["lastmodifieddate"])
        assert props["createdate"] <= props["lastmodifieddate"] <= "2026-06-01T00:00:00.000Z"
        assert props["hs_object_id"] == contact["id"]
        assert contact["updatedAt"] == props["lastmodifieddate"]


def test_dates_spread_over_more_than_a_year(store: SandboxStore) -> None:
    created = sorted(c["properties"]["createdate"] for c in store.contacts.values())
    first = datetime.fromisoformat(created[0].replace("Z", "+00:00"))
    assert (ANCHOR - first).days > 365


def test_bulk_imports_leave_large_groups_on_one_timestamp(store: SandboxStore) -> None:
    stamps = Counter(c["properties"]["lastmodifieddate"] for c in store.contacts.values())
    sizes = [n for _stamp, n in stamps.most_common(3)]
    assert sizes[0] > 0.15 * N
    assert sizes[1] > 0.03 * N
    assert len(stamps) > 0.5 * N, "outside the bulk groups, timestamps are spread"


def test_contact_variety(store: SandboxStore) -> None:
    emails = [c["properties"]["email"] for c in store.contacts.values()]
    assert len(set(emails)) == len(emails), "HubSpot emails are unique"
    domains = Counter(e.split("@")[1] for e in emails)
    free = sum(n for d, n in domains.items() if d in ("gmail.com", "yahoo.com", "outlook.com",
                                                      "hotmail.com", "icloud.com", "gmx.de"))
    assert 0.1 < free / N < 0.4
    assert any(d.endswith(".edu") for d in domains)
    assert "rivalsoft.com" in domains
    props = [c["properties"] for c in store.contacts.values()]
    assert any(p["company"] is None for p in props)
    assert len({p["jobtitle"] for p in props}) >= 10
    assert len({p["country"] for p in props}) >= 8
    assert len({p["industry"] for p in props}) >= 8


def test_mqls_vary_in_fit_and_intent(store: SandboxStore) -> None:
    mqls = _mqls(store)
    scores = [int(p["hubspotscore"]) for p in mqls]
    assert min(scores) < 40 and max(scores) > 90
    demo = sum(p["demo_requested"] == "true" for p in mqls) / len(mqls)
    trial = sum(p["trial_started"] == "true" for p in mqls) / len(mqls)
    webinar = sum(p["webinar_attended_date"] is not None for p in mqls) / len(mqls)
    assert 0.1 < demo < 0.4 and 0.05 < trial < 0.3 and 0.1 < webinar < 0.5
    assert all(p["hs_lifecyclestage_marketingqualifiedlead_date"] for p in mqls)
    sizes = {p["numemployees"] for p in mqls}
    assert len(sizes) >= 8


def test_leads_match_most_mqls_with_the_documented_gaps(store: SandboxStore) -> None:
    by_email: dict[str, list[dict[str, Any]]] = {}
    for lead in store.leads.values():
        by_email.setdefault(lead["Email"], []).append(lead)
    mqls = _mqls(store)
    with_lead = [p for p in mqls if p["email"] in by_email]
    assert 0.8 < len(with_lead) / len(mqls) < 0.97, "most MQLs have a lead, some none"
    unlinked = [p for p in with_lead if not p["salesforceleadid"]]
    assert 0.05 < len(unlinked) / len(with_lead) < 0.3, "some must be matched by email"
    duplicated = [e for e, leads in by_email.items() if len(leads) > 1]
    assert len(duplicated) > 0.01 * len(with_lead)
    converted = [lead for lead in store.leads.values() if lead["IsConverted"]]
    assert converted and all(lead["Status"] == "Closed - Converted" for lead in converted)
    assert any(lead["IsDeleted"] for lead in store.leads.values())
    for props in with_lead:
        if props["salesforceleadid"]:
            assert store.leads[props["salesforceleadid"]]["Email"] == props["email"]
    statuses = Counter(lead["Status"] for lead in store.leads.values())
    assert statuses["MQL"] > 0.5 * len(with_lead)


def test_lead_records_look_like_salesforce(store: SandboxStore) -> None:
    picklist = {s["ApiName"] for s in store.lead_statuses}
    for lead_id, lead in store.leads.items():
        assert lead_id == lead["Id"] and lead_id.startswith("00Q") and _sf_id_ok(lead_id)
        assert lead["Company"] and lead["LastName"]
        assert SF_TIME.match(lead["SystemModstamp"]) and SF_TIME.match(lead["CreatedDate"])
        assert lead["CreatedDate"] <= lead["SystemModstamp"]
        assert lead["Status"] in picklist
        owner = lead["OwnerId"]
        assert (owner in store.users or owner in store.groups) and _sf_id_ok(owner)
        assert lead["NumberOfEmployees"] is None or isinstance(lead["NumberOfEmployees"], int)
        assert lead["SAL_Score__c"] is None
