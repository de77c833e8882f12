"""The Salesforce source against the sandbox: lazy paging, SystemModstamp cursor, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import responses
from sf_kit import add_lead, client_secrets, no_sleep, options, sf_calls

from connectors.base import Cursor
from connectors.salesforce import build_source
from connectors.salesforce.schema import load_answers
from connectors.sandbox.faults import Faults
from connectors.sandbox.limits import SalesforceLimits
from sync_agent.errors import BudgetExhausted, RetriableError

T0 = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)


def source_for(sb, **opts):
    """A source whose org schema was read already (as an earlier run cached it); the
    sandbox's request counts start from zero after that."""
    opts.setdefault("query_batch_size", 200)
    source = build_source(options(sb, **opts), client_secrets(sb), sleep=no_sleep)
    load_answers(source.client, source.settings, source.state)
    with sb.store.lock:
        sb.store.counts.clear()
    return source


def seed_leads(sb, n, *, same_stamp=False, status="MQL"):
    """n leads, 1.5 s apart (or all in one millisecond); returns ids in modstamp order."""
    return [add_lead(sb.store, f"l{i}@example.com", status=status,
                     modstamp=T0 if same_stamp else T0 + timedelta(milliseconds=1500 * i))
            for i in range(n)]


def ids_of(pages):
    return [m.source_id for p in pages for m in p.mqls]


def test_reads_every_matching_lead_in_modstamp_order_with_one_call_per_page(sb):
    ids = seed_leads(sb, 450)
    seed_leads(sb, 5, status="Working - Contacted")
    pages = list(source_for(sb).read(Cursor()))
    assert ids_of(pages) == ids
    assert [len(p.mqls) for p in pages] == [200, 200, 50]
    assert sf_calls(sb.store, "GET query") == 1 and sf_calls(sb.store, "GET query/more") == 2


def test_pages_are_fetched_lazily(sb):
    seed_leads(sb, 450)
    first = next(iter(source_for(sb).read(Cursor())))
    assert len(first.mqls) == 200
    assert sf_calls(sb.store, "GET query/more") == 0


def test_maps_leads_to_canonical_fields_raw_prefix_and_crm_ids(sb):
    lid = add_lead(sb.store, "ada@example.com", modstamp=T0, NumberOfEmployees=250)
    [page] = list(source_for(sb).read(Cursor()))
    [mql] = page.mqls
    assert (mql.source, mql.source_id, mql.crm_ids) == ("salesforce", lid, {"salesforce": lid})
    assert mql.fields["email"] == "ada@example.com" and mql.fields["employees"] == 250
    assert mql.fields["salesforce.Company"] == "Analytical Engines"
    assert mql.modified_at == T0


def test_resuming_from_each_page_cursor_neither_skips_nor_repeats(sb):
    ids = seed_leads(sb, 450)
    source = source_for(sb)
    first = next(iter(source.read(Cursor())))
    rest = list(source.read(first.cursor))
    assert [m.source_id for m in first.mqls] + ids_of(rest) == ids


def test_thousands_sharing_one_modstamp_are_read_once_across_resumes(sb):
    ids = seed_leads(sb, 500, same_stamp=True)
    source = source_for(sb)
    seen: list[str] = []
    cursor = Cursor()
    for _ in range(10):  # stop after every page, as a crash would, and resume
        page = next(iter(source.read(cursor)), None)
        if page is None:
            break
        seen += [m.source_id for m in page.mqls]
        cursor = page.cursor
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    assert len(cursor.position["seen"]) == 500


def test_sub_second_cursor_drops_records_before_it(sb):
    ids = seed_leads(sb, 4)  # 0, 1.5, 3.0, 4.5 s after T0
    stamp = (T0 + timedelta(milliseconds=1500)).isoformat()
    pages = list(source_for(sb).read(Cursor({"modstamp": stamp, "seen_ids": [ids[1]]})))
    assert ids_of(pages) == ids[2:]


def test_until_bounds_a_backfill_window(sb):
    ids = seed_leads(sb, 10)
    until = T0 + timedelta(milliseconds=1500 * 4)
    pages = list(source_for(sb).read(Cursor(), until_ms=int(until.timestamp() * 1000)))
    assert ids_of(pages) == ids[:4]


def test_source_condition_is_configurable(sb):
    seed_leads(sb, 3)
    working = seed_leads(sb, 2, status="Working - Contacted")
    pages = list(source_for(sb, source_condition="Status = 'Working - Contacted'").read(Cursor()))
    assert ids_of(pages) == working


def test_record_without_modstamp_is_reported_malformed_not_raised(sb):
    good = add_lead(sb.store, "ok@example.com", modstamp=T0)
    bad = add_lead(sb.store, "bad@example.com", modstamp=T0)
    sb.store.leads[bad]["SystemModstamp"] = None
    pages = list(source_for(sb).read(Cursor()))
    assert ids_of(pages) == [good]
    assert [m for p in pages for m in p.malformed] == [(bad, "record has no valid SystemModstamp")]


def test_malformed_page_raises_and_the_last_cursor_covers_only_what_was_read(sb):
    ids = seed_leads(sb, 450)
    source = source_for(sb, max_attempts=1)
    pages = source.read(Cursor())
    first = next(pages)
    sb.store.salesforce_emulator.inject("truncated")
    with pytest.raises(RetriableError):
        next(pages)
    assert ids_of(source.read(first.cursor)) == ids[200:]


def test_session_expiry_mid_paging_relogs_and_keeps_reading(make_sandbox):
    sb = make_sandbox(faults=Faults(session_expiry_every=2))
    ids = seed_leads(sb, 450)
    assert ids_of(source_for(sb).read(Cursor())) == ids
    assert sf_calls(sb.store, "POST oauth2/token") >= 2


def test_budget_stops_between_pages(make_sandbox):
    sb = make_sandbox(salesforce_limits=SalesforceLimits(daily_api_max=10))
    seed_leads(sb, 600)
    source = source_for(sb, daily_max_share=0.5)
    sb.store.api_usage["sf_api_used"] = 3
    read: list[str] = []
    with pytest.raises(BudgetExhausted):
        for page in source.read(Cursor()):
            read += [m.source_id for m in page.mqls]
    assert len(read) == 400  # pages at used=4 and 5 were fetched; the 3rd would pass 50 %


INSTANCE = "https://acme.my.salesforce.test"
QUERY_URL = f"{INSTANCE}/services/data/v62.0/query/"


def unit_source():
    from connectors.salesforce import SalesforceClient, SalesforceSettings, SalesforceSource

    settings = SalesforceSettings.from_options({"instance_url": INSTANCE, "max_attempts": 1})
    client = SalesforceClient(settings, {"SALESFORCE_SESSION_ID": "00D!x"}, sleep=no_sleep)
    return SalesforceSource(settings, client)


@responses.activate
def test_mistyped_records_become_malformed_entries_not_crashes():
    responses.add(responses.GET, QUERY_URL, json={"totalSize": 3, "done": True, "records": [
        {"attributes": {"type": "Lead"}, "Id": None,
         "SystemModstamp": "2026-01-10T08:00:00.000+0000"},
        {"attributes": {"type": "Lead"}, "Id": "00Q5g0000000009EAA", "SystemModstamp": 5},
        {"attributes": {"type": "Lead"}, "Id": "00Q5g0000000010EAA",
         "SystemModstamp": "2026-01-10T08:00:01.000+0000", "NumberOfEmployees": "lots"},
    ]})
    [page] = list(unit_source().read(Cursor()))
    assert [m.source_id for m in page.mqls] == ["00Q5g0000000010EAA"]
    assert page.mqls[0].fields["employees"] == "lots"  # kept as sent: the rules record it
    assert sorted(page.malformed) == [("00Q5g0000000009EAA", "record has no valid SystemModstamp"),
                                      ("?", "record has no id")]


@responses.activate
@pytest.mark.parametrize("answer", [
    {"totalSize": 1, "done": False, "records": []},  # not done, no nextRecordsUrl
    {"totalSize": 1, "done": "yes", "records": []},
    {"totalSize": 1, "done": True, "records": ["not an object"]},
    ["not", "a", "page"],
])
def test_malformed_pages_raise_retriable_errors_before_any_page_is_yielded(answer):
    responses.add(responses.GET, QUERY_URL, json=answer)
    with pytest.raises(RetriableError):
        list(unit_source().read(Cursor({"modstamp": "2026-01-10T08:00:00.000+00:00"})))


@responses.activate
def test_html_error_page_is_retriable_with_status():
    responses.add(responses.GET, QUERY_URL, body="<html>502 Bad Gateway</html>", status=502,
                  content_type="text/html", headers={"X-Request-Id": "abc-123"})
    with pytest.raises(RetriableError) as info:
        list(unit_source().read(Cursor()))
    assert info.value.status == 502 and info.value.correlation_id == "abc-123"


def test_records_that_become_visible_late_are_read_once_within_the_lookback(sb) -> None:
    """Some writes reach SOQL only after later ones were read (airbyte#27146,
    tap-salesforce#135): the source re-reads a lookback window and drops what it read."""
    now = sb.now()
    sb.org.late_visible_share = 0.3
    sb.org.late_visible_seconds = 120
    leads = [add_lead(sb.store, f"late{i}@example.com",
                      modstamp=now - timedelta(seconds=60) + timedelta(milliseconds=700 * i))
             for i in range(40)]  # fmt: skip
    src = source_for(sb, lookback_seconds=600)
    first = list(src.read(Cursor()))
    seen = [m.source_id for page in first for m in page.mqls]
    assert 0 < len(seen) < len(leads), "some leads are not visible yet"
    sb.advance(seconds=300)  # now every write is visible
    cursor = first[-1].cursor
    second = [m.source_id for page in src.read(cursor) for m in page.mqls]
    assert sorted(seen + second) == sorted(leads), "every lead read, none twice"
    again = [m.source_id for page in src.read(list(src.read(cursor))[-1].cursor) for m in page.mqls]
    assert again == []
