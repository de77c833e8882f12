"""The fast verdict decides exactly as ``Ruleset.evaluate``: random rulesets and leads.

Rulesets come from a grammar of valid parts (every operator, derived and raw fields,
nested all/any/not, the five scoring modes, thresholds with and without review); leads
mix the value types sources send (numbers as text, "1,200", blanks, dates as ISO text or
epoch ms, booleans as text, unhashable values). Both must agree on outcome and score.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulate_world import SAL, STRICTER, World, fields, latest_rows

from sync_agent.rules import evaluate, load_ruleset
from sync_agent.simulate import verdict as verdict_module
from sync_agent.simulate.verdict import compile_verdict

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
#: Values that may read as more than one plain value (a range, options): the engine's
#: own leaf decides them, for the verdict too.
SHAPES = ["100-500", "1000+", "51-200 employees", "a;b", ["US", "FR"], ("1", 2)]

LEAVES = [
    '{ field = "lead_score", op = "gte", value = 50 }',
    '{ field = "lead_score", op = "lt", value = 30.5 }',
    '{ field = "lead_score", op = "equals", value = 70 }',
    '{ field = "employees", op = "between", value = [50, 5000] }',
    '{ field = "employees", op = "in", value = [10, 100, 1200] }',
    '{ field = "country", op = "in", value = ["US", "de"] }',
    '{ field = "country", op = "not_in", value = ["FR"] }',
    '{ field = "country", op = "equals", value = "US", case_sensitive = true }',
    "{ field = \"title\", op = \"matches\", value = '\\b(vp|head|chief)\\b' }",
    '{ field = "title", op = "contains", value = "Head" }',
    '{ field = "title", op = "starts_with", value = "VP" }',
    '{ field = "title", op = "ends_with", value = "er" }',
    '{ field = "title", op = "not_contains", value = "intern" }',
    '{ field = "email", op = "present" }',
    '{ field = "phone", op = "missing" }',
    '{ field = "industry", op = "not_equals", value = "RETAIL" }',
    '{ field = "industry", op = "in", list = "industries" }',
    '{ field = "demo_requested", op = "is_true" }',
    '{ field = "trial_started", op = "is_false" }',
    '{ field = "webinar_attended_date", op = "within_days", value = 30 }',
    '{ field = "last_activity_date", op = "older_than_days", value = 14 }',
    '{ field = "mql_date", op = "gt", value = 2026-01-01 }',
    '{ field = "email_domain", op = "in", value = ["rivalcrm.com", "acme.org"] }',
    '{ field = "is_free_email", op = "is_true" }',
    '{ field = "is_free_email", op = "is_false" }',
    '{ field = "days_since_mql_date", op = "lte", value = 30 }',
    '{ field = "hubspot.x", op = "equals", value = "a" }',
    '{ field = "lifecycle_stage", op = "in", value = ["customer", "evangelist"] }',
    '{ field = "pricing_page_views", op = "gte", value = 2 }',
    '{ field = "timeline", op = "equals", value = "now" }',
]

conditions = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: "{ all = [" + ", ".join(xs) + "] }"),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: "{ any = [" + ", ".join(xs) + "] }"),
        inner.map(lambda x: "{ not = " + x + " }"),
    ),
    max_leaves=4,
)  # fmt: skip


@st.composite
def criteria(draw: st.DrawFn, weight: int, index: int) -> str:
    mode = draw(st.sampled_from(["all", "any", "share", "points", "tiers"]))
    items = draw(st.lists(conditions, min_size=1, max_size=4))
    head = f'[[criteria]]\nname = "c{index}"\nweight = {weight}\nscoring = "{mode}"\n'
    if mode == "tiers":
        tiers = [f"{{ when = {c}, points = {draw(st.integers(0, weight))} }}" for c in items]
        return head + "tiers = [" + ", ".join(tiers) + "]\n"
    if mode == "points":
        checks = [c[:-1] + f", points = {draw(st.integers(0, weight))} }}" for c in items]
    else:
        checks = items
    return head + "checks = [" + ", ".join(checks) + "]\n"


@st.composite
def rulesets(draw: st.DrawFn) -> str:
    accept = draw(st.one_of(st.integers(0, 100), st.sampled_from([10, 25, 50])))
    review = draw(st.one_of(st.none(), st.integers(0, accept - 1))) if accept else None
    out = ['[ruleset]\nname = "random"\n', f"[threshold]\naccept_at = {accept}\n"]
    if review is not None:
        out.append(f"review_at = {review}\n")
    out.append('[lists]\nfree_email_domains = ["gmail.com", "yahoo.com"]\n'
               'industries = ["COMPUTER_SOFTWARE", "Internet"]\n')  # fmt: skip
    for section, most in (("gates", 1), ("disqualifiers", 1), ("fast_lanes", 2)):
        for i, condition in enumerate(draw(st.lists(conditions, max_size=most))):
            out.append(f'[[{section}]]\nname = "{section}{i}"\nwhen = {condition}\n')
    cut = draw(st.integers(1, 99))
    weights = draw(st.sampled_from([[100], [cut, 100 - cut], [20, 30, 25, 25]]))
    out += [draw(criteria(w, i)) for i, w in enumerate(weights)]
    return "\n".join(out)


values = st.one_of(
    st.none(), st.sampled_from(["", " ", "72", "1,200", "abc", "12.5", "true", "no", "N/A"]),
    st.sampled_from([True, 1, 1.0, "1", False, 0, 0.0, "0"]),  # equal keys, other types
    st.sampled_from(SHAPES),
    st.integers(-5, 10_000), st.floats(-1e6, 1e6, allow_nan=False), st.booleans(),
    st.sampled_from(["US", "de", "FR", "Head of Sales", "VP Marketing", "Engineer", "Intern",
                     "RETAIL", "Internet", "customer", "now", "a"]),
    st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 1, 1)).map(
        lambda d: d.isoformat()),
    st.integers(1_700_000_000_000, 1_800_000_000_000).map(str),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(),
                                                          max_size=1),
)  # fmt: skip
FIELDS = ["lead_score", "employees", "country", "title", "phone", "industry",
          "demo_requested", "trial_started", "webinar_attended_date", "last_activity_date",
          "mql_date", "hubspot.x", "lifecycle_stage", "pricing_page_views", "timeline"]  # fmt: skip
emails = st.sampled_from(["dana@gmail.com", "x@RivalCRM.com ", "bad", "", "a@acme.org", "b@c"])
leads = st.fixed_dictionaries(
    {"email": st.one_of(emails, values)}, optional={f: values for f in FIELDS}
)


def _load(text: str) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "random.toml"
        path.write_text(text, "utf-8")
        return load_ruleset(path)


@settings(max_examples=120, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))  # fmt: skip
@given(rulesets(), st.lists(leads, min_size=1, max_size=25), st.integers(-400, 400))
def test_random_rulesets_and_leads_decide_alike(
    text: str, batch: list[dict[str, Any]], days: int
) -> None:
    ruleset = _load(text)
    verdict = compile_verdict(ruleset.spec)
    assert verdict is not None
    now = NOW + timedelta(days=days)
    for lead in batch:
        decision = evaluate(lead, ruleset, now)
        assert verdict(lead, now) == (decision.outcome, decision.score), (text, lead)


def test_the_shipped_rulesets_decide_every_sandbox_lead_alike(world: World) -> None:
    for path in (SAL, STRICTER):
        ruleset = load_ruleset(path)
        verdict = compile_verdict(ruleset.spec)
        assert verdict is not None
        for row in latest_rows(world):
            lead, now = fields(row), datetime.fromisoformat(row["decided_at"])
            decision = evaluate(lead, ruleset, now)
            assert verdict(lead, now) == (decision.outcome, decision.score), row["id"]
            naive = now.replace(tzinfo=None)
            assert verdict(lead, naive) == verdict(lead, now)


def test_the_example_leads_decide_alike() -> None:
    ruleset = load_ruleset(SAL)
    verdict = compile_verdict(ruleset.spec)
    assert verdict is not None
    for path in sorted((SAL.parent / "examples").glob("*.json")):
        data = json.loads(path.read_text("utf-8"))
        lead = data.get("fields", data)
        decision = evaluate(lead, ruleset, NOW)
        assert verdict(lead, NOW) == (decision.outcome, decision.score), path.name


def test_values_that_are_equal_keys_but_other_types_are_not_confused() -> None:
    """1, 1.0 and True are one dict key, yet a number rule reads True as unreadable."""
    ruleset = _load(
        '[ruleset]\nname = "keys"\n[threshold]\naccept_at = 50\n'
        '[lists]\nfree_email_domains = ["gmail.com"]\n'
        '[[criteria]]\nname = "low"\nweight = 50\n'
        'checks = [{ field = "lead_score", op = "lt", value = 30 }]\n'
        '[[criteria]]\nname = "yes"\nweight = 50\n'
        'checks = [{ field = "demo_requested", op = "is_true" }]\n'
    )
    verdict = compile_verdict(ruleset.spec)
    assert verdict is not None
    decided = set()
    for value in (1, True, 1.0, "1", 0, False, 0.0, "0", True, 1):
        lead = {"lead_score": value, "demo_requested": value}
        decision = evaluate(lead, ruleset, NOW)
        assert verdict(lead, NOW) == (decision.outcome, decision.score), value
        decided.add((type(value), decision.score))
    assert (int, 100.0) in decided and (bool, 50.0) in decided  # the types do differ


def test_a_value_that_is_not_plain_is_decided_by_the_engines_leaf(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A coercer that gives something else than one number, text, date or yes/no (a range
    of numbers, options...) has comparison rules the engine owns: its leaf decides; and
    without that leaf the verdict leaves the lead to the engine (None)."""

    class Shape:
        pass

    monkeypatch.setitem(verdict_module.COERCERS, "number", lambda raw: Shape())
    ruleset = load_ruleset(SAL)  # the engine compiled with the same coercer
    lead = {"email": "dana@northwind.io", "country": "US", "lead_score": "72"}
    decision = evaluate(lead, ruleset, NOW)
    verdict = compile_verdict(ruleset.spec)
    assert verdict is not None and verdict(lead, NOW) == (decision.outcome, decision.score)
    monkeypatch.setattr(verdict_module, "_engine_leaf", lambda leaf: None)
    deferring = compile_verdict(ruleset.spec)
    assert deferring is not None and deferring(lead, NOW) is None
    assert deferring({"email": "dana@gmail.com"}, NOW) is not None  # no number read
