"""Range filters on the sort property are answered by bisection of a cached sorted list
(``hubspot_search.split_sort_range``); the answers must be exactly a plain scan's: the same
ids in the same order, the same total and paging, ties broken by id, empty values last."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.sandbox import SandboxStore
from connectors.sandbox import hubspot_search as hs
from connectors.sandbox.hubspot_objects import HubSpotHandlers
from connectors.sandbox.hubspot_validate import property_types

#: Few distinct values, so that ties, empty values and mixed ranks are common.
STAMPS = [None, "", "1735689600000", "1735689600001", "1735776000000",
          "2025-01-02T00:00:00.000Z", "2025-01-01", "not a date", "Not A Date", "zzz"]
SCORES = [None, "", "0", "5", "5.0", "12", "-3", "1e3", "inf", "abc", "ABC"]
STAGES = ["lead", "marketingqualifiedlead", None]
OPS = ["EQ", "GT", "GTE", "LT", "LTE", "NEQ", "BETWEEN", "HAS_PROPERTY"]
SORTS = ["lastmodifieddate", "hubspotscore", "hs_object_id", "company"]

contacts = st.lists(
    st.fixed_dictionaries({
        "lastmodifieddate": st.sampled_from(STAMPS),
        "hubspotscore": st.sampled_from(SCORES),
        "lifecyclestage": st.sampled_from(STAGES),
        "company": st.sampled_from([None, "Acme", "acme", "Zeta", ""]),
    }),
    min_size=1, max_size=40,
)


@st.composite
def filters(draw: Any, prop: str) -> dict[str, Any]:
    values = STAMPS[1:] if prop == "lastmodifieddate" else SCORES[1:]
    operator = draw(st.sampled_from(OPS))
    spec: dict[str, Any] = {"propertyName": prop, "operator": operator}
    if operator == "BETWEEN":
        spec["highValue"] = draw(st.sampled_from(values))
    if operator != "HAS_PROPERTY":
        spec["value"] = draw(st.one_of(st.sampled_from(values), st.sampled_from([0, 5, 12])))
    return spec


@st.composite
def queries(draw: Any) -> dict[str, Any]:
    sort = draw(st.sampled_from(SORTS))
    prop = sort if sort in ("lastmodifieddate", "hubspotscore") else draw(
        st.sampled_from(["lastmodifieddate", "hubspotscore"]))
    chosen = draw(st.lists(filters(prop), max_size=3))
    if draw(st.booleans()):
        chosen.append({"propertyName": "lifecyclestage", "operator": "EQ",
                       "value": "marketingqualifiedlead"})
    if sort == "hs_object_id" and draw(st.booleans()):
        chosen.append({"propertyName": "hs_object_id", "operator": draw(st.sampled_from(OPS[:5])),
                       "value": draw(st.integers(100, 140))})
    groups = [{"filters": chosen}]
    if draw(st.integers(0, 5)) == 0:  # OR groups are never split
        groups.append({"filters": draw(st.lists(filters(prop), max_size=2))})
    body: dict[str, Any] = {
        "filterGroups": groups,
        "sorts": [{"propertyName": sort,
                   "direction": draw(st.sampled_from(["ASCENDING", "DESCENDING"]))}],
        "limit": draw(st.integers(0, 25)),
        "after": str(draw(st.integers(0, 30))),
    }
    return body


def _store(rows: list[dict[str, Any]]) -> SandboxStore:
    store = SandboxStore()
    for row in rows:
        store.add_contact(dict(row))
    return store


def _plain(store: SandboxStore, body: dict[str, Any]) -> tuple[int, list[str], bool]:
    """A plain scan of every contact: total, the page's ids, whether there is a next page."""
    types = property_types(store.contact_property_defs)
    limit, after, sort = hs.parse_request(body, 0)
    ids = hs.sorted_ids(store.contacts, hs.compile_groups(body["filterGroups"], types), sort,
                        types)
    return len(ids), ids[after : after + limit], after + limit < len(ids)


def _answer(handlers: HubSpotHandlers, body: dict[str, Any]) -> tuple[int, list[str], bool]:
    status, payload = handlers.search("contacts", body, 0)
    assert status == 200
    return payload["total"], [r["id"] for r in payload["results"]], "paging" in payload


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=contacts, bodies=st.lists(queries(), min_size=1, max_size=6),
       edits=st.lists(st.tuples(st.integers(0, 59), st.sampled_from(STAMPS),
                                st.sampled_from(SCORES)), max_size=6))
def test_indexed_search_equals_a_plain_scan(
    rows: list[dict[str, Any]], bodies: list[dict[str, Any]],
    edits: list[tuple[int, str | None, str | None]],
) -> None:
    store = _store(rows)
    handlers = HubSpotHandlers(store)
    ids = list(store.contacts)
    for round_ in range(2):
        for body in bodies:
            assert _answer(handlers, body) == _plain(store, body)
        if round_ == 0 and ids:  # then the cache is refreshed, not rebuilt
            for index, stamp, score in edits:
                props = store.contacts[ids[index % len(ids)]]["properties"]
                props["lastmodifieddate"], props["hubspotscore"] = stamp, score


@settings(max_examples=300, deadline=None)
@given(rows=contacts, body=queries(), nan_at=st.integers(0, 59))
def test_a_nan_key_falls_back_to_the_scan(rows: list[dict[str, Any]], body: dict[str, Any],
                                          nan_at: int) -> None:
    """NaN has no place in an order, so bisection can't be trusted: the search scans,
    whether the NaN was there when the cache was built or arrived in a refresh."""
    nan_row = rows[nan_at % len(rows)]
    nan_row["hubspotscore"], nan_row["lastmodifieddate"] = "nan", "NaN"
    store = _store(rows)
    assert _answer(HubSpotHandlers(store), body) == _plain(store, body)

    nan_row["hubspotscore"], nan_row["lastmodifieddate"] = "1", "1"
    store = _store(rows)
    handlers = HubSpotHandlers(store)
    assert _answer(handlers, body) == _plain(store, body)
    props = store.contacts[list(store.contacts)[nan_at % len(rows)]]["properties"]
    props["hubspotscore"], props["lastmodifieddate"] = "nan", "NaN"
    types = property_types(store.contact_property_defs)
    _limit, _after, sort = hs.parse_request(body, 0)
    if hs.split_sort_range(body["filterGroups"], sort, types)[1]:
        # (unsplit queries refresh their cache with insort, as before: NaN order is moot)
        assert _answer(handlers, body) == _plain(store, body)


def test_the_keyset_page_shape_is_split() -> None:
    """The agent's range page: the MQL filter is cached, both bounds become bisections."""
    types = property_types(SandboxStore().contact_property_defs)
    mql = {"propertyName": "lifecyclestage", "operator": "EQ", "value": "marketingqualifiedlead"}
    groups = [{"filters": [mql,
                           {"propertyName": "lastmodifieddate", "operator": "GTE", "value": "5"},
                           {"propertyName": "lastmodifieddate", "operator": "LTE", "value": "9"}]}]
    rest, bounds = hs.split_sort_range(groups, ("lastmodifieddate", False), types)
    assert rest == [{"filters": [mql]}]
    assert bounds == [("GTE", (0, 5.0)), ("LTE", (0, 9.0))]
    assert hs.split_sort_range(groups, ("lastmodifieddate", True), types) == (groups, [])
