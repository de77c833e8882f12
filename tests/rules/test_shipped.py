"""The shipped rules/: sal.toml is valid, its test cases pass and cover every part of it,
and every example lead gets a decision."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from sync_agent.rules import check_rulesets, evaluate, load_ruleset, run_rule_tests

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "rules" / "examples").glob("*.json"))


def test_shipped_rulesets_are_valid() -> None:
    report = check_rulesets(REPO / "rules")
    assert report.ok, [str(p) for p in report.problems]
    assert "sal" in [r.name for r in report.rulesets]


def test_sal_has_the_seed_001_weights_and_threshold() -> None:
    spec = load_ruleset(REPO / "rules" / "sal.toml").spec
    assert {c.name: c.weight for c in spec.criteria} == {
        "completeness": 20, "icp_fit": 30, "lead_score": 25, "readiness": 25}  # fmt: skip
    assert (spec.accept, spec.review) == (70, 55)
    assert len(spec.fast_lanes) == 1 and spec.gates and spec.disqualifiers


def test_shipped_cases_all_pass_and_cover_every_part_of_sal() -> None:
    report = run_rule_tests(REPO / "rules" / "tests")
    failures = [(f.name, f.diff, f.problem) for f in report.failures]
    assert report.ok, (failures, report.problems)
    assert len(report.results) >= 20
    assert report.uncovered == {"sal": ()}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_leads_get_a_decision(path: Path, now: datetime) -> None:
    data = json.loads(path.read_text("utf-8"))
    decision = evaluate(data.get("fields", data), load_ruleset(REPO / "rules" / "sal.toml"), now)
    assert decision.reasons


def test_examples_show_every_outcome(now: datetime) -> None:
    ruleset = load_ruleset(REPO / "rules" / "sal.toml")
    outcomes = set()
    for path in EXAMPLES:
        data = json.loads(path.read_text("utf-8"))
        outcomes.add(evaluate(data.get("fields", data), ruleset, now).outcome.value)
    assert len(EXAMPLES) >= 8 and outcomes == {"accepted", "rejected", "review"}
