"""The HubSpot source against the sandbox over real HTTP (real SDK, real search emulator)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest

from connectors.base import Cursor
from connectors.hubspot.errors import MalformedResponse
from connectors.sandbox import Faults, Sandbox, hs_time
from sync_agent.errors import RetriableError

from .conftest import FakeClock, calls, connect

BIG = 25_000


@pytest.fixture(scope="module")
def big() -> Iterator[tuple[Sandbox, FakeClock]]:
    """25,000 MQLs; 45 % share ONE timestamp (more than a 10,000 slice), 5 % another."""
    clock = FakeClock()
    with Sandbox(contacts=BIG, seed=3, mql_share=1.0, clock=clock.dt,
                 seed_options={"bulk_groups": (0.45, 0.05)}) as sb:
        yield sb, clock


def test_reads_25000_mqls_across_the_cap_exactly_once_with_few_calls(big):
    sb, clock = big
    source, _ = connect(sb, clock)
    before = calls(sb, "contacts.search")
    ids = [m.source_id for page in source.read(Cursor()) for m in page.mqls]
    searches = calls(sb, "contacts.search") - before
    expected = sb.store.mqls()
    assert len(expected) == BIG
    assert Counter(ids) == Counter(expected)  # every MQL, each exactly once
    stamps = Counter(c["properties"]["lastmodifieddate"] for c in sb.store.contacts.values())
    assert stamps.most_common(1)[0][1] > 10_000  # the tie really exceeds one slice
    reader = source.last_reader
    assert reader is not None
    assert calls(sb, "contacts.search", 400) == 0  # never paged past the cap
    assert searches <= math.ceil(BIG / 200) + reader.slices
    assert reader.slices <= math.ceil(BIG / 10_000) + 2 * 2  # + a tie read per bulk group


def test_resuming_from_any_page_cursor_reads_the_rest_exactly_once(big):
    sb, clock = big
    source, _ = connect(sb, clock)
    first: list[str] = []
    pages = source.read(Cursor())
    cursor = None
    for _ in range(70):  # stop in the middle of the big tie
        page = next(pages)
        first += [m.source_id for m in page.mqls]
        cursor = page.cursor
    pages.close()
    assert cursor is not None
    rest = [m.source_id for page in source.read(Cursor.from_dict(cursor.to_dict()))
            for m in page.mqls]
    assert Counter(first + rest) == Counter(sb.store.mqls())


def test_a_finished_read_resumed_finds_nothing_new(small_sandbox, clock):
    source, _ = connect(small_sandbox, clock)
    last = None
    for page in source.read(Cursor()):
        last = page.cursor
    assert last is not None and last.position["modified_ms"] > 0
    assert [m for page in source.read(last) for m in page.mqls] == []


def test_late_indexed_record_inside_the_overlap_window_is_read_once(small_sandbox, clock):
    sb = small_sandbox
    source, _ = connect(sb, clock, overlap_ms=60_000)
    last = None
    for page in source.read(Cursor()):
        last = page.cursor
    mark = last.position["modified_ms"]
    # Modified 30 s before the cursor but only now visible to search (indexing lag).
    late = sb.store.add_contact({"lifecyclestage": "marketingqualifiedlead",
                                 "email": "late@example.com"})
    sb.store.set_modified([late], hs_time(clock.dt().fromtimestamp((mark - 30_000) / 1000,
                                                                   clock.dt().tzinfo)))
    found = [m.source_id for page in source.read(last) for m in page.mqls]
    assert found == [late]
    # And a third read does not emit it again.
    cursor = Cursor.from_dict(last.to_dict())
    for page in source.read(cursor):
        cursor = page.cursor
    assert [m for page in source.read(cursor) for m in page.mqls] == []


def test_records_modified_during_the_read_are_neither_lost_nor_duplicated(small_sandbox, clock):
    sb = small_sandbox
    source, _ = connect(sb, clock, page_size=50)
    pages = source.read(Cursor())
    seen = [m.source_id for m in next(pages).mqls]
    ahead = [cid for cid in sb.store.mqls() if cid not in seen]
    # One already-read record and one not yet read move to "now" while we page.
    sb.store.set_modified([seen[0], ahead[0]], clock.dt())
    for page in pages:
        seen += [m.source_id for m in page.mqls]
    counts = Counter(seen)
    assert set(counts) == set(sb.store.mqls())
    assert counts[seen[0]] == 2  # re-emitted with its new modification
    assert all(n == 1 for cid, n in counts.items() if cid != seen[0])


def test_a_429_storm_is_survived_with_correct_results(clock):
    faults = Faults(rate_429=0.5, seed=1)
    with Sandbox(contacts=1500, seed=9, faults=faults, clock=clock.dt) as sb:
        source, _ = connect(sb, clock, max_attempts=12, page_size=100)
        ids = [m.source_id for page in source.read(Cursor()) for m in page.mqls]
        assert Counter(ids) == Counter(sb.store.mqls())
        assert calls(sb, "contacts.search", 429) > 3  # the storm happened
        assert clock.slept  # and we backed off (on the fake clock)


def test_html_502_pages_are_retried(clock):
    with Sandbox(contacts=600, seed=2, clock=clock.dt) as sb:
        sb.faults.fail_next(3, 502)
        source, _ = connect(sb, clock)
        ids = [m.source_id for page in source.read(Cursor()) for m in page.mqls]
        assert Counter(ids) == Counter(sb.store.mqls())
        assert calls(sb, "contacts.search", 502) == 3


def test_truncated_json_raises_a_retriable_error_and_never_advances_the_cursor(clock):
    with Sandbox(contacts=1000, seed=4, clock=clock.dt) as sb:
        source, _ = connect(sb, clock, max_attempts=2, page_size=100)
        pages = source.read(Cursor())
        first = next(pages)
        sb.faults.malformed_rate = 1.0
        with pytest.raises(MalformedResponse) as caught:
            next(pages)
        assert isinstance(caught.value, RetriableError)
        assert caught.value.correlation_id  # from the X-HubSpot-Correlation-Id header
        sb.faults.malformed_rate = 0.0
        resumed = [m.source_id for page in source.read(first.cursor) for m in page.mqls]
        assert Counter([m.source_id for m in first.mqls] + resumed) == Counter(sb.store.mqls())


def test_backfill_until_bounds_the_window(small_sandbox, clock):
    sb = small_sandbox
    source, _ = connect(sb, clock)
    stamps = sorted(int(m.modified_at.timestamp() * 1000)
                    for page in source.read(Cursor()) for m in page.mqls)
    until = stamps[len(stamps) // 2]
    got = [m for page in source.read(Cursor(), until_ms=until) for m in page.mqls]
    assert len(got) == sum(s <= until for s in stamps)
    assert all(int(m.modified_at.timestamp() * 1000) <= until for m in got)


def test_mqls_carry_canonical_fields_raw_properties_and_crm_ids(small_sandbox, clock):
    source, _ = connect(small_sandbox, clock)
    mqls = [m for page in source.read(Cursor()) for m in page.mqls]
    with_sf = [m for m in mqls if m.fields.get("hubspot.salesforceleadid")]
    assert with_sf and all(m.crm_ids["salesforce"] == m.fields["hubspot.salesforceleadid"]
                           for m in with_sf)
    sample = mqls[0]
    assert sample.crm_ids["hubspot"] == sample.source_id
    assert sample.fields["lifecycle_stage"] == "marketingqualifiedlead"
    assert sample.modified_at is not None
    scores = [m.fields["lead_score"] for m in mqls if m.fields.get("lead_score") is not None]
    assert scores and all(isinstance(s, int | float) for s in scores)
