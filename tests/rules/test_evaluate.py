"""Decisions: combinators, derived fields, verdict order, review band, hash, purity."""

# ruff: noqa: E501 - tables of rule snippets and leads read best one case per line

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sync_agent.model import Check, Decision, Outcome
from sync_agent.rules import evaluate, load_ruleset, memo

Probe = Callable[..., Check]
Writer = Callable[..., Path]

FULL = """
[ruleset]
name = "full"

[threshold]
accept_at = 70
review_at = 55

[[gates]]
name = "business_email"
field = "is_free_email"
op = "is_false"

[[disqualifiers]]
name = "competitor"
field = "email_domain"
op = "in"
value = ["rival.com"]

[[fast_lanes]]
name = "demo_and_pricing"
when = { all = [
  { field = "demo_requested", op = "is_true" },
  { field = "pricing_page_views", op = "gte", value = 2 },
] }

[[criteria]]
name = "score"
weight = 60
scoring = "tiers"
tiers = [
  { when = { field = "lead_score", op = "gte", value = 70 }, points = 60 },
  { when = { field = "lead_score", op = "gte", value = 50 }, points = 30 },
]

[[criteria]]
name = "complete"
weight = 40
scoring = "share"
checks = [
  { field = "first_name", op = "present" },
  { field = "last_name", op = "present" },
  { field = "company", op = "present" },
  { field = "title", op = "present" },
]
"""
LISTS = {"free_email_domains": "gmail.com\nyahoo.com\n"}
COMPLETE = {"first_name": "A", "last_name": "B", "company": "C", "title": "D"}


@pytest.fixture
def full(write_rules: Writer) -> Any:
    return load_ruleset(write_rules(FULL, lists=LISTS))


def decide(ruleset: Any, now: datetime, **fields: Any) -> Decision:
    return evaluate({"email": "a@corp.com", **fields}, ruleset, now)


@pytest.mark.parametrize(
    ("condition", "lead", "expected"),
    [
        ('{ all = [{ field = "email", op = "present" }, { field = "phone", op = "present" }] }', {"email": "x"}, False),
        ('{ any = [{ field = "email", op = "present" }, { field = "phone", op = "present" }] }', {"email": "x"}, True),
        ('{ not = { field = "phone", op = "present" } }', {}, True),
        ('{ not = { any = [{ field = "phone", op = "present" }] } }', {"phone": "1"}, False),
        ('{ any = [{ all = [{ field = "trial_started", op = "is_true" }, { field = "lead_score", op = "gt", value = 5 }] }, '
         '{ field = "demo_requested", op = "is_true" }] }', {"trial_started": "true", "lead_score": "6"}, True),
    ],
)  # fmt: skip
def test_combinators(probe: Probe, condition: str, lead: dict[str, Any], expected: bool) -> None:
    node = probe(condition, lead)
    assert node.passed is expected
    assert node.children[0].children, "a combinator shows its parts"


def test_combinator_children_each_carry_their_value(probe: Probe) -> None:
    node = probe('{ all = [{ field = "email", op = "present" }, { field = "phone", op = "present" }] }',
                 {"email": "a@b.c", "phone": ""})  # fmt: skip
    combo = node.children[0]
    assert combo.name == "all of 2"
    assert [(c.passed, c.value) for c in combo.children] == [(True, "a@b.c"), (False, "")]


@pytest.mark.parametrize(
    ("condition", "lead", "expected", "value"),
    [
        ('{ field = "email_domain", op = "equals", value = "corp.com" }', {"email": "Dana@CORP.com "}, True, "corp.com"),
        ('{ field = "email_domain", op = "present" }', {"email": "no-at-sign"}, True, None),
        ('{ field = "email_domain", op = "equals", value = "x" }', {}, False, None),
        ('{ field = "is_free_email", op = "is_true" }', {"email": "a@gmail.com"}, True, True),
        ('{ field = "is_free_email", op = "is_false" }', {"email": "a@corp.com"}, True, False),
        ('{ field = "is_free_email", op = "is_false" }', {}, False, None),
        ('{ field = "days_since_mql_date", op = "lte", value = 10 }', {"mql_date": "2026-11-20T12:00:00Z"}, True, 5.0),
        ('{ field = "days_since(mql_date)", op = "gt", value = 10 }', {"mql_date": "2026-11-20T12:00:00Z"}, False, 5.0),
        ('{ field = "days_since_mql_date", op = "gt", value = 1 }', {"mql_date": "yesterday"}, False, None),
        ('{ field = "days_since_hubspot.first_seen", op = "gte", value = 365 }', {"hubspot.first_seen": "2024-01-01"}, True, None),
    ],
)  # fmt: skip
def test_derived_fields(
    probe: Probe, condition: str, lead: dict[str, Any], expected: bool, value: Any
) -> None:
    leaf = probe(condition, lead, lists=LISTS).children[0]
    assert leaf.passed is expected
    if value is not None:
        assert leaf.value == value


def test_free_email_list_comes_from_the_ruleset_setting(write_rules: Writer, now: datetime) -> None:
    text = FULL.replace('name = "full"', 'name = "full"\nfree_email_list = "webmail"')
    ruleset = load_ruleset(write_rules(text, lists={"webmail": "corp.com\n"}))
    assert decide(ruleset, now).reasons == ("gate:business_email",)


def test_verdict_by_score_and_review_band(full: Any, now: datetime) -> None:
    accepted = decide(full, now, lead_score="80", **COMPLETE)
    assert (accepted.outcome, accepted.score, accepted.reasons) == (
        Outcome.ACCEPTED,
        100.0,
        ("score 100 >= 70",),
    )
    boundary = decide(full, now, lead_score="55", **COMPLETE)  # 30 + 40: exactly the threshold
    assert (boundary.outcome, boundary.score) == (Outcome.ACCEPTED, 70.0)
    band = decide(full, now, lead_score="55", first_name="A", last_name="B", company="C")  # 30 + 30
    assert (band.outcome, band.score, band.reasons) == (
        Outcome.REVIEW,
        60.0,
        ("score 60 in review band 55-70",),
    )
    low = decide(full, now, lead_score="10", **COMPLETE)
    assert (low.outcome, low.score, low.reasons) == (Outcome.REJECTED, 40.0, ("score 40 < 70",))


def test_threshold_node_closes_the_explanation(full: Any, now: datetime) -> None:
    decision = decide(full, now, lead_score="80", **COMPLETE)
    kinds = [c.kind for c in decision.explanation]
    assert kinds == ["gate", "disqualifier", "fast_lane", "criterion", "criterion", "threshold"]
    last = decision.explanation[-1]
    assert (last.passed, last.points, last.max_points) == (True, decision.score, 100.0)


def test_fast_lane_accepts_whatever_the_score(full: Any, now: datetime) -> None:
    decision = decide(full, now, demo_requested="true", pricing_page_views="3")
    assert decision.outcome is Outcome.ACCEPTED
    assert decision.score == 0
    assert decision.reasons == ("fast_lane:demo_and_pricing",)
    assert decision.fast_lane == "demo_and_pricing"


def test_disqualifier_beats_the_fast_lane(full: Any, now: datetime) -> None:
    decision = evaluate(
        {"email": "x@rival.com", "demo_requested": "true", "pricing_page_views": "3"}, full, now
    )
    assert (decision.outcome, decision.reasons, decision.fast_lane) == (
        Outcome.REJECTED, ("disqualifier:competitor",), None)  # fmt: skip
    lane = next(c for c in decision.explanation if c.kind == "fast_lane")
    assert lane.passed, "the explanation still shows the fast lane matched"


def test_gate_beats_the_fast_lane_and_the_score(full: Any, now: datetime) -> None:
    decision = evaluate({"email": "x@gmail.com", "demo_requested": "1", "pricing_page_views": "9",
                         "lead_score": "99", **COMPLETE}, full, now)  # fmt: skip
    assert (decision.outcome, decision.reasons) == (Outcome.REJECTED, ("gate:business_email",))
    assert decision.score == 100.0


def test_decision_carries_ruleset_identity_and_clock(full: Any, now: datetime) -> None:
    decision = decide(full, now)
    assert (decision.ruleset_name, decision.ruleset_hash, decision.decided_at) == (
        "full",
        full.hash,
        now,
    )
    assert len(full.hash) == 64
    assert Decision.from_dict(decision.to_dict()) == decision


def test_naive_clock_is_taken_as_utc(full: Any) -> None:
    decision = decide(full, datetime(2026, 1, 1, 9, 0), lead_score="80")
    assert decision.decided_at == datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def test_evaluation_is_pure_and_repeatable(full: Any, now: datetime) -> None:
    lead = {"email": "a@corp.com", "lead_score": "80", **COMPLETE}
    snapshot = dict(lead)
    first, second = evaluate(lead, full, now), evaluate(lead, full, now)
    assert first == second
    assert lead == snapshot


def test_points_scoring_caps_at_the_weight(write_rules: Writer, now: datetime) -> None:
    text = """
[threshold]
accept_at = 50
[[criteria]]
name = "intent"
weight = 100
scoring = "points"
checks = [
  { field = "demo_requested", op = "is_true", points = 80 },
  { field = "trial_started", op = "is_true", points = 40 },
]
"""
    ruleset = load_ruleset(write_rules(text))
    assert evaluate({"demo_requested": "true", "trial_started": "true"}, ruleset, now).score == 100
    assert evaluate({"trial_started": "true"}, ruleset, now).score == 40


@pytest.mark.parametrize(
    ("scoring", "met", "points"),
    [("all", 1, 0.0), ("all", 2, 100.0), ("any", 1, 100.0), ("share", 1, 50.0)],
)
def test_all_any_share_scoring(
    write_rules: Writer, now: datetime, scoring: str, met: int, points: float
) -> None:
    text = f"""
[threshold]
accept_at = 50
[[criteria]]
name = "c"
weight = 100
scoring = "{scoring}"
checks = [{{ field = "first_name", op = "present" }}, {{ field = "last_name", op = "present" }}]
"""
    lead = {"first_name": "A", "last_name": "B" if met == 2 else ""}
    assert evaluate(lead, load_ruleset(write_rules(text)), now).score == points


def test_hash_changes_when_a_list_file_changes(write_rules: Writer, tmp_path: Path) -> None:
    path = write_rules(
        FULL.replace('value = ["rival.com"]', 'list = "rivals"'),
        lists={**LISTS, "rivals": "rival.com\n"},
    )
    before = load_ruleset(path).hash
    (tmp_path / "lists" / "rivals.txt").write_text("rival.com\nother.com\n", "utf-8")
    assert load_ruleset(path).hash != before


def test_hash_ignores_comments_and_layout(write_rules: Writer) -> None:
    first = load_ruleset(write_rules(FULL, lists=LISTS)).hash
    second = load_ruleset(write_rules("# a comment\n" + FULL.replace("accept_at = 70", "accept_at   =   70  # seed 002"),
                                      lists=LISTS)).hash  # fmt: skip
    assert first == second
    third = load_ruleset(
        write_rules(FULL.replace("accept_at = 70", "accept_at = 71"), lists=LISTS)
    ).hash
    assert third != first


def test_memoised_nodes_follow_the_clock(full: Any, write_rules: Writer) -> None:
    """Date conditions are re-evaluated when ``now`` moves, never served stale."""
    text = (
        FULL + '\n[[gates]]\nname = "recent"\nfield = "mql_date"\nop = "within_days"\nvalue = 7\n'
    )
    ruleset = load_ruleset(write_rules(text, lists=LISTS))
    lead = {"email": "a@corp.com", "mql_date": "2026-11-20"}
    early = evaluate(lead, ruleset, datetime(2026, 11, 21, tzinfo=UTC))
    late = evaluate(lead, ruleset, datetime(2026, 12, 21, tzinfo=UTC))
    assert "gate:recent" not in early.reasons
    assert "gate:recent" in late.reasons


def test_a_moving_clock_does_not_pile_up_explanations(full: Any, write_rules: Writer) -> None:
    """The agent decides each page with a new ``now``: nodes memoised for older clocks are
    dropped, so the live explanation nodes stay at one page's worth over a long backfill."""
    import gc

    text = FULL + '\n[[gates]]\nname = "recent"\nfield = "mql_date"\nop = "within_days"\nvalue = 7\n'
    ruleset = load_ruleset(write_rules(text, lists=LISTS))
    start = datetime(2026, 11, 25, tzinfo=UTC)

    def page(number: int) -> None:  # 50 leads sharing 10 dates (the memo stays on)
        now = start + timedelta(minutes=number)
        for i in range(50):
            day = (start - timedelta(days=number % 30, hours=i % 10)).isoformat()
            evaluate({"email": f"p{i}@corp.com", "mql_date": day, "lead_score": "80"}, ruleset, now)

    def live_checks() -> int:
        gc.collect()
        return sum(isinstance(o, Check) for o in gc.get_objects())

    for number in range(20):
        page(number)
    early = live_checks()
    for number in range(20, 400):
        page(number)
    assert live_checks() - early < 200


def test_many_distinct_values_give_the_same_results_as_fresh_rulesets(
    full: Any, write_rules: Writer, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filling, clearing and switching off the memo caches never changes a decision."""
    monkeypatch.setattr(memo, "LIMIT", 64)
    monkeypatch.setattr(memo, "VALUE_LIMIT", 32)
    leads = [{"email": f"p{i}@corp{i % 7}.com", "lead_score": str(i % 100), "first_name": "A" * (i % 3)}
             for i in range(6000)]  # fmt: skip
    warm = [evaluate(lead, full, now) for lead in leads]
    for index in (0, 2047, 2048, 4095, 4096, 5999):
        fresh = load_ruleset(write_rules(FULL, name=f"fresh{index}.toml", lists=LISTS))
        expected = evaluate(leads[index], fresh, now)
        assert (warm[index].outcome, warm[index].score, warm[index].explanation) == (
            expected.outcome, expected.score, expected.explanation)  # fmt: skip
