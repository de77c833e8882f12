"""Values read by the type their property declares, in the mapping, before the rules see
them: ranges, multi-selects, dates vs date-times, separators, booleans as each CRM sends
them (/work/shared/docs/real-portals.md). And the acceptance test of the issue: on a real
portal ``numemployees`` is "100-500", never "250", and must score the same.
"""

# ruff: noqa: E501 - tables of values read best one case per line

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from connectors.hubspot.schema import parse_properties as hubspot_schema
from connectors.hubspot.settings import DEFAULT_FIELD_MAP as HUBSPOT_FIELDS
from connectors.mapping import (
    FieldMapping,
    PropertyType,
    to_mql,
)
from connectors.salesforce.schema import parse_describe as salesforce_schema
from connectors.salesforce.settings import DEFAULT_FIELD_MAP as SALESFORCE_FIELDS
from sync_agent.audit.records import dumps
from sync_agent.model import MQL, Decision
from sync_agent.rules import evaluate, load_ruleset
from sync_agent.rules.render import decision_table
from sync_agent.rules.shapes import NumberRange, Options

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SAL = load_ruleset(REPO / "rules" / "sal.toml")

#: As GET /crm/v3/properties/contacts returns them (trimmed to the keys we read).
HUBSPOT_PROPERTIES = [
    {"name": "numemployees", "type": "enumeration", "fieldType": "select", "options": [
        {"label": "1-5", "value": "1-5"}, {"label": "5-25", "value": "5-25"},
        {"label": "25-50", "value": "25-50"}, {"label": "50-100", "value": "50-100"},
        {"label": "100-500", "value": "100-500"}, {"label": "500-1000", "value": "500-1000"},
        {"label": "1000+", "value": "1000+"}]},
    {"name": "industry", "type": "enumeration", "fieldType": "checkbox", "options": [
        {"label": "Computer Software", "value": "COMPUTER_SOFTWARE"}, {"label": "Retail", "value": "RETAIL"}]},
    {"name": "hubspotscore", "type": "number", "fieldType": "calculation_score", "options": []},
    {"name": "demo_requested", "type": "bool", "fieldType": "booleancheckbox", "options": [
        {"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]},
    {"name": "webinar_attended_date", "type": "date", "fieldType": "date"},
    {"name": "notes_last_updated", "type": "datetime", "fieldType": "date"},
    {"name": "pricing_page_views", "type": "number", "fieldType": "number"},
    "not a property",
    {"type": "string"},
]

#: As GET /services/data/vXX.X/sobjects/Lead/describe returns them (trimmed).
SALESFORCE_DESCRIBE = {"fields": [
    {"name": "NumberOfEmployees", "type": "int", "picklistValues": []},
    {"name": "Industry", "type": "picklist", "picklistValues": [{"value": "Retail", "label": "Retail", "active": True}]},
    {"name": "Interests__c", "type": "multipicklist", "picklistValues": [{"value": "CRM", "label": "CRM"}]},
    {"name": "AnnualRevenue", "type": "currency"},
    {"name": "Demo__c", "type": "boolean"},
    {"name": "CreatedDate", "type": "datetime"},
    {"name": "Webinar__c", "type": "date"},
    {"name": "Share__c", "type": "percent"},
    {"name": "Score__c", "type": "double"},
]}

LEAD = {"email": "dana@northwind.io", "firstname": "Dana", "lastname": "Ng", "company": "Northwind",
        "jobtitle": "VP Sales", "phone": "+1 415 555 0100", "industry": "COMPUTER_SOFTWARE", "country": "US",
        "hubspotscore": "82", "demo_requested": "true", "pricing_page_views": "3"}  # fmt: skip


def _hubspot(props: dict[str, Any], schema: Any = None) -> MQL:
    mql = to_mql("hubspot", "101", props, FieldMapping(HUBSPOT_FIELDS), raw_prefix="hubspot", schema=schema)
    assert isinstance(mql, MQL), mql
    return mql


def _decide(fields: Any) -> Decision:
    return evaluate(fields, SAL, NOW)


@pytest.mark.parametrize("schema", [None, hubspot_schema(HUBSPOT_PROPERTIES)], ids=["no schema", "portal schema"])
@pytest.mark.parametrize(("range_text", "number"), [("100-500", "250"), ("5-25", "10"), ("50-100", "75"), ("1-5", "3")])
def test_an_employee_range_scores_like_a_number_inside_it(schema: Any, range_text: str, number: str) -> None:
    """The issue: "100-500" scored 52.5 and was rejected where "250" scored 62.5."""
    ranged = _decide(_hubspot({**LEAD, "numemployees": range_text}, schema).fields)
    plain = _decide(_hubspot({**LEAD, "numemployees": number}, schema).fields)
    assert (ranged.outcome, ranged.score) == (plain.outcome, plain.score)


def test_the_explanation_shows_the_range() -> None:
    decision = _decide(_hubspot({**LEAD, "numemployees": "100-500"}, hubspot_schema(HUBSPOT_PROPERTIES)).fields)
    console = Console(width=140, record=True)
    console.print(decision_table(decision))
    assert "range 100–500" in console.export_text()


def test_without_a_schema_a_range_is_still_read_for_number_fields_only() -> None:
    fields = _hubspot({**LEAD, "numemployees": "100-500", "jobtitle": "10-20"}).fields
    assert fields["employees"] == NumberRange(100, 500, "100-500")
    assert fields["title"] == "10-20" and fields["hubspot.numemployees"] == "100-500"


def test_hubspot_properties_become_declared_types() -> None:
    schema = hubspot_schema(HUBSPOT_PROPERTIES)
    assert hubspot_schema({"results": HUBSPOT_PROPERTIES}) == schema  # the body works too
    assert set(schema) == {"numemployees", "industry", "hubspotscore", "demo_requested",
                           "webinar_attended_date", "notes_last_updated", "pricing_page_views"}  # fmt: skip
    size = schema["numemployees"]
    assert (size.type, size.field_type, size.is_multi) == ("enumeration", "select", False)
    assert size.options[-1] == ("1000+", "1000+")
    assert schema["industry"].is_multi
    assert schema["demo_requested"].reads_as == "bool"
    assert schema["webinar_attended_date"].reads_as == "date"
    assert schema["notes_last_updated"].reads_as == "datetime"


def test_salesforce_describe_becomes_declared_types() -> None:
    schema = salesforce_schema(SALESFORCE_DESCRIBE)
    assert {n: t.reads_as for n, t in schema.items()} == {
        "NumberOfEmployees": "number", "Industry": "enumeration", "Interests__c": "enumeration",
        "AnnualRevenue": "number", "Demo__c": "bool", "CreatedDate": "datetime", "Webinar__c": "date",
        "Share__c": "number", "Score__c": "number"}  # fmt: skip
    assert schema["Interests__c"].is_multi and not schema["Industry"].is_multi


@pytest.mark.parametrize("junk", [None, 5, "x", [], {"fields": 5}, {"fields": [None, {"name": 5}]}])
def test_a_schema_that_is_not_one_gives_no_types_and_no_error(junk: Any) -> None:
    assert salesforce_schema(junk) == {}
    assert hubspot_schema(junk) == {}


OPAQUE_SIZES = PropertyType("company_size", "enumeration", "select",
                            (("opt_1", "1-50 employees"), ("opt_2", "51-200 employees"), ("opt_3", "10,001+ employees")))  # fmt: skip
MULTI = PropertyType("interests", "enumeration", "checkbox")
SF_MULTI = PropertyType("Interests__c", "multipicklist")


@pytest.mark.parametrize(
    ("canonical", "declared", "sent", "read"),
    [
        # ranges: by value, or by the option's label when the value is an internal name
        ("employees", PropertyType("numemployees", "enumeration", "select"), "100-500", NumberRange(100, 500, "100-500")),
        ("employees", OPAQUE_SIZES, "opt_2", NumberRange(51, 200, "51-200 employees")),
        ("employees", OPAQUE_SIZES, "opt_3", NumberRange(10001, None, "10,001+ employees")),
        ("employees", OPAQUE_SIZES, "opt_9", "opt_9"),
        # numbers with thousands separators, when the property is declared a number
        ("employees", PropertyType("NumberOfEmployees", "int"), "1,200", 1200),
        ("lead_score", PropertyType("AnnualRevenue", "currency"), "1,200.50", 1200.5),
        ("lead_score", PropertyType("Score__c", "double"), 72.5, 72.5),
        ("lead_score", PropertyType("Score__c", "double"), "lots", "lots"),
        # multi-selects: ";"-joined text or a list, read option by option
        ("industry", MULTI, "COMPUTER_SOFTWARE;RETAIL", Options(["COMPUTER_SOFTWARE", "RETAIL"])),
        ("industry", SF_MULTI, "CRM; ERP ;", Options(["CRM", "ERP"])),
        ("industry", MULTI, ["A", "A", "B"], Options(["A", "B"])),
        ("industry", MULTI, ";", None),
        ("page_views", MULTI, "3;12;x", Options([3, 12, "x"])),
        ("employees", MULTI, "1-5;5-25", Options([NumberRange(1, 5, "1-5"), NumberRange(5, 25, "5-25")])),
        # dates hold midnight UTC; date-times keep their time (ISO or epoch milliseconds)
        ("mql_date", PropertyType("d", "date"), "1762041600000", datetime(2025, 11, 2, tzinfo=UTC)),
        ("mql_date", PropertyType("d", "date"), "2026-11-02T05:30:00Z", datetime(2026, 11, 2, tzinfo=UTC)),
        ("mql_date", PropertyType("d", "date"), "2026-11-02", datetime(2026, 11, 2, tzinfo=UTC)),
        ("mql_date", PropertyType("d", "datetime"), "1762079400000", datetime(2025, 11, 2, 10, 30, tzinfo=UTC)),
        ("mql_date", PropertyType("d", "datetime"), 1762079400000, datetime(2025, 11, 2, 10, 30, tzinfo=UTC)),
        ("mql_date", PropertyType("CreatedDate", "datetime"), "2026-11-02T10:30:00.000+0000", datetime(2026, 11, 2, 10, 30, tzinfo=UTC)),
        ("mql_date", PropertyType("d", "datetime"), "yesterday", "yesterday"),
        # booleans as each system sends them
        ("demo_requested", PropertyType("b", "bool", "booleancheckbox"), "true", True),
        ("demo_requested", PropertyType("Demo__c", "boolean"), False, False),
        ("demo_requested", PropertyType("b", "bool"), "Yes", True),
        ("demo_requested", PropertyType("b", "bool"), "1", True),
        ("demo_requested", PropertyType("b", "enumeration", "radio", (("opt_a", "Yes"), ("opt_b", "No"))), "opt_b", False),
        # text stays text; blanks are absent
        ("industry", PropertyType("Industry", "picklist"), "Retail", "Retail"),
        ("industry", PropertyType("Industry", "picklist"), "  ", None),
    ],
)
def test_values_are_read_by_their_declared_type(canonical: str, declared: PropertyType, sent: Any, read: Any) -> None:
    mapping = FieldMapping({canonical: declared.name})
    mql = to_mql("crm", "1", {declared.name: sent}, mapping, raw_prefix="crm", schema={declared.name: declared})
    assert isinstance(mql, MQL)
    got = mql.fields[canonical]
    assert got == read and type(got) is type(read)
    assert mql.fields[f"crm.{declared.name}"] == sent  # raw properties stay as sent


def test_salesforce_leads_read_with_their_describe() -> None:
    schema = salesforce_schema(SALESFORCE_DESCRIBE)
    mapping = FieldMapping({**SALESFORCE_FIELDS, "demo_requested": "Demo__c", "recent_conversion": "Interests__c"})
    record = {"Email": "kim@acme.com", "NumberOfEmployees": 250, "Demo__c": True, "Interests__c": "CRM;ERP",
              "CreatedDate": "2026-11-02T10:30:00.000+0000", "Industry": "Retail"}  # fmt: skip
    mql = to_mql("crm", "00Q1", record, mapping, raw_prefix="salesforce", schema=schema)
    assert isinstance(mql, MQL)
    f = mql.fields
    assert (f["employees"], f["demo_requested"], f["recent_conversion"]) == (250, True, Options(["CRM", "ERP"]))
    assert f["created_date"] == datetime(2026, 11, 2, 10, 30, tzinfo=UTC)


PORTAL_LEADS = [
    {**LEAD, "numemployees": "100-500"},
    {**LEAD, "numemployees": "1000+", "industry": "RETAIL;COMPUTER_SOFTWARE"},
    {**LEAD, "numemployees": "5-25", "industry": "RETAIL", "demo_requested": "false"},
    {**LEAD, "numemployees": "25-50", "notes_last_updated": "1795507200000", "webinar_attended_date": "1795219200000"},
    {**LEAD, "numemployees": "9" * 5000, "hubspotscore": "1,200"},
]


@pytest.mark.parametrize("props", PORTAL_LEADS, ids=range(len(PORTAL_LEADS)))
@pytest.mark.parametrize("schema", [None, hubspot_schema(HUBSPOT_PROPERTIES)], ids=["no schema", "portal schema"])
def test_a_stored_snapshot_decides_again_the_same_way(props: dict[str, Any], schema: Any) -> None:
    """The audit log keeps dumps(mql.fields); "rules simulate" will re-decide it."""
    mql = _hubspot(props, schema)
    stored = json.loads(dumps(mql.fields))
    first, again = _decide(mql.fields), _decide(stored)
    assert (again.outcome, again.score, again.reasons) == (first.outcome, first.score, first.reasons)
    assert [c.to_dict() for c in again.explanation] == [c.to_dict() for c in first.explanation]
    assert json.loads(dumps(stored)) == stored  # and it stays the same when stored again
