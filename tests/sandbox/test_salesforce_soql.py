"""The emulator's SOQL subset: parsing and evaluation on plain dicts."""

from __future__ import annotations

import pytest

from connectors.sandbox.soql import SoqlError, parse, run

SCHEMA = {"Lead": ["Id", "Email", "Status", "NumberOfEmployees", "IsConverted", "SystemModstamp"]}
ROWS = [
    {"Id": "a", "Email": "x@ex.com", "Status": "MQL", "NumberOfEmployees": 10,
     "IsConverted": False, "SystemModstamp": "2026-01-01T00:00:00.000+0000"},
    {"Id": "B", "Email": "y@ex.com", "Status": "Open", "NumberOfEmployees": None,
     "IsConverted": True, "SystemModstamp": "2026-01-02T00:00:00.000+0000"},
    {"Id": "c", "Email": "z_1@ex.com", "Status": "MQL", "NumberOfEmployees": 300,
     "IsConverted": False, "SystemModstamp": "2026-01-03T00:00:00.500+0000"},
]


def ids(soql: str) -> list[str]:
    return [r["Id"] for r in run(parse(soql, SCHEMA), ROWS)]


@pytest.mark.parametrize(("where", "expected"), [
    ("Status = 'mql'", ["a", "c"]),
    ("Status NOT IN ('MQL')", ["B"]),
    ("NOT (Status = 'MQL' AND NumberOfEmployees > 100)", ["a", "B"]),
    ("NumberOfEmployees = null", ["B"]),
    ("NumberOfEmployees != NULL AND NumberOfEmployees <= 10", ["a"]),
    ("IsConverted = TRUE OR Email LIKE 'z\\_%'", ["B", "c"]),
    ("SystemModstamp > 2026-01-03T00:00:00Z", ["c"]),
    ("SystemModstamp >= 2026-01-02", ["B", "c"]),
    ("Email = 'it''s'", None),
])
def test_where_clauses(where, expected):
    if expected is None:
        with pytest.raises(SoqlError):
            ids(f"SELECT Id FROM Lead WHERE {where}")
    else:
        assert ids(f"SELECT Id FROM Lead WHERE {where}") == expected


def test_order_nulls_offset_limit():
    assert ids("SELECT Id FROM Lead ORDER BY NumberOfEmployees DESC NULLS LAST") == ["c", "a", "B"]
    assert ids("SELECT Id FROM Lead ORDER BY NumberOfEmployees ASC NULLS FIRST") == ["B", "a", "c"]
    assert ids("SELECT Id FROM Lead ORDER BY Id LIMIT 2 OFFSET 1") == ["a", "c"]


def test_escaped_quotes_in_literals():
    rows = [{"Id": "q", "Email": "o'brien@ex.com"}]
    query = parse("SELECT Id FROM Lead WHERE Email = 'O\\'Brien@ex.com'", SCHEMA)
    assert [r["Id"] for r in run(query, rows)] == ["q"]


@pytest.mark.parametrize(("soql", "code"), [
    ("SELECT Id FROM Lead LIMIT -1", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead WHERE Status = ", "MALFORMED_QUERY"),
    ("SELECT Id FROM Contact", "INVALID_TYPE"),
    ("SELECT Id FROM Lead ORDER BY Foo", "INVALID_FIELD"),
    ("SELECT Id FROM Lead WHERE Status IN 'MQL'", "MALFORMED_QUERY"),
    ("SELECT Id FROM Lead extra", "MALFORMED_QUERY"),
])
def test_refusals(soql, code):
    with pytest.raises(SoqlError) as info:
        parse(soql, SCHEMA)
    assert info.value.code == code
