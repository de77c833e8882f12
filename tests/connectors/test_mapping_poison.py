"""One bad value never stops a pipeline: ``to_mql`` is total and every value it passes on
is bounded, so the rules engine, the fingerprint and the audit log can take it.

The issue: a 5,000-digit number in ``numemployees`` raised out of the mapping (``int()``
refuses more than 4,300 digits), the source failed, the cursor never moved and every later
run read nothing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.hubspot.settings import DEFAULT_FIELD_MAP
from connectors.mapping import FieldMapping, to_mql
from sync_agent.audit.records import dumps
from sync_agent.engine.handoff import lead_fingerprint
from sync_agent.model import MQL
from sync_agent.rules import evaluate, load_ruleset
from sync_agent.rules.limits import MAX_VALUE_CHARS, MAX_VALUE_DEPTH

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# a portal that maps its lead score to a property of its own (here still the legacy name)
HUBSPOT = FieldMapping({**DEFAULT_FIELD_MAP, "lead_score": "hubspotscore"})
GOOD = {"email": "dana@northwind.io", "firstname": "Dana", "country": "US", "hubspotscore": "82"}


def _mql(props: Any, raw_id: Any = "101") -> MQL | tuple[str, str]:
    return to_mql("hubspot", raw_id, props, HUBSPOT, raw_prefix="hubspot")


def _survives_downstream(mql: MQL) -> None:
    """What the engine does with an MQL: decide it, fingerprint it, log its snapshot."""
    decision = evaluate(mql.fields, load_ruleset(REPO / "rules" / "sal.toml"), NOW)
    lead_fingerprint(mql)
    with sqlite3.connect(":memory:") as db:
        db.execute("CREATE TABLE t (snapshot TEXT, explanation TEXT)")
        db.execute(
            "INSERT INTO t VALUES (?, ?)",
            (dumps(mql.fields), dumps(decision.to_dict()["explanation"])),
        )


def test_a_5000_digit_employee_count_is_not_a_number_and_the_lead_is_still_decided() -> None:
    huge = "9" * 5000
    mql = _mql({**GOOD, "numemployees": huge})
    assert isinstance(mql, MQL)
    assert mql.fields["employees"] == huge  # kept as sent: the rules read it as unreadable
    decision = evaluate(mql.fields, load_ruleset(REPO / "rules" / "sal.toml"), NOW)
    size = next(c for c in decision.explanation if c.name == "icp_fit").children[0]
    assert not size.passed
    _survives_downstream(mql)


def test_a_number_beyond_the_digit_cap_is_text_even_when_python_could_read_it() -> None:
    mql = _mql({**GOOD, "numemployees": "1" + "0" * 40, "hubspotscore": "7" * 33})
    assert isinstance(mql, MQL)
    assert mql.fields["employees"] == "1" + "0" * 40
    assert mql.fields["lead_score"] == "7" * 33


def test_an_integer_past_the_digit_cap_is_text_and_one_too_long_to_print_is_malformed() -> None:
    mql = _mql({**GOOD, "hubspotscore": 10**40})
    assert isinstance(mql, MQL) and mql.fields["lead_score"] == "1" + "0" * 40
    _survives_downstream(mql)
    result = _mql({**GOOD, "numemployees": 10**5000})
    assert isinstance(result, tuple)
    assert result[0] == "101" and "numemployees" in result[1] and "digits" in result[1]


def test_text_longer_than_the_cap_is_cut_to_the_cap() -> None:
    essay = "x" * (MAX_VALUE_CHARS + 5)
    mql = _mql({**GOOD, "jobtitle": essay, "notes": essay})
    assert isinstance(mql, MQL)
    assert len(mql.fields["title"]) == MAX_VALUE_CHARS
    assert len(mql.fields["hubspot.notes"]) == MAX_VALUE_CHARS
    _survives_downstream(mql)


def test_lone_surrogates_are_replaced_so_the_audit_log_can_store_the_lead() -> None:
    mql = _mql({**GOOD, "company": "Acme \ud800 GmbH", "hs_x": ["\udfff"]})
    assert isinstance(mql, MQL)
    assert mql.fields["company"] == "Acme \ufffd GmbH"
    assert mql.fields["hubspot.hs_x"] == ["\ufffd"]
    _survives_downstream(mql)


def test_property_names_are_bounded_like_values() -> None:
    mql = _mql({**GOOD, "hs_\udc00": "x", "p" * (MAX_VALUE_CHARS + 1): "y", 7: "z"})
    assert isinstance(mql, MQL)
    assert {"hubspot.hs_\ufffd", "hubspot.7", "hubspot." + "p" * MAX_VALUE_CHARS} <= set(mql.fields)
    _survives_downstream(mql)


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


def test_a_value_nested_deeper_than_the_cap_makes_the_record_malformed() -> None:
    result = _mql({**GOOD, "hs_deep": _nested(100_000)})
    assert isinstance(result, tuple)
    assert result[0] == "101" and "hs_deep" in result[1] and "nested" in result[1]


def test_a_value_nested_within_the_cap_is_kept() -> None:
    mql = _mql({**GOOD, "hs_shallow": _nested(MAX_VALUE_DEPTH - 1)})
    assert isinstance(mql, MQL)
    _survives_downstream(mql)


def test_object_keys_that_json_cannot_sort_are_made_text() -> None:
    mql = _mql({**GOOD, "address": {1: "a", "city": "Berlin", None: "b"}})
    assert isinstance(mql, MQL)
    _survives_downstream(mql)
    assert json.loads(dumps(mql.fields))["hubspot.address"]["city"] == "Berlin"


class _Exploding(Mapping[str, Any]):
    """Properties whose reading fails: whatever goes wrong, the record is malformed."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        return iter(["email"])

    def __len__(self) -> int:
        return 1


def test_anything_that_goes_wrong_with_one_record_makes_it_malformed_with_the_reason() -> None:
    result = _mql(_Exploding())
    assert result == ("101", "cannot map the record: RuntimeError: boom")


def test_an_id_too_long_to_print_is_malformed_not_an_exception() -> None:
    result = _mql(GOOD, raw_id=10**5000)
    assert isinstance(result, tuple) and "id" in result[1]
    assert len(result[0]) < 300


def test_an_id_of_a_megabyte_is_malformed_and_shown_short() -> None:
    result = _mql(GOOD, raw_id="7" * 1_000_000)
    assert isinstance(result, tuple) and "id" in result[1]
    assert len(result[0]) < 300


def test_a_malformed_record_with_a_huge_id_is_shown_short() -> None:
    result = _mql("not an object", raw_id="7" * 1_000_000)
    assert isinstance(result, tuple) and len(result[0]) < 300


def test_crm_ids_that_cannot_be_printed_do_not_raise() -> None:
    result = to_mql(
        "hubspot", "101", GOOD, HUBSPOT, raw_prefix="hubspot",
        modified_at=datetime(2026, 1, 1, tzinfo=UTC), crm_ids={"salesforce": 10**5000},
    )  # fmt: skip
    assert isinstance(result, tuple) or "salesforce" not in result.crm_ids


@pytest.mark.parametrize("junk", [b"bytes", object(), {1, 2}, float("nan")])
def test_values_of_any_python_type_never_raise(junk: Any) -> None:
    result = _mql({**GOOD, "numemployees": junk, "hs_junk": junk})
    if isinstance(result, MQL):
        _survives_downstream(result)
    else:  # malformed: the reason says which value, and never raises
        assert isinstance(result, tuple) and result[1], result


def _nest(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(), _nest, max_leaves=20
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(props=st.dictionaries(st.sampled_from([*DEFAULT_FIELD_MAP.values(), "x"]), _JSON))
def test_any_json_record_becomes_an_mql_the_audit_log_can_store_or_a_malformed_one(
    props: dict[str, Any],
) -> None:
    result = _mql(props)
    if isinstance(result, MQL):
        dumps(result.fields).encode("utf-8")
        lead_fingerprint(result)
    else:
        assert result[0] == "101" and result[1]
