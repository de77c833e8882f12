"""Fast construction of explanation nodes.

A decision carries one :class:`~sync_agent.model.Check` per gate, criterion and condition,
so building them dominates evaluation time. ``Check`` is a frozen dataclass whose
``__init__`` sets each field through ``object.__setattr__``; filling ``__dict__`` in one
step builds the same object about twice as fast (equality, hashing and ``to_dict`` are
unchanged, see tests/rules/test_checks.py).
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Any

from sync_agent.model import Check, Decision, Outcome

_new = object.__new__
#: C-level accessors for hot loops (``map(PASSED, checks)``).
PASSED = attrgetter("passed")
POINTS = attrgetter("points")
_set = object.__setattr__


def make_check(
    kind: str,
    name: str,
    passed: bool,
    detail: str = "",
    value: Any = None,
    points: float | None = None,
    max_points: float | None = None,
    children: tuple[Check, ...] = (),
) -> Check:
    """Exactly ``Check(kind, name, passed, detail, value, points, max_points, children)``."""
    check: Check = _new(Check)
    _set(
        check,
        "__dict__",
        {
            "kind": kind,
            "name": name,
            "passed": passed,
            "detail": detail,
            "value": value,
            "points": points,
            "max_points": max_points,
            "children": children,
        },
    )
    return check


def make_decision(
    outcome: Outcome,
    score: float,
    reasons: tuple[str, ...],
    explanation: tuple[Check, ...],
    ruleset_name: str,
    ruleset_hash: str,
    decided_at: datetime,
    fast_lane: str | None,
) -> Decision:
    """Exactly ``Decision(...)`` with these fields, built the same fast way as checks."""
    decision: Decision = _new(Decision)
    _set(decision, "__dict__", {
        "outcome": outcome, "score": score, "reasons": reasons, "explanation": explanation,
        "ruleset_name": ruleset_name, "ruleset_hash": ruleset_hash, "decided_at": decided_at,
        "fast_lane": fast_lane,
    })  # fmt: skip
    return decision
