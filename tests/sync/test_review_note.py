"""The context note for a review decision says why the lead needs a person.

Decided by the shipped ruleset (rules/sal.toml) on its own review-band example, so the note
is checked against a real explanation tree: gates, disqualifiers, fast lanes, criteria with
their conditions, the threshold.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sync_agent.engine.handoff import compose_note
from sync_agent.model import MQL, Outcome
from sync_agent.rules import evaluate, load_ruleset

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 1, 15, 10, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset(ROOT / "rules" / "sal.toml")


def decided(ruleset, fields):
    mql = MQL("hubspot", "101", fields)
    return mql, evaluate(fields, ruleset, NOW)


def review_lead() -> dict:
    return json.loads((ROOT / "rules" / "examples" / "06_review_band.json").read_text())


def test_a_review_note_explains_the_band_and_what_passed_and_what_was_missed(ruleset):
    mql, decision = decided(ruleset, review_lead())
    assert decision.outcome is Outcome.REVIEW
    note = compose_note(mql, decision, sla_hours=24, key="sal-0123")
    lines = note.splitlines()
    assert lines[0] == "SAL review: Priya Shah (Umbrella Co)"
    assert "Needs a person: score 57.5 is in the review band (accept at 70, review from 55)" \
        in note
    assert "Gates passed: email_present, business_email, country_served" in note
    assert "No disqualifier fired (competitor, student_or_intern, existing_customer)" in note
    assert "No fast lane matched:\n- trial_and_webinar; missed: trial_started is true (missing)" \
        in note
    assert "- completeness 20 / 20: 5 of 5 checks met" in lines
    icp = next(line for line in lines if line.startswith("- icp_fit 20 / 30"))
    assert "missed: industry in list target_industries (RETAIL)" in icp
    readiness = next(line for line in lines if line.startswith("- readiness 5 / 25"))
    assert "demo_requested is true (missing)" in readiness
    assert "pricing_page_views" not in readiness, "what was met is not listed as missed"
    assert "Follow up within" not in note, "a review has no sales follow-up SLA yet"
    assert "accept or reject" in note.lower()
    assert lines[-1] == "sync-agent handoff sal-0123"


def test_nested_conditions_show_the_leaves_that_failed(ruleset):
    lead = {**review_lead(), "trial_started": "true"}
    mql, decision = decided(ruleset, lead)
    note = compose_note(mql, decision, sla_hours=24, key="k")
    lane = next(line for line in note.splitlines() if line.startswith("- trial_and_webinar"))
    assert lane == "- trial_and_webinar; missed: webinar_attended_date within the last 30 days " \
        "(missing)", "the condition that held is not a reason"


def test_a_review_note_stays_short_whatever_the_lead_holds(ruleset):
    lead = {**review_lead(), "industry": "x" * 1_000_000}
    mql, decision = decided(ruleset, lead)
    note = compose_note(mql, decision, sla_hours=24, key="k")
    assert decision.outcome is Outcome.REVIEW
    assert "industry in list target_industries (xxxx" in note
    assert len(note) < 5_000


def test_the_accepted_note_is_unchanged(ruleset):
    lead = json.loads((ROOT / "rules" / "examples" / "01_strong_fit.json").read_text())
    mql, decision = decided(ruleset, lead)
    assert decision.outcome is Outcome.ACCEPTED
    note = compose_note(mql, decision, sla_hours=24, key="k")
    assert note.startswith("SAL accepted: ")
    assert "Why:\n- score" in note and "Follow up within 24 h" in note
    assert "Needs a person" not in note and "missed:" not in note
