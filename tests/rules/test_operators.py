"""Every operator, on values as sources send them, through load + evaluate."""

# ruff: noqa: E501 - tables of rule snippets and leads read best one case per line

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from sync_agent.rules import evaluate, load_ruleset

Probe = Callable[..., Any]


CASES = [
    # equals / not_equals: text ignores case unless case_sensitive
    ('{ field = "country", op = "equals", value = "DE" }', {"country": "de"}, True),
    ('{ field = "country", op = "equals", value = "DE", case_sensitive = true }', {"country": "de"}, False),
    ('{ field = "country", op = "==", value = "DE" }', {"country": "FR"}, False),
    ('{ field = "country", op = "not_equals", value = "DE" }', {"country": "FR"}, True),
    ('{ field = "country", op = "not_equals", value = "DE" }', {}, False),
    ('{ field = "employees", op = "equals", value = 50 }', {"employees": "50.0"}, True),
    ('{ field = "demo_requested", op = "equals", value = true }', {"demo_requested": "TRUE"}, True),
    ('{ field = "mql_date", op = "equals", value = 2026-11-02 }', {"mql_date": "2026-11-02T18:00:00Z"}, True),
    # in / not_in, inline and list files
    ('{ field = "country", op = "in", value = ["DE", "FR"] }', {"country": " fr "}, True),
    ('{ field = "country", op = "not_in", value = ["DE", "FR"] }', {"country": "US"}, True),
    ('{ field = "country", op = "not_in", value = ["DE", "FR"] }', {"country": ""}, False),
    ('{ field = "employees", op = "in", value = [10, 20] }', {"employees": "20"}, True),
    # ordering on numbers and dates
    ('{ field = "lead_score", op = "gt", value = 70 }', {"lead_score": "70"}, False),
    ('{ field = "lead_score", op = ">=", value = 70 }', {"lead_score": "70"}, True),
    ('{ field = "lead_score", op = "lt", value = 70 }', {"lead_score": "69.5"}, True),
    ('{ field = "lead_score", op = "lte", value = 70 }', {"lead_score": "seventy"}, False),
    ('{ field = "mql_date", op = "gt", value = 2026-11-01 }', {"mql_date": "2026-11-02"}, True),
    ('{ field = "mql_date", op = "lt", value = 2026-11-01T00:00:00Z }', {"mql_date": "1793577600000"}, False),
    # between, both ends included
    ('{ field = "employees", op = "between", value = [50, 5000] }', {"employees": "50"}, True),
    ('{ field = "employees", op = "between", value = [50, 5000] }', {"employees": "5,001"}, False),
    ('{ field = "mql_date", op = "between", value = [2026-11-01, 2026-11-30] }', {"mql_date": "2026-11-30T23:00Z"}, True),
    # present / missing
    ('{ field = "phone", op = "present" }', {"phone": "123"}, True),
    ('{ field = "phone", op = "present" }', {"phone": "   "}, False),
    ('{ field = "phone", op = "missing" }', {}, True),
    ('{ field = "phone", op = "missing" }', {"phone": "0"}, False),
    # text operators
    ('{ field = "title", op = "contains", value = "sales" }', {"title": "VP Sales EMEA"}, True),
    ('{ field = "title", op = "not_contains", value = "sales" }', {"title": "CTO"}, True),
    ('{ field = "title", op = "starts_with", value = "vp" }', {"title": "VP Sales"}, True),
    ('{ field = "email", op = "ends_with", value = ".io" }', {"email": "a@b.IO"}, True),
    ("{ field = \"title\", op = \"matches\", value = '^(vp|head)\\b' }", {"title": "Head of IT"}, True),
    ("{ field = \"title\", op = \"matches\", value = '^VP', case_sensitive = true }", {"title": "vp x"}, False),
    ('{ field = "hubspot.employees", op = "contains", value = "00" }', {"hubspot.employees": 1200}, True),
    # dates relative to now (2026-11-25T12:00Z)
    ('{ field = "mql_date", op = "within_days", value = 30 }', {"mql_date": "2026-10-27T12:00:00Z"}, True),
    ('{ field = "mql_date", op = "within_days", value = 30 }', {"mql_date": "2026-10-26"}, False),
    ('{ field = "mql_date", op = "older_than_days", value = 30 }', {"mql_date": "2026-10-26"}, True),
    ('{ field = "mql_date", op = "older_than_days", value = 30 }', {"mql_date": "soon"}, False),
    ('{ field = "mql_date", op = "within_days", value = 7 }', {"mql_date": 1795507200000}, True),
    # booleans
    ('{ field = "trial_started", op = "is_true" }', {"trial_started": "yes"}, True),
    ('{ field = "trial_started", op = "is_false" }', {"trial_started": "false"}, True),
    ('{ field = "trial_started", op = "is_false" }', {"trial_started": "perhaps"}, False),
    # raw source properties: type from the rule's value
    ('{ field = "hubspot.num_visits", op = "gte", value = 3 }', {"hubspot.num_visits": "4"}, True),
    ('{ field = "hubspot.num_visits", op = "gte", value = 3 }', {"hubspot": {"num_visits": "2"}}, False),
    ('{ field = "salesforce.Rating", op = "equals", value = "Hot" }', {"salesforce.Rating": "hot"}, True),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "lead", "expected"), CASES)
def test_operator(probe: Probe, condition: str, lead: dict[str, Any], expected: bool) -> None:
    assert probe(condition, lead).passed is expected


def test_named_list_file(probe: Probe) -> None:
    lists = {"served": "# countries\nDE\nFrance  # with a comment\n\n"}
    cond = '{ field = "country", op = "in", list = "served" }'
    assert probe(cond, {"country": "france"}, lists).passed
    assert not probe(cond, {"country": "Spain"}, lists).passed


def test_uncoercible_value_is_not_met_and_explained(probe: Probe) -> None:
    node = probe('{ field = "lead_score", op = "gte", value = 50 }', {"lead_score": "high"})
    leaf = node.children[0]
    assert not leaf.passed
    assert leaf.value == "high"
    assert "cannot read the value as a number" in leaf.detail


def test_missing_value_is_explained(probe: Probe) -> None:
    leaf = probe('{ field = "lead_score", op = "gte", value = 50 }', {}).children[0]
    assert (leaf.passed, leaf.detail, leaf.value) == (False, "missing", None)


def test_leaf_records_the_value_seen_and_a_readable_label(probe: Probe) -> None:
    node = probe(
        '{ field = "employees", op = "between", value = [50, 5000] }', {"employees": "120"}
    )
    assert node.children[0].name == "employees between 50 and 5000"
    assert node.children[0].value == "120"


def test_values_of_different_types_are_never_confused(
    write_rules: Callable[..., Any], minimal: str, now: datetime
) -> None:
    """Memoised nodes are keyed by type too: True is not the number 1, "1" is."""
    path = write_rules(
        minimal + '\n[[gates]]\nname = "probe"\nfield = "employees"\nop = "gte"\nvalue = 1\n'
    )
    ruleset = load_ruleset(path)
    results = [
        evaluate({"employees": v}, ruleset, now).explanation[0].passed
        for v in ("1", 1, True, 1.0, "1")
    ]
    assert results == [True, True, False, True, True]
