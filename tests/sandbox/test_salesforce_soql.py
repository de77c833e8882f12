"""The emulator's SOQL subset: parsing and evaluation on plain dicts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.sandbox.soql import SoqlError, compile_where, matches, parse, run

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


_VALUES = ["MQL", "mql", "Open", "x@ex.com", "X@EX.COM", 10, 300, None, True, ""]


@st.composite
def _where(draw: st.DrawFn, depth: int = 0) -> str:
    """A random WHERE clause over ROWS' fields: IN / NOT IN / = / LIKE, nested AND/OR/NOT."""
    if depth < 2 and draw(st.booleans()):
        op = draw(st.sampled_from(["AND", "OR", "NOT"]))
        if op == "NOT":
            return f"NOT ({draw(_where(depth + 1))})"
        return f"({draw(_where(depth + 1))}) {op} ({draw(_where(depth + 1))})"
    field = draw(st.sampled_from(["Id", "Email", "Status", "NumberOfEmployees", "IsConverted"]))
    literals = [v for v in draw(st.lists(st.sampled_from(_VALUES), min_size=1, max_size=3))
                if v is not None]
    text = ", ".join(repr(v) if isinstance(v, str) else str(v).upper() if isinstance(v, bool)
                     else str(v) for v in literals) or "'none'"
    if draw(st.booleans()):
        return f"{field} {draw(st.sampled_from(['IN', 'NOT IN']))} ({text})"
    return f"{field} = {text.split(', ')[0]}"


@settings(max_examples=300, deadline=None)
@given(where=_where())
def test_compiled_where_answers_like_the_tree_walk(where: str) -> None:
    """``run`` compiles the WHERE once (``compile_where``); each row gets ``matches``' answer."""
    query = parse(f"SELECT Id FROM Lead WHERE {where}", SCHEMA)
    compiled = compile_where(query.where)
    rows = [*ROWS, {"Id": "d", "Email": None, "Status": 5, "NumberOfEmployees": "10"}]
    assert [compiled(r) for r in rows] == [matches(query.where, r) for r in rows]
