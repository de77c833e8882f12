"""Property-based: random rules documents only ever fail with RulesError; random leads
never make evaluation raise."""

# ruff: noqa: E501 - tables of rule snippets and leads read best one case per line

from __future__ import annotations

import json
import tempfile
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync_agent.errors import RulesError
from sync_agent.model import CANONICAL_FIELDS, Decision
from sync_agent.rules import evaluate, load_ruleset
from sync_agent.rules.operators import OPS

REPO = Path(__file__).resolve().parents[2]
SAL_DOC = tomllib.loads((REPO / "rules" / "sal.toml").read_text("utf-8"))
SAL = load_ruleset(REPO / "rules" / "sal.toml")
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELD_NAMES = [
    *CANONICAL_FIELDS,
    "email_domain",
    "is_free_email",
    "days_since_mql_date",
    "hubspot.x",
    "nope",
]
scalars = st.one_of(
    st.text(max_size=12), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.dates(), st.sampled_from(FIELD_NAMES), st.sampled_from([*OPS, "betwen", ">="]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["field", "op", "value", "list", "all", "any", "not", "name", "weight", "points", "when",
         "checks", "tiers", "scoring", "accept_at", "review_at", "case_sensitive", "x"]), inner, max_size=5),
    max_leaves=20,
)  # fmt: skip


def to_toml(value: Any) -> str:
    """A minimal TOML writer for the generated documents (inline tables everywhere)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {to_toml(v)}" for k, v in value.items()) + "}"


def write_doc(doc: dict[str, Any], folder: Path) -> Path:
    path = folder / "random.toml"
    path.write_text(
        "\n".join(f"{json.dumps(k)} = {to_toml(v)}" for k, v in doc.items()) + "\n", "utf-8"
    )
    return path


def mutate(doc: Any, path: list[int], replacement: Any) -> Any:
    """Replace one node of ``doc`` (chosen by ``path``) with ``replacement``."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return replacement
    keys = list(doc) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[key] = mutate(doc[key], path[1:], replacement)  # type: ignore[index]
    return copy


def assert_only_rules_error(path: Path) -> None:
    try:
        ruleset = load_ruleset(path)
    except RulesError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
    else:
        assert isinstance(evaluate({"email": "a@b.co", "lead_score": "80"}, ruleset, NOW), Decision)


@SETTINGS
@given(st.lists(st.integers(0, 50), min_size=1, max_size=6), values)
def test_mutated_sal_documents_never_raise_anything_but_rules_error(
    path: list[int], replacement: Any
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "lists").symlink_to(REPO / "rules" / "lists")
        assert_only_rules_error(write_doc(mutate(SAL_DOC, path, replacement), Path(folder)))


@SETTINGS
@given(st.dictionaries(st.sampled_from(["ruleset", "threshold", "lists", "gates", "disqualifiers",
                                        "fast_lanes", "criteria", "extra"]), values, max_size=6))  # fmt: skip
def test_random_documents_never_raise_anything_but_rules_error(doc: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        assert_only_rules_error(write_doc(doc, Path(folder)))


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_never_raise_anything_but_rules_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bytes.toml"
        path.write_bytes(data)
        assert_only_rules_error(path)


lead_values = st.one_of(
    st.none(), st.text(max_size=20), st.integers(-(2**70), 2**70), st.floats(), st.booleans(),
    st.datetimes(), st.dates(), st.sampled_from(["", " ", "1,200", "2026-11-02", "1762079400000", "nan",
                                                 "true", "99999999999999999999999", "-1e309"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
leads = st.dictionaries(
    st.sampled_from([*CANONICAL_FIELDS, "hubspot", "hubspot.x", "other"]), lead_values
)


@SETTINGS
@given(leads, st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
def test_random_leads_never_make_evaluation_raise(lead: dict[str, Any], when: datetime) -> None:
    decision = evaluate(lead, SAL, when)
    assert decision.outcome.value in ("accepted", "rejected", "review")
    assert 0 <= decision.score <= 100
    json.dumps(decision.to_dict())
