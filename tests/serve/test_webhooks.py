"""``serve`` hands off an MQL within seconds of the sandbox's webhook, once, across restarts."""

from __future__ import annotations

import json
import time

import requests
from hubspot.utils.signature import Signature
from serve_kit import (
    APP_SECRET,
    handed_off,
    leads_with_a_salesforce_lead,
    make_mql,
    sandbox_config,
    wait_for,
)

from sync_agent.audit import AuditLog


def signed_post(url: str, events: list[dict], secret: str = APP_SECRET) -> requests.Response:
    """POST events as HubSpot does, signed by the HubSpot SDK's own v3 code."""
    body = json.dumps(events)
    stamp = str(int(time.time() * 1000))
    signature = Signature.get_signature(secret, body, "v3", http_uri=url, http_method="POST",
                                        timestamp=stamp)
    return requests.post(url, data=body.encode(), timeout=30, headers={
        "Content-Type": "application/json", "X-HubSpot-Request-Timestamp": stamp,
        "X-HubSpot-Signature-v3": signature})


def stage_event(event_id: int, contact_id: str) -> dict:
    return {"eventId": event_id, "subscriptionId": 2_000_001, "portalId": 62515, "appId": 1,
            "occurredAt": int(time.time() * 1000), "subscriptionType": "contact.propertyChange",
            "attemptNumber": 0, "objectId": int(contact_id), "propertyName": "lifecyclestage",
            "propertyValue": "marketingqualifiedlead", "changeSource": "INTEGRATION"}


def test_an_mql_is_handed_off_within_seconds_of_its_webhook(sandbox, tmp_path, make_agent):
    config = sandbox_config(sandbox, tmp_path)
    agent = make_agent(config, sandbox)
    with AuditLog.open(config.audit_db) as log:
        cursor_before = log.get_cursor("hubspot-mqls")
    contacts = leads_with_a_salesforce_lead(sandbox, 3)
    for contact in contacts:
        make_mql(sandbox, contact)
    for contact in contacts:  # no scheduled run comes for an hour: only the webhook can do it
        wait_for(lambda c=contact: handed_off(sandbox, c), what=f"contact {contact} handed off")
    wait_for(agent.idle)
    with AuditLog.open(config.audit_db) as log:
        runs = log.runs("hubspot-mqls", limit=50)
        decided = log.rows("SELECT source_id FROM decisions d JOIN runs r ON r.id = d.run_id "
                           "WHERE r.mode = 'webhook'")
        assert log.get_cursor("hubspot-mqls") == cursor_before, "webhook runs move no cursor"
        events = log.rows("SELECT processed_at FROM webhook_events")
    assert {r["mode"] for r in runs} == {"run", "webhook"}
    assert all(r["outcome"] == "ok" for r in runs)
    assert sorted(r["source_id"] for r in decided) == sorted(contacts)
    assert events and all(e["processed_at"] for e in events)
    # each handoff was written once: one note per accepted contact, one SF status
    notes = [n for n in sandbox.state()["notes"]
             if n["properties"].get("sal_handoff_key", "").startswith("hubspot:")]
    keys = [n["properties"]["sal_handoff_key"] for n in notes]
    assert len(keys) == len(set(keys))


def test_a_redelivered_event_is_dropped_even_after_a_restart(sandbox, tmp_path, make_agent):
    config = sandbox_config(sandbox, tmp_path)
    first = make_agent(config)
    [contact] = leads_with_a_salesforce_lead(sandbox, 1)
    url = first.url + "/webhooks/hubspot"
    assert signed_post(url, [stage_event(1, contact)]).json()["accepted"] == 1
    wait_for(first.idle)
    first.stop()
    second = make_agent(config, first_run=False)
    url = second.url + "/webhooks/hubspot"
    again = signed_post(url, [stage_event(1, contact), stage_event(1, contact)])
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicate": 2, "ignored": 0}
    wait_for(second.idle)
    with AuditLog.open(config.audit_db) as log:
        webhook_runs = log.rows("SELECT id FROM runs WHERE mode = 'webhook'")
    assert len(webhook_runs) == 1
    metrics = requests.get(second.url + "/metrics", timeout=30).text
    assert 'sync_agent_webhook_events_total{result="duplicate",source="hubspot"} 2.0' in metrics


def test_events_received_but_not_read_before_a_stop_are_read_at_the_next_start(
        sandbox, tmp_path, make_agent):
    config = sandbox_config(sandbox, tmp_path)
    [contact] = leads_with_a_salesforce_lead(sandbox, 1)
    make_mql(sandbox, contact)  # no agent listens yet: the sandbox drops the event
    with AuditLog.open(config.audit_db) as log:  # as if received, then the process died
        from datetime import UTC, datetime

        log.record_webhook_events("hubspot", [("77", contact, "contact.propertyChange", None,
                                               True)], datetime.now(UTC))
    agent = make_agent(config, first_run=False)
    wait_for(lambda: handed_off(sandbox, contact), what="the backlog read at start")
    wait_for(agent.idle)
    with AuditLog.open(config.audit_db) as log:
        assert log.open_webhook_events("hubspot") == []


def test_events_that_cannot_make_an_mql_are_acknowledged_not_read(sandbox, tmp_path,
                                                                   make_agent):
    config = sandbox_config(sandbox, tmp_path)
    agent = make_agent(config)
    deletion = {**stage_event(5, "1"), "subscriptionType": "contact.deletion"}
    answer = signed_post(agent.url + "/webhooks/hubspot", [deletion])
    assert answer.status_code == 202 and answer.json() == {"accepted": 0, "duplicate": 0,
                                                           "ignored": 1}
    wait_for(agent.idle)
    with AuditLog.open(config.audit_db) as log:
        assert log.rows("SELECT id FROM runs WHERE mode = 'webhook'") == []
