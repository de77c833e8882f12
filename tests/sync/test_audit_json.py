"""The audit log's JSON columns read back the same whichever encoder wrote them.

``records.dumps`` takes orjson for speed and the standard encoder for what orjson would
write differently (NaN, enums, offsets with seconds, big integers, lone surrogates); and
the explanation column is assembled from per-node pieces. Readers (``json.loads``,
SQLite's JSON functions) must see exactly the values the standard encoder gave before.
"""

from __future__ import annotations

import json
import math
import sqlite3
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_agent.audit.records import dumps, explanation_json
from sync_agent.model import Check, _jsonable
from sync_agent.rules.shapes import NumberRange


class Colour(Enum):
    RED = 1


def standard(value: Any) -> str:
    """What the audit columns held before: the standard library's encoder."""
    return json.dumps(value, default=_jsonable, ensure_ascii=False, sort_keys=True)


def read_back(text: str) -> str:
    """The values a reader gets, in one comparable form (NaN equals NaN as text)."""
    return json.dumps(json.loads(text), sort_keys=True)


ODD = [
    float("nan"), float("inf"), -0.0, 1e16, 0.1, 2**70, -(2**63), "\ud800 lone", "é ü 中 \u2028",
    Colour.RED, date(2025, 1, 2), datetime(2025, 1, 2, 3, 4, 5, 6),
    datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2025, 1, 2, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    datetime(2025, 1, 2, tzinfo=timezone(timedelta(hours=-1, seconds=-15))),
    NumberRange(100, 500, "100-500"), (1, "a"), {"b": 1, "a": [None, True]}, {3: "int key"},
]  # fmt: skip


def test_odd_values_read_back_as_the_standard_encoder_wrote_them() -> None:
    for value in ODD:
        for wrapped in (value, [value], {"k": value}, {"k": {"nested": [value]}}):
            assert read_back(dumps(wrapped)) == read_back(standard(wrapped)), wrapped


def test_nan_is_not_written_as_null() -> None:
    assert math.isnan(json.loads(dumps({"x": float("nan")}))["x"])


_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    | st.datetimes(timezones=st.none() | st.just(UTC)) | st.dates()
)  # fmt: skip
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_any_json_like_value_reads_back_the_same(value: Any) -> None:
    assert read_back(dumps(value)) == read_back(standard(value))


def test_sqlite_json_functions_read_the_compact_form() -> None:
    conn = sqlite3.connect(":memory:")
    text = dumps({"email": "a@b.c", "score": 1.5, "tags": ["x"]})
    found = conn.execute("SELECT json_extract(?, '$.email'), json_valid(?)", (text, text))
    assert found.fetchone() == ("a@b.c", 1)


def test_explanation_column_is_the_nodes_dicts_and_reuses_shared_nodes() -> None:
    leaf = Check("condition", "country in EU", False, value="United States")
    shared = Check("criterion", "Geography", True, points=10.0, max_points=20.0, children=(leaf,))
    other = Check("gate", "has email", True, detail="email is set")
    first = [shared, other]
    again = [shared, Check("gate", "has email", False)]
    odd = Check("criterion", "Odd", False, children=(
        leaf, Check("condition", "nan", False, value=float("nan")),
        Check("condition", "list", True, value=["a", None]),
        Check("condition", "big", True, value=2**80),
    ))  # fmt: skip
    for checks in (first, again, [], [shared], [odd, shared], [odd]):
        expected = [c.to_dict() for c in checks]
        assert read_back(explanation_json(checks)) == read_back(standard(expected))
