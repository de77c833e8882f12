"""The sandbox's webhook sender beyond the vendor table: never blocking, gives up, reps.

The documented body, signature, batching and retry rules are rows of docs/sandbox.md's
vendor table, checked in test_vendor_catalog.py. Here: deliveries never block the API,
an unreachable target is retried then dropped within 24 (scaled) hours, reps' changes are
sent too, and the ``/_sandbox/webhooks`` routes work. A local receiver (conftest) checks
every signature with the real SDK; delays are scaled down and ``flush()`` sends what
waits, so nothing sleeps for real and nothing asserts on wall time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hubspot import HubSpot

from connectors.sandbox import Sandbox, WebhookConfig

MQL = "marketingqualifiedlead"
Receiver = Any  # conftest.Receiver (the ``receiver`` fixture)
EVENT_KEYS = {"eventId", "subscriptionId", "portalId", "appId", "occurredAt",
              "subscriptionType", "attemptNumber", "objectId", "changeSource", "sourceId"}


@pytest.fixture
def sandbox(receiver: Receiver) -> Iterator[Sandbox]:
    config = WebhookConfig(target_url=receiver.url, client_secret=receiver.secret, app_id=777,
                           portal_id=4242, time_scale=1e-5, seed=1)
    with Sandbox(contacts=150, seed=17, mql_share=0.3, webhooks=config) as sb:
        yield sb


def client(sb: Sandbox) -> HubSpot:
    return HubSpot(access_token=sb.info()["hubspot_token"], host=sb.info()["hubspot_url"])


def leads(sb: Sandbox, n: int) -> list[str]:
    return [cid for cid, c in sb.store.contacts.items()
            if c["properties"]["lifecyclestage"] == "lead"][:n]


def test_the_api_answers_while_a_delivery_hangs(sandbox: Sandbox, receiver: Receiver) -> None:
    receiver.gate.clear()
    hs = client(sandbox)
    first, second = leads(sandbox, 2)
    hs.crm.contacts.basic_api.update(first, simple_public_object_input={
        "properties": {"lifecyclestage": MQL}})
    # the delivery of the first change is stuck in the receiver; the API still answers
    got = hs.crm.contacts.basic_api.update(second, simple_public_object_input={
        "properties": {"lifecyclestage": MQL}})
    assert got.properties["lifecyclestage"] == MQL
    assert sandbox.state(include_records=False)["webhooks"]["delivered"] == 0
    receiver.gate.set()
    assert sandbox.webhooks.flush()
    assert sandbox.state(include_records=False)["webhooks"]["delivered"] == 2


def test_an_unreachable_target_is_tried_eleven_times_then_dropped(sandbox: Sandbox) -> None:
    sandbox.webhooks.configure(target_url="http://127.0.0.1:9/nobody-listens")
    client(sandbox).crm.contacts.basic_api.update(leads(sandbox, 1)[0],
                                                  simple_public_object_input={
        "properties": {"lifecyclestage": MQL}})
    assert sandbox.webhooks.flush()
    log = sandbox.state()["webhooks"]["deliveries"]
    assert [d["attempt"] for d in log] == list(range(11))
    assert all(d["error"] for d in log) and log[-1]["outcome"] == "dropped"
    assert sum(d["retry_in"] for d in log[:-1]) < 24 * 3600 * 1e-5, "within 24 h, scaled"


def test_reps_changes_are_sent_too(sandbox: Sandbox, receiver: Receiver) -> None:
    hs = client(sandbox)
    hs.crm.properties.core_api.create(object_type="contacts", property_create={
        "name": "sal_status", "label": "SAL status", "type": "enumeration",
        "fieldType": "select", "groupName": "contactinformation",
        "options": [{"label": "accepted", "value": "accepted"}]})
    mqls = [c for c, contact in sandbox.store.contacts.items()
            if contact["properties"]["lifecyclestage"] == MQL][:6]
    hs.crm.contacts.batch_api.update(batch_input_simple_public_object_batch_input={
        "inputs": [{"id": cid, "properties": {"sal_status": "accepted"}} for cid in mqls]})
    sandbox.advance(days=5)
    assert sandbox.webhooks.flush()
    touched = {int(h["contact_id"]) for h in sandbox.state()["team"]["handoffs"]
               if h["first_touch_at"]}
    by_reps = [e for e in receiver.events() if e["changeSource"] == "CRM_UI"]
    assert touched and {e["objectId"] for e in by_reps} <= touched
    first = {}
    for event in sorted(by_reps, key=lambda e: e["occurredAt"]):
        first.setdefault(event["objectId"], event["propertyValue"])
    qualified = {int(h["contact_id"]) for h in sandbox.state()["team"]["handoffs"]
                 if h["first_touch_at"] and h["outcome"] in ("converted", "working")}
    assert qualified, "some leads are qualified at the first touch"
    assert qualified <= set(first), "each lifecycle change by a rep is sent"
    assert {first[c] for c in qualified} == {"salesqualifiedlead"}, \
        "the first touch moves a lead the rep qualifies to SQL"
    assert "salesqualifiedlead" not in {v for c, v in first.items() if c not in qualified}
    assert all(e["sourceId"].startswith("userId:") for e in by_reps)


def test_configured_and_flushed_over_http(sandbox: Sandbox, receiver: Receiver) -> None:
    base = sandbox.info()["hubspot_url"] + "/_sandbox/webhooks"
    answer = requests.post(base, json={"app_id": 9, "client_secret": receiver.secret},
                           timeout=10)
    assert answer.status_code == 200 and answer.json()["config"]["app_id"] == 9
    assert answer.json()["config"]["client_secret"] == "***"
    assert requests.post(base, json={"nope": 1}, timeout=10).status_code == 400
    client(sandbox).crm.contacts.basic_api.update(leads(sandbox, 1)[0],
                                                  simple_public_object_input={
        "properties": {"lifecyclestage": MQL}})
    flushed = requests.post(base + "/flush", json={}, timeout=10).json()
    assert flushed["flushed"] and flushed["delivered"] == 1
    assert receiver.events()[0]["appId"] == 9
    assert requests.get(base, timeout=10).json()["deliveries"][0]["outcome"] == "delivered"
