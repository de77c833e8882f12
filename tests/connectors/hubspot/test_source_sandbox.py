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

from .conftest import FakeClock, calls, connect, handoff

BIG = 25_000


@pytest.fixture(scope="module")
def big() -> Iterator[tuple[Sandbox, FakeClock]]:
    """25,000 MQLs; 45 % share ONE timestamp (more than a 10,000 slice), 5 % another."""
    clock = FakeClock()
    with Sandbox(contacts=BIG, seed=3, mql_share=1.0, clock=clock.dt,
                 seed_options={"bulk_groups": (0.45, 0.05)}) as sb:
        yield sb, clock


@pytest.mark.slow
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
    # ⌈N/200⌉ plus at most one per 10,000 (the boundary records re-read) and per tie read.
    assert searches <= math.ceil(BIG / 200) + math.ceil(BIG / 10_000) + reader.ties
    assert reader.ties == 2  # the two bulk timestamps were read alone


def test_resuming_from_a_cursor_inside_a_big_tie_reads_the_rest_exactly_once(clock):
    with Sandbox(contacts=6000, seed=3, mql_share=1.0, clock=clock.dt,
                 seed_options={"bulk_groups": (0.5,)}) as sb:
        source, _ = connect(sb, clock)
        first: list[str] = []
        pages = source.read(Cursor())
        cursor = None
        while True:
            page = next(pages)
            first += [m.source_id for m in page.mqls]
            cursor = page.cursor
            if source.last_reader.ties and len(first) >= 4500:
                break  # inside the tie
        pages.close()
        before = calls(sb, "contacts.search")
        resumed = Cursor.from_dict(cursor.to_dict())
        rest = [m.source_id for page in source.read(resumed) for m in page.mqls]
        assert Counter(first + rest) == Counter(sb.store.mqls())
        # The resumed read re-reads the overlap window, then probes once and goes on after
        # the highest id read in the tie instead of re-reading the tie from the start.
        assert calls(sb, "contacts.search") - before <= len(rest) // 200 + 4


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


def test_records_modified_during_the_read_are_left_to_the_next_run_not_lost(small_sandbox,
                                                                            clock):
    sb = small_sandbox
    source, _ = connect(sb, clock, page_size=50)
    pages = source.read(Cursor())
    first = next(pages)
    seen = [m.source_id for m in first.mqls]
    # Searches run a page ahead of the mapping: "not yet read" is the newest of the rest
    # (the reader pages by modification date), several pages ahead of the first.
    modified = {cid: sb.store.contacts[cid]["properties"]["lastmodifieddate"]
                for cid in sb.store.mqls()}  # fmt: skip
    ahead = sorted((cid for cid in modified if cid not in seen), key=lambda c: modified[c],
                   reverse=True)  # fmt: skip
    # One already-read record and one not yet read are modified while we page.
    clock.now += 5
    sb.store.set_modified([seen[0], ahead[0]], clock.dt())
    cursor = first.cursor
    for page in pages:
        seen += [m.source_id for m in page.mqls]
        cursor = page.cursor
    assert Counter(seen) == Counter(c for c in sb.store.mqls() if c != ahead[0])
    later = [m.source_id for page in source.read(cursor) for m in page.mqls]
    assert sorted(later) == sorted([seen[0], ahead[0]])


def test_a_429_storm_is_survived_with_correct_results(clock):
    faults = Faults(rate_429=0.5, seed=1)
    with Sandbox(contacts=1500, seed=9, faults=faults, clock=clock.dt) as sb:
        source, _ = connect(sb, clock, max_attempts=30, page_size=100)
        ids = [m.source_id for page in source.read(Cursor()) for m in page.mqls]
        assert Counter(ids) == Counter(sb.store.mqls())
        assert calls(sb, "contacts.search", 429) > 3  # the storm happened
        assert clock.slept  # and we backed off (on the fake clock)


def test_html_502_pages_are_retried(clock):
    with Sandbox(contacts=600, seed=2, clock=clock.dt) as sb:
        source, _ = connect(sb, clock)
        sb.faults.fail_next(3, 502)
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
    source, _ = connect(small_sandbox, clock,
                        field_map={"lead_score": "example_combined_score"})
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


def test_every_call_has_a_read_timeout_and_slow_answers_are_retriable(clock):
    with Sandbox(contacts=50, seed=2, clock=clock.dt, faults=Faults(latency_ms=400)) as sb:
        source, sink = connect(sb, clock, read_timeout=0.05, max_attempts=2)
        assert source.client.limiter is sink.client.limiter  # one pacing for both
        with pytest.raises(RetriableError) as caught:
            next(iter(source.read(Cursor())))
        assert caught.value.status == 0 and "Timeout" in str(caught.value)


def test_writing_back_while_reading_skips_nothing(small_sandbox, clock):
    """The engine writes each page back before reading the next; our write bumps
    lastmodifieddate, moving those contacts to the end of the result set. Offset paging
    (``after``) would then skip a page's worth of records; the keyset never does, and the
    read stays bounded by its start time instead of chasing its own writes."""
    sb = small_sandbox
    source, sink = connect(sb, clock, page_size=100)
    seen: list[str] = []
    for page in source.read(Cursor()):
        seen += [m.source_id for m in page.mqls]
        clock.now += 1  # time passes while the engine decides
        sink.write([handoff(m.source_id) for m in page.mqls])
    assert Counter(seen) == Counter(sb.store.mqls())  # each once; the writes are next run's


def test_records_hidden_by_search_index_lag_are_read_by_the_next_run(small_sandbox, clock):
    sb = small_sandbox
    sb.faults.search_lag_ms = 5_000
    try:
        source, _ = connect(sb, clock)
        fresh = sb.store.mqls()[:3]
        clock.now += 1
        sb.store.set_modified(fresh, clock.dt())  # changed just now: not yet searchable
        cursor = Cursor()
        first = []
        for page in source.read(cursor):
            first += [m.source_id for m in page.mqls]
            cursor = page.cursor
        assert not set(fresh) & set(first)
        clock.now += 6  # the index caught up
        later = [m.source_id for page in source.read(cursor) for m in page.mqls]
        assert sorted(later) == sorted(fresh)
    finally:
        sb.faults.search_lag_ms = 0


def test_the_default_lookback_finds_records_search_shows_minutes_late(small_sandbox, clock):
    """HubSpot's search may show a change minutes after later ones (airbyte#69203 added a
    lookback for it): by default the source looks 5 minutes back and drops what it read."""
    sb = small_sandbox
    source, _ = connect(sb, clock)
    last = None
    for page in source.read(Cursor()):
        last = page.cursor
    mark = last.position["modified_ms"]
    late = sb.store.add_contact({"lifecyclestage": "marketingqualifiedlead",
                                 "email": "later@example.com"})
    sb.store.set_modified([late], hs_time(clock.dt().fromtimestamp((mark - 150_000) / 1000,
                                                                   clock.dt().tzinfo)))
    assert [m.source_id for page in source.read(last) for m in page.mqls] == [late]
