"""What an example says changed: recorded explanation (JSON) vs the candidate's checks."""

from __future__ import annotations

from typing import Any

from sync_agent.model import Check
from sync_agent.simulate.tally import changed_checks


def node(kind: str, name: str, passed: bool, points: float | None = None) -> dict[str, Any]:
    return Check(kind, name, passed, points=points, max_points=25 if points is not None
                 else None).to_dict()  # fmt: skip


RECORDED = [
    node("gate", "email_present", True),
    node("disqualifier", "competitor", True),
    node("fast_lane", "trial", False),
    node("criterion", "readiness", True, 20),
    node("criterion", "old_one", True, 5),
    node("threshold", "accept at 70", True),
]


def test_each_kind_of_change_in_the_candidates_order() -> None:
    candidate = [
        Check("gate", "email_present", True),
        Check("gate", "phone_present", False),
        Check("gate", "new_but_holding", True),
        Check("disqualifier", "competitor", False),
        Check("fast_lane", "trial", True),
        Check("criterion", "readiness", True, points=15, max_points=25),
        Check("threshold", "accept at 75", False),
    ]
    assert changed_checks(RECORDED, candidate) == (
        "gate phone_present: new, fails",
        "disqualifier competitor: does not fire → fires",
        "fast_lane trial: does not match → matches",
        "criterion readiness: 20 → 15 points",
        "threshold: accept at 70 → accept at 75",
        "criterion old_one: removed",
    )


def test_the_threshold_only_when_the_score_decided() -> None:
    candidate = [Check("threshold", "accept at 75", False)]
    assert changed_checks(RECORDED[-1:], candidate, threshold=False) == ()


def test_a_damaged_or_pruned_recorded_explanation_says_nothing_new() -> None:
    candidate = [Check("gate", "phone_present", False)]
    assert changed_checks([], candidate) == ()
    damaged: list[Any] = ["junk", {"kind": "criterion", "name": "x", "points": "lots"}]
    assert changed_checks(damaged, [Check("criterion", "x", True, points=5)]) == (
        "criterion x: ? → 5 points",
    )
