"""Search answers of the wrong shape: errors with correlation ids, or malformed records."""

from __future__ import annotations

import pytest

from connectors.base import Cursor
from connectors.hubspot import check_connection
from connectors.hubspot.client import Response
from connectors.hubspot.errors import UnexpectedResponse
from connectors.hubspot.keyset import Position
from connectors.hubspot.source import HubSpotSource, parse_result
from connectors.sandbox import Sandbox

from .conftest import connect

HEADERS = {"X-HubSpot-Correlation-Id": "h-7"}


@pytest.mark.parametrize("body", [
    [], {"total": 3}, {"results": {}}, {"results": [], "total": "many"},
    {"results": [], "paging": {"next": {"after": "ten"}}},
])
def test_answers_missing_or_mistyping_fields_are_unexpected(body):
    with pytest.raises(UnexpectedResponse) as caught:
        parse_result(Response(200, body, HEADERS), "lastmodifieddate")
    assert caught.value.correlation_id == "h-7"


def test_paging_and_records_are_read():
    body = {"total": 2, "paging": {"next": {"after": "200"}}, "results": [
        {"id": "1", "properties": {"lastmodifieddate": "2026-01-15T10:30:00.000Z"}},
        {"id": "2", "properties": {"lastmodifieddate": "1768473000000"}}]}
    result = parse_result(Response(200, body, {}), "lastmodifieddate")
    assert (result.total, result.next_after) == (2, 200)
    assert [h.ms for h in result.hits] == [1768473000000, 1768473000000]


def test_records_that_cannot_be_mqls_go_to_malformed(small_sandbox, clock):
    source, _ = connect(small_sandbox, clock)
    body = {"results": ["junk", {"properties": {}}, {"id": "5", "properties": "oops"},
                        {"id": "6", "properties": {"email": "a@example.com"}}]}
    hits = parse_result(Response(200, body, {}), "lastmodifieddate").hits
    page = HubSpotSource._page(source, hits, Position())
    assert [m.source_id for m in page.mqls] == ["6"]
    assert page.malformed == [("?", "record has no id"), ("?", "record has no id"),
                              ("5", "properties is str, not an object")]
    assert page.cursor == Cursor()


def test_check_connection_reports_each_step(small_sandbox):
    info = small_sandbox.info()
    ok = check_connection({"base_url": info["hubspot_url"]},
                          {"HUBSPOT_ACCESS_TOKEN": info["hubspot_token"]})
    assert [(what, good) for what, good, _ in ok] == [
        ("hubspot settings", True), ("hubspot contacts search", True),
        ("hubspot SAL properties", True), ("hubspot daily budget", True)]
    bad = check_connection({"base_url": info["hubspot_url"]}, {"HUBSPOT_ACCESS_TOKEN": "nope"})
    assert bad[1][:2] == ("hubspot contacts search", False) and "401" in bad[1][2]
    missing = check_connection({"page_size": 999}, {})
    assert missing[0][1] is False


def test_a_fresh_portal_reports_missing_properties():
    with Sandbox(contacts=5, seed=2) as sb:
        info = sb.info()
        checks = dict((w, (g, d)) for w, g, d in check_connection(
            {"base_url": info["hubspot_url"]}, {"HUBSPOT_ACCESS_TOKEN": info["hubspot_token"]}))
        good, detail = checks["hubspot SAL properties"]
        assert not good and "setup-properties" in detail
