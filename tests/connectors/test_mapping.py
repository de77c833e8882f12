"""The shared field mapping: canonical names, light coercion, raw prefix, malformed records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.mapping import FieldMapping, coerce, parse_datetime, to_mql
from sync_agent.model import MQL

DEFAULTS = {"email": "email", "lead_score": "hubspotscore", "demo_requested": "demo_req"}


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("82", "number", 82),
        (" 82.5 ", "number", 82.5),
        ("1e3", "number", 1000.0),
        ("1,000", "number", "1,000"),
        ("nan", "number", "nan"),
        ("inf", "number", "inf"),
        ("", "number", None),
        ("   ", "string", None),
        (None, "number", None),
        (7, "number", 7),
        ("true", "bool", True),
        ("No", "bool", False),
        ("maybe", "bool", "maybe"),
        (True, "bool", True),
        ("2026-01-15", "date", datetime(2026, 1, 15, tzinfo=UTC)),
        ("2026-01-15T10:30:00.000Z", "date", datetime(2026, 1, 15, 10, 30, tzinfo=UTC)),
        ("2026-01-15T12:30:00.000+0200", "date", datetime(2026, 1, 15, 10, 30, tzinfo=UTC)),
        ("1735689600000", "date", datetime(2025, 1, 1, tzinfo=UTC)),
        ("last tuesday", "date", "last tuesday"),
        ("Acme", "string", "Acme"),
    ],
)
def test_coerce_parses_clean_strings_and_keeps_the_rest(value, kind, expected):
    assert coerce(value, kind) == expected


def test_parse_datetime_rejects_garbage():
    assert parse_datetime("2026-13-45") is None


def test_map_record_gives_canonical_fields_and_every_raw_property():
    mapping, problems = FieldMapping.parse(DEFAULTS)
    assert problems == []
    props = {"email": "a@example.com", "hubspotscore": "91", "demo_req": "true", "zz": "x"}
    out = mapping.map_record(props, "hubspot")
    assert out["email"] == "a@example.com"
    assert out["lead_score"] == 91
    assert out["demo_requested"] is True
    assert {k: v for k, v in out.items() if k.startswith("hubspot.")} == {
        f"hubspot.{k}": v for k, v in props.items()
    }


def test_missing_properties_map_to_none():
    mapping, _ = FieldMapping.parse(DEFAULTS)
    out = mapping.map_record({}, "salesforce")
    assert out == {"email": None, "lead_score": None, "demo_requested": None}


def test_overrides_replace_remove_and_report_every_problem():
    overrides = {"lead_score": "custom_score", "email": "", "nope": "x", "company": 5}
    mapping, problems = FieldMapping.parse(DEFAULTS, overrides, file="agent.toml")
    assert mapping.fields["lead_score"] == "custom_score"
    assert "email" not in mapping.fields
    assert sorted(p.location for p in problems) == ["field_map.company", "field_map.nope"]
    assert all(p.file == "agent.toml" for p in problems)


def test_overrides_that_are_not_a_table_are_a_problem():
    mapping, problems = FieldMapping.parse(DEFAULTS, ["email"])
    assert mapping.fields == DEFAULTS
    assert len(problems) == 1


def test_source_properties_are_deduplicated():
    mapping = FieldMapping({"a": "x", "b": "x", "c": "y"})
    assert mapping.source_properties() == ["x", "y"]


@pytest.mark.parametrize(
    ("raw_id", "props", "expected"),
    [
        (None, {}, ("?", "record has no id")),
        ("", {}, ("?", "record has no id")),
        ({"x": 1}, {}, ("{'x': 1}", "record has no id")),
        ("101", "oops", ("101", "properties is str, not an object")),
        ("101", None, ("101", "properties is NoneType, not an object")),
    ],
)
def test_records_that_cannot_become_mqls_are_malformed_not_errors(raw_id, props, expected):
    mapping = FieldMapping(DEFAULTS)
    assert to_mql("hubspot", raw_id, props, mapping, raw_prefix="hubspot") == expected


def test_to_mql_keeps_known_crm_ids_only():
    when = datetime(2026, 1, 1, tzinfo=UTC)
    mql = to_mql(
        "hubspot",
        101,
        {"email": "a@example.com"},
        FieldMapping(DEFAULTS),
        raw_prefix="hubspot",
        modified_at=when,
        crm_ids={"hubspot": "101", "salesforce": None},
    )
    assert isinstance(mql, MQL)
    assert mql.source_id == "101"
    assert mql.key == "hubspot:101"
    assert mql.crm_ids == {"hubspot": "101"}
    assert mql.modified_at == when


def test_an_instance_keys_leads_by_its_name_and_raw_properties_by_its_type():
    """A second portal (instance "eu" of type hubspot): lead keys say which portal, while
    rules keep reaching raw properties as hubspot.<property>."""
    mql = to_mql("eu", "7", {"hs_x": "1"}, FieldMapping(DEFAULTS), raw_prefix="hubspot")
    assert isinstance(mql, MQL)
    assert mql.key == "eu:7" and mql.fields["hubspot.hs_x"] == "1" and "eu.hs_x" not in mql.fields
