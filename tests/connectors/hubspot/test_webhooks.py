"""HubSpot webhooks: the v3 signature as HubSpot documents it, agreeing with the HubSpot SDK
and with the sandbox's signer; events parsed only after the signature; contacts read by id
with the MQL filter applied as search applies it."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hubspot.utils.signature import Signature

from connectors.base import WebhookRequest
from connectors.hubspot.filters import matches
from connectors.hubspot.webhooks import parse_events, signature_v3, signed_uri, verify
from connectors.sandbox import Sandbox
from connectors.sandbox.webhooks import sign_v3
from sync_agent.errors import WebhookRefused
from sync_agent.rules.reading import PropertyType

from .conftest import FakeClock, connect

SECRET = "client-secret-9d1e"
URL = "https://agent.example.com/webhooks/hubspot"
BODY = [{"eventId": 1, "subscriptionType": "contact.propertyChange", "objectId": 101,
         "propertyName": "lifecyclestage", "occurredAt": 1_764_000_000_000}]


def request(body: bytes, *, uri: str = URL, secret: str = SECRET, age_ms: int = 0,
            sign_uri: str | None = None, now: float = 1_800_000_000.0) -> WebhookRequest:
    stamp = str(int(now * 1000) - age_ms)
    signature = signature_v3(secret, "POST", sign_uri or uri, body, stamp)
    return WebhookRequest("POST", uri, {"x-hubspot-signature-v3": signature,
                                        "x-hubspot-request-timestamp": stamp}, body, now)


def test_the_signature_is_the_sdks() -> None:
    body = json.dumps(BODY)
    stamp = "1800000000000"
    assert signature_v3(SECRET, "POST", URL, body.encode(), stamp) == Signature.get_signature(
        SECRET, body, "v3", http_uri=URL, http_method="POST", timestamp=stamp)


def test_documented_percent_encodings_are_decoded_before_hashing_others_are_not() -> None:
    encoded = "https://a.example.com/hooks%2Fhubspot?app=1%3A2&x=%28y%29&name=a%20b"
    assert signed_uri(encoded) == "https://a.example.com/hooks/hubspot?app=1:2&x=(y)&name=a%20b"
    body = json.dumps(BODY)
    stamp = str(int(time.time() * 1000))
    # the sandbox signs the URI HubSpot's way: the SDK agrees once it is given the decoded URI
    sent = sign_v3(SECRET, "POST", encoded, body, stamp)
    assert Signature.is_valid(sent, SECRET, body, http_uri=signed_uri(encoded),
                              signature_version="v3", timestamp=stamp)
    events = verify(WebhookRequest("POST", encoded, {"x-hubspot-signature-v3": sent,
                                                     "x-hubspot-request-timestamp": stamp},
                                   body.encode(), time.time()), SECRET)
    assert [e.record_id for e in events] == ["101"]


def test_a_signed_fresh_request_gives_its_events() -> None:
    body = json.dumps([*BODY, {"eventId": 2, "subscriptionType": "contact.deletion",
                               "objectId": "102"}]).encode()
    first, second = verify(request(body), SECRET)
    assert (first.event_id, first.record_id, first.kind, first.relevant) == (
        "1", "101", "contact.propertyChange", True)
    assert first.occurred_at_ms == 1_764_000_000_000
    assert (second.record_id, second.relevant) == ("102", False)


@pytest.mark.parametrize(("build", "reason"), [
    (lambda b: request(b, secret="someone else's"), "signature"),
    (lambda b: request(b, sign_uri="https://agent.example.com/other"), "signature"),
    (lambda b: request(b, age_ms=5 * 60 * 1000 + 1), "stale"),
    (lambda b: request(b, age_ms=-(5 * 60 * 1000 + 1)), "stale"),
], ids=["other secret", "other URI", "older than 5 minutes", "5 minutes ahead"])
def test_refused(build: Any, reason: str) -> None:
    with pytest.raises(WebhookRefused) as refused:
        verify(build(json.dumps(BODY).encode()), SECRET)
    assert (refused.value.status, refused.value.reason) == (401, reason)
    assert SECRET not in str(refused.value)


def test_just_under_five_minutes_is_still_fresh() -> None:
    assert verify(request(json.dumps(BODY).encode(), age_ms=5 * 60 * 1000 - 1), SECRET)


@pytest.mark.parametrize("headers", [{}, {"x-hubspot-signature-v3": "abc"},
                                     {"x-hubspot-request-timestamp": "1"},
                                     {"x-hubspot-signature-v3": "é",
                                      "x-hubspot-request-timestamp": "１２"}])
def test_missing_or_odd_headers_are_401(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRefused) as refused:
        verify(WebhookRequest("POST", URL, headers, b"[]", time.time()), SECRET)
    assert refused.value.status == 401


@pytest.mark.parametrize("body", [b"", b"{", b'{"eventId": 1}', b"[1]", b'[{"eventId": 1}]',
                                  b'[{"eventId": true, "objectId": 1, "subscriptionType": "x"}]',
                                  b"[" * 100_000, "[\"\udcff\"]".encode("utf-8", "surrogatepass")])
def test_a_signed_body_that_is_not_events_is_400(body: bytes) -> None:
    with pytest.raises(WebhookRefused) as refused:
        parse_events(body)
    assert (refused.value.status, refused.value.reason) == (400, "malformed")


DATE = PropertyType("hs_v2_date_entered_marketingqualifiedlead", "datetime")


@pytest.mark.parametrize(("props", "filters", "expected"), [
    ({"lifecyclestage": "marketingqualifiedlead"},
     [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "MarketingQualifiedLead"}],
     True),
    ({"lifecyclestage": "salesqualifiedlead"},
     [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"}],
     False),
    ({}, [{"propertyName": "sal_status", "operator": "NOT_HAS_PROPERTY"}], True),
    ({"sal_status": ""}, [{"propertyName": "sal_status", "operator": "NOT_HAS_PROPERTY"}], True),
    ({"sal_status": "accepted"},
     [{"propertyName": "sal_status", "operator": "NOT_HAS_PROPERTY"}], False),
    ({"score": "9"}, [{"propertyName": "score", "operator": "GT", "value": "10"}], False),
    ({"score": "90"}, [{"propertyName": "score", "operator": "GTE", "value": 10}], True),
    ({}, [{"propertyName": "score", "operator": "NEQ", "value": 10}], True),
    ({}, [{"propertyName": "score", "operator": "LT", "value": 10}], False),
    ({"country": "DE"}, [{"propertyName": "country", "operator": "IN", "values": ["de", "fr"]}],
     True),
    ({}, [{"propertyName": "country", "operator": "NOT_IN", "values": ["de"]}], True),
    ({"score": "5"}, [{"propertyName": "score", "operator": "BETWEEN", "value": 1,
                       "highValue": 5}], True),
    ({"jobtitle": "Head of IT"},
     [{"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "it"}], True),
    ({"jobtitle": "Digital"},
     [{"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "it"}], False),
    ({"jobtitle": "Digital"},
     [{"propertyName": "jobtitle", "operator": "CONTAINS_TOKEN", "value": "dig*"}], True),
    ({DATE.name: "2026-01-02T00:00:00Z"},
     [{"propertyName": DATE.name, "operator": "GTE", "value": "1767225600000"}], True),
])
def test_the_mql_filter_as_search_applies_it(props: dict[str, Any], filters: list[Any],
                                            expected: bool) -> None:
    assert matches(props, filters, {DATE.name: DATE}) is expected


def test_read_ids_gives_the_mqls_among_the_ids_by_batch_read() -> None:
    clock = FakeClock()
    with Sandbox(contacts=60, seed=4, mql_share=0.5, clock=clock.dt) as sb:
        source, _ = connect(sb, clock)
        contacts = sb.store.contacts
        mqls = [c for c in contacts if contacts[c]["properties"]["lifecyclestage"]
                == "marketingqualifiedlead"][:3]
        others = [c for c in contacts if contacts[c]["properties"]["lifecyclestage"]
                  != "marketingqualifiedlead"][:2]
        pages = list(source.read_ids([*mqls, *others, "999999", mqls[0]]))
        got = [m.source_id for p in pages for m in p.mqls]
        assert sorted(got) == sorted(mqls)
        assert all(m.crm_ids["hubspot"] == m.source_id for p in pages for m in p.mqls)
        endpoints = {r["endpoint"] for r in sb.state(include_records=False)["requests"]}
        assert "contacts.batch_read" in endpoints and "contacts.search" not in endpoints
