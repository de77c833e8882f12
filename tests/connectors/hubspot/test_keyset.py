"""The keyset slicing logic, driven by an in-memory search with HubSpot's rules.

``FakeSearch`` is a stand-in for the remote search API (not for our code): one sort
rule, offset paging refused past ``cap``, ``total`` in every answer. Ties in the modified
date are ordered by id DESCENDING here on purpose, so the reader cannot be relying on the
sandbox's (and perhaps HubSpot's) id-ascending tie order.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.hubspot.keyset import Hit, KeysetReader, Position, Query, Result


class CapExceeded(Exception):
    pass


class FakeSearch:
    def __init__(self, records: dict[int, int], cap: int) -> None:
        self.records = records  # id -> modified ms
        self.cap = cap
        self.calls = 0

    def __call__(self, q: Query) -> Result:
        self.calls += 1
        if q.after + q.limit > self.cap:
            raise CapExceeded(q)
        rows = list(self.records.items())
        if q.eq_ms is not None:
            rows = [(i, ms) for i, ms in rows if ms == q.eq_ms]
            if q.id_lte is not None:
                rows = [(i, ms) for i, ms in rows if i <= q.id_lte]
            elif q.after_id:
                rows = [(i, ms) for i, ms in rows if i > q.after_id]
            rows.sort()
        else:
            if q.lower_ms is not None:
                op = (lambda ms: ms >= q.lower_ms) if q.lower_op == "GTE" else (
                    lambda ms: ms > q.lower_ms)
                rows = [(i, ms) for i, ms in rows if op(ms)]
            rows.sort(key=lambda r: (r[1], -r[0]))
        if q.upper_ms is not None:
            rows = [(i, ms) for i, ms in rows if ms <= q.upper_ms]
        page = rows[q.after : q.after + q.limit]
        nxt = q.after + q.limit if q.after + q.limit < len(rows) else None
        return Result([Hit(str(i), ms, None) for i, ms in page], len(rows), nxt)


def _read(search: FakeSearch, **kw) -> tuple[list[str], KeysetReader]:
    reader = KeysetReader(search, **kw)
    ids = [h.id for hits, _ in reader.pages(Position()) for h in hits]
    return ids, reader


def test_a_whole_slice_sharing_one_timestamp_neither_loops_nor_skips():
    records = {i: 1000 for i in range(1, 131)} | {i: 2000 + i for i in range(131, 161)}
    search = FakeSearch(records, cap=40)
    ids, reader = _read(search, page_size=10, overlap_ms=0)
    assert Counter(ids) == Counter(str(i) for i in records)
    assert reader.ties == 1
    assert search.calls <= len(records) // 10 + 2


def test_small_ties_at_page_ends_restart_with_gte():
    records = {i: i // 3 for i in range(1, 1001)}  # three records per timestamp
    search = FakeSearch(records, cap=200)
    ids, reader = _read(search, page_size=50, overlap_ms=0)
    assert Counter(ids) == Counter(str(i) for i in records)
    assert reader.ties == 0
    assert search.calls <= 1000 // 50 + 1000 // 200


def test_until_bounds_the_read():
    records = {i: i * 10 for i in range(1, 101)}
    ids, _ = _read(FakeSearch(records, cap=40), page_size=10, until_ms=500)
    assert sorted(map(int, ids)) == list(range(1, 51))


def test_position_round_trips_and_accepts_seen_ids():
    pos = Position(500, {"7": 500, "8": 480})
    assert Position.from_dict(pos.to_dict()) == pos
    legacy = Position.from_dict({"modified_ms": 500, "seen_ids": ["1", "2"]})
    assert legacy.seen == {"1": 500, "2": 500}
    assert Position.from_dict({}) == Position()


def test_seen_set_stays_bounded_to_the_window():
    records = {i: i * 1000 for i in range(1, 201)}
    reader = KeysetReader(FakeSearch(records, cap=100), page_size=20,
                          overlap_ms=10_000)
    for _hits, position in reader.pages(Position()):
        assert len(position.seen) <= 11
        assert all(ms >= position.modified_ms - 10_000 for ms in position.seen.values())


@settings(max_examples=60, deadline=None)
@given(
    stamps=st.lists(st.integers(0, 12), min_size=0, max_size=160),
    page=st.sampled_from([5, 10]),
    cap_pages=st.integers(2, 5),
    stop=st.integers(0, 40),
    overlap=st.sampled_from([0, 3]),
)
def test_any_data_any_resume_point_reads_everything_exactly_once(stamps, page, cap_pages,
                                                                stop, overlap):
    records = {i + 1: ms for i, ms in enumerate(stamps)}
    cap = page * cap_pages
    search = FakeSearch(records, cap=cap)
    reader = KeysetReader(search, page_size=page, overlap_ms=overlap)
    got: list[str] = []
    position = Position()
    for n, (hits, pos) in enumerate(reader.pages(Position())):
        if n == stop:
            break
        got += [h.id for h in hits]
        position = pos
    resumed = KeysetReader(search, page_size=page, overlap_ms=overlap)
    got += [h.id for hits, _ in resumed.pages(Position.from_dict(position.to_dict()))
            for h in hits]
    assert Counter(got) == Counter(str(i) for i in records)
    assert search.calls <= 4 * (len(records) // page + 2) + 40  # never loops


@pytest.mark.parametrize("overlap", [0, 60_000])
def test_empty_result(overlap):
    ids, _ = _read(FakeSearch({}, cap=100), page_size=10, overlap_ms=overlap)
    assert ids == []
