"""Number ranges and multi-selects: what every operator means on them (docs/rules.md,
"Ranges" and "Multi-selects"), through load + evaluate.

HubSpot's ``numemployees`` is an enumeration of ranges ("100-500", "1000+"), never a
number; a multi-select arrives as "a;b;c" and, read by its declared type, becomes a list
of options. A condition on a range holds when it holds for EVERY whole number in the
range; a condition on a multi-select holds when it holds for AT LEAST ONE option, and its
negative form (not_equals, not_in, not_contains) when it holds for every one.
"""

# ruff: noqa: E501 - tables of rule snippets and leads read best one case per line

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_agent.rules import evaluate, load_ruleset
from sync_agent.rules.render import decision_json, decision_table
from sync_agent.rules.shapes import NumberRange, Options, parse_range

Probe = Callable[..., Any]
SAL = Path(__file__).resolve().parents[2] / "rules" / "sal.toml"

RANGE_CASES = [
    # between: the whole range inside
    ("between", "[50, 5000]", "100-500", True),
    ("between", "[50, 5000]", "50-100", True),
    ("between", "[50, 5000]", "25-50", False),
    ("between", "[50, 5000]", "1000+", False),  # open: could be 100,000
    ("between", "[50, 5000]", "5-25", False),
    # gt / gte: the lower bound decides
    ("gte", "100", "100-500", True),
    ("gte", "100", "50-100", False),
    ("gte", "1000", "1000+", True),
    ("gt", "99", "100-500", True),
    ("gt", "100", "100-500", False),
    # lt / lte: the upper bound decides; an open range never
    ("lte", "500", "100-500", True),
    ("lt", "500", "100-500", False),
    ("lt", "501", "100-500", True),
    ("lte", "100000", "1000+", False),
    # equals: only a range of one number equals it
    ("equals", "250", "100-500", False),
    ("equals", "5", "5-5", True),
    # not_equals: the number lies outside the range
    ("not_equals", "250", "100-500", False),
    ("not_equals", "50", "100-500", True),
    ("not_equals", "50", "1000+", True),
    ("not_equals", "5000", "1000+", False),
    # in: every number of the range is listed; not_in: none is
    ("in", "[1, 2, 3]", "1-3", True),
    ("in", "[1, 2]", "1-3", False),
    ("in", "[100, 250, 500]", "100-500", False),
    ("in", "[1000]", "1000+", False),
    ("not_in", "[10, 20]", "100-500", True),
    ("not_in", "[250]", "100-500", False),
    ("not_in", "[5000]", "1000+", False),
    ("not_in", "[50]", "1000+", True),
]


@pytest.mark.parametrize(("op", "value", "employees", "holds"), RANGE_CASES)
def test_a_condition_on_a_range_holds_when_it_holds_for_every_number_in_it(
    probe: Probe, op: str, value: str, employees: str, holds: bool
) -> None:
    node = probe(f'{{ field = "employees", op = "{op}", value = {value} }}', {"employees": employees})
    assert node.passed is holds


@pytest.mark.parametrize(
    ("op", "value", "employees", "detail"),
    [("gte", "50", "25-50", "only part"), ("gte", "50", "1-5", "no number"), ("lt", "10", "100-500", "no number"),
     ("lte", "5000", "1000+", "only part"), ("equals", "250", "100-500", "only part"), ("equals", "5", "100-500", "no number"),
     ("not_equals", "250", "100-500", "only part"), ("in", "[100, 101]", "100-500", "only part"),
     ("not_in", "[250]", "100-500", "only part"), ("between", "[1, 10]", "100-500", "no number"),
     ("gt", "10", "100-500", "the whole range")],
)  # fmt: skip
def test_the_explanation_says_whether_part_or_none_of_the_range_meets_it(
    probe: Probe, op: str, value: str, employees: str, detail: str
) -> None:
    node = probe(f'{{ field = "employees", op = "{op}", value = {value} }}', {"employees": employees})
    assert node.children[0].detail.startswith(detail)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("100-500", 100, 500), ("1000+", 1000, None), ("5-25", 5, 25), ("1,000+", 1000, None),
     ("10,001+", 10001, None), ("51-200 employees", 51, 200), ("100 - 500", 100, 500),
     ("5–25", 5, 25), ("1,001 to 5,000", 1001, 5000), (" 1000 + ", 1000, None), ("0-0", 0, 0)],
)  # fmt: skip
def test_ranges_are_read_in_the_shapes_crms_and_forms_send(text: str, low: int, high: int | None) -> None:
    found = parse_range(text)
    assert found is not None and (found.low, found.high) == (low, high)
    assert str(found) == text  # what JSON stores: read again, it is the same range
    assert parse_range(str(found)) == found


@pytest.mark.parametrize(
    "text", ["250", "-5", "1-", "-", "2024-01", "abc", "1-5-9", "5+5", "1.5-2.5", "1" * 40 + "+", "", "1e3-1e4"]
)
def test_text_that_is_no_range_is_not_read_as_one(text: str) -> None:
    assert parse_range(text) is None


def test_a_range_reads_the_same_as_text_or_as_a_value(probe: Probe) -> None:
    condition = '{ field = "employees", op = "between", value = [50, 5000] }'
    as_text = probe(condition, {"employees": "100-500"})
    as_value = probe(condition, {"employees": NumberRange(100, 500, "100-500")})
    assert as_text.passed and as_value.passed
    assert as_text.children[0].value == as_value.children[0].value == NumberRange(100, 500, "100-500")


def test_plain_numbers_keep_their_meaning(probe: Probe) -> None:
    condition = '{ field = "employees", op = "between", value = [50, 5000] }'
    assert [probe(condition, {"employees": v}).passed for v in ("250", "1,200", "20000", "lots", "")] == [
        True, True, False, False, False]  # fmt: skip


def test_a_range_in_a_raw_property_compared_as_a_number_is_a_range(probe: Probe) -> None:
    node = probe('{ field = "hubspot.numemployees", op = "gte", value = 100 }', {"hubspot.numemployees": "100-500"})
    assert node.passed


def test_a_range_compared_as_text_is_its_text(probe: Probe) -> None:
    node = probe('{ field = "hubspot.numemployees", op = "equals", value = "100-500" }',
                 {"hubspot.numemployees": NumberRange(100, 500, "100-500")})  # fmt: skip
    assert node.passed


def test_the_explanation_shows_the_range_and_why(write_rules: Any, minimal: str, now: datetime) -> None:
    path = write_rules(minimal + '\n[[gates]]\nname = "size"\nfield = "employees"\nop = "between"\nvalue = [50, 5000]\n')
    ruleset = load_ruleset(path)
    held = evaluate({"employees": "100-500"}, ruleset, now).explanation[0].children[0]
    assert repr(held.value) == "range 100–500" and held.detail == "the whole range meets it"
    open_ended = evaluate({"employees": "10,001+"}, ruleset, now)
    node = open_ended.explanation[0].children[0]
    assert repr(node.value) == "range 10,001+" and node.detail == "no number in the range meets it"
    top = evaluate({"employees": "1000+"}, ruleset, now).explanation[0].children[0]
    assert top.detail == "only part of the range meets it"  # no upper bound: maybe above 5000
    from rich.console import Console

    console = Console(width=120, record=True)
    console.print(decision_table(open_ended))
    assert "range 10,001+" in console.export_text()
    assert '"value": "10,001+"' in decision_json(open_ended)  # JSON keeps the text as sent


MULTI_CASES = [
    # in: at least one option is listed; not_in: none is
    ('{ field = "industry", op = "in", value = ["RETAIL", "EDUCATION"] }', ["COMPUTER_SOFTWARE", "retail"], True),
    ('{ field = "industry", op = "in", value = ["RETAIL"] }', ["COMPUTER_SOFTWARE", "INTERNET"], False),
    ('{ field = "industry", op = "not_in", value = ["RETAIL"] }', ["COMPUTER_SOFTWARE", "INTERNET"], True),
    ('{ field = "industry", op = "not_in", value = ["RETAIL"] }', ["COMPUTER_SOFTWARE", "RETAIL"], False),
    # contains: some option contains the text; not_contains: none does
    ('{ field = "recent_conversion", op = "contains", value = "webinar" }', ["Pricing page", "Webinar: Q3"], True),
    ('{ field = "recent_conversion", op = "contains", value = "page;webinar" }', ["Pricing page", "Webinar: Q3"], False),
    ('{ field = "recent_conversion", op = "not_contains", value = "demo" }', ["Pricing page", "Webinar: Q3"], True),
    ('{ field = "recent_conversion", op = "not_contains", value = "page" }', ["Pricing page", "Webinar: Q3"], False),
    # equals: one option equals it; not_equals: none does
    ('{ field = "timeline", op = "equals", value = "now" }', ["later", "NOW"], True),
    ('{ field = "timeline", op = "not_equals", value = "now" }', ["later", "NOW"], False),
    ('{ field = "timeline", op = "not_equals", value = "now" }', ["later"], True),
    # text operators on any option
    ('{ field = "title", op = "matches", value = "^vp" }', ["Engineer", "VP Sales"], True),
    ('{ field = "title", op = "starts_with", value = "vp" }', ["Engineer"], False),
    # numbers: options read one by one
    ('{ field = "page_views", op = "gte", value = 10 }', ["3", "12"], True),
    ('{ field = "page_views", op = "gte", value = 10 }', ["3", "lots"], False),
    # blank options do not count; no option at all is missing
    ('{ field = "industry", op = "missing" }', ["", " "], True),
    ('{ field = "industry", op = "present" }', [], False),
    ('{ field = "industry", op = "not_in", value = ["RETAIL"] }', [], False),
]


@pytest.mark.parametrize(("condition", "options", "holds"), MULTI_CASES)
@pytest.mark.parametrize("shape", [list, tuple, Options], ids=["json list", "tuple", "Options"])
def test_a_condition_on_a_multi_select_holds_for_any_option_and_its_negation_for_none(
    probe: Probe, condition: str, options: list[str], holds: bool, shape: type
) -> None:
    field = condition.split('"')[1]
    assert probe(condition, {field: shape(options)}).passed is holds


def test_text_joined_by_semicolons_without_a_declared_type_stays_text(probe: Probe) -> None:
    node = probe('{ field = "industry", op = "in", value = ["RETAIL"] }', {"industry": "COMPUTER_SOFTWARE;RETAIL"})
    assert not node.passed


def test_options_of_equal_python_values_but_different_types_are_never_mixed_up(
    write_rules: Any, minimal: str, now: datetime
) -> None:
    """(1,) == (1.0,) == (True,) in Python: a memo keyed on them would serve one for another."""
    path = write_rules(minimal + '\n[[gates]]\nname = "views"\nfield = "page_views"\nop = "gte"\nvalue = 1\n')
    ruleset = load_ruleset(path)
    leads = [Options([1]), Options([True]), Options([1.0]), frozenset([True]), (True,), (1,)] * 2
    seen = [evaluate({"page_views": v}, ruleset, now).explanation[0].passed for v in leads]
    assert seen == [True, False, True, False, False, True] * 2


def test_options_show_in_the_explanation_and_as_a_json_list(probe: Probe) -> None:
    node = probe('{ field = "industry", op = "in", value = ["RETAIL"] }', {"industry": Options(["INTERNET", "RETAIL"])})
    assert repr(node.children[0].value) == 'options "INTERNET", "RETAIL"'
    assert node.children[0].to_dict()["value"] == ["INTERNET", "RETAIL"]


def test_a_huge_multi_select_is_read_up_to_the_cap(probe: Probe) -> None:
    many = ["x"] * 5_000 + ["RETAIL"]
    assert not probe('{ field = "industry", op = "in", value = ["RETAIL"] }', {"industry": many}).passed


def test_options_nested_in_options_are_not_read(probe: Probe) -> None:
    nested: list[Any] = ["RETAIL"]
    for _ in range(10_000):
        nested = [nested]
    node = probe('{ field = "industry", op = "in", value = ["RETAIL"] }', {"industry": nested})
    assert not node.passed


def test_ranges_are_remembered_by_the_memo_without_mixing_them_up(write_rules: Any, minimal: str, now: datetime) -> None:
    path = write_rules(minimal + '\n[[gates]]\nname = "size"\nfield = "employees"\nop = "gte"\nvalue = 100\n')
    ruleset = load_ruleset(path)
    seen = [evaluate({"employees": v}, ruleset, now).explanation[0].passed
            for v in ["100-500", "50-100", NumberRange(100, 500, "100-500"), NumberRange(50, 100, "50-100"), "100-500"] * 3]  # fmt: skip
    assert seen == [True, False, True, False, True] * 3


@pytest.mark.parametrize("dates", [["2026-11-01", "2026-11-20"], ("2026-11-01",), []])
def test_days_since_a_list_of_dates_is_unreadable_not_an_error(probe: Probe, dates: Any) -> None:
    node = probe('{ field = "days_since_mql_date", op = "gte", value = 3 }', {"mql_date": dates})
    assert not node.passed


_SIZES = st.sampled_from(["100-500", "1000+", "25-50", "250", 250, 250.0, True, "", None, "5-25", "lots", "10,001+"])
_SHAPED = st.one_of(
    _SIZES,
    _SIZES.map(lambda v: parse_range(v) if isinstance(v, str) and parse_range(v) else v),
    st.lists(_SIZES, max_size=3),
    st.lists(_SIZES, max_size=3).map(Options),
    st.lists(_SIZES, max_size=3).map(tuple),
    st.frozensets(st.sampled_from([1, 1.0, True, "1"]), max_size=2),
)
_LEADS = st.fixed_dictionaries({
    "email": st.sampled_from(["dana@northwind.io", "kim@gmail.com", ""]),
    "employees": _SHAPED,
    "industry": st.one_of(st.sampled_from(["COMPUTER_SOFTWARE", "RETAIL"]), st.lists(st.sampled_from(["COMPUTER_SOFTWARE", "RETAIL", ""]), max_size=3).map(Options)),
    "pricing_page_views": _SHAPED,
    "mql_date": st.one_of(st.none(), st.lists(st.sampled_from(["2026-11-01", "x"]), max_size=2)),
    "lead_score": _SHAPED,
    "country": st.just("US"),
})  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(leads=st.lists(_LEADS, min_size=2, max_size=6))
def test_the_memo_never_serves_one_shape_for_another(leads: list[dict[str, Any]], now: datetime) -> None:
    """A ruleset warmed by earlier leads decides each lead exactly as a fresh one does."""
    warm = load_ruleset(SAL)
    for lead in leads:
        expected = evaluate(lead, load_ruleset(SAL), now)
        assert evaluate(lead, warm, now).to_dict() == expected.to_dict()
