"""``slim_handoff`` builds its objects without ``dataclasses.replace`` (speed): they must be
exactly what ``replace`` gave (equal, same hash, same repr, frozen)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from sync_agent.audit.records import slim_handoff
from sync_agent.model import MQL, Check, Decision, Handoff, Outcome


def test_slim_handoff_equals_the_replace_built_one() -> None:
    mql = MQL("hubspot", "7", {"email": "a@b.c", "hubspot.email": "a@b.c", "score": 3},
              datetime(2025, 1, 2, tzinfo=UTC), {"hubspot": "7"})  # fmt: skip
    decision = Decision(Outcome.ACCEPTED, 82.0, ("score 82 >= 70",),
                        (Check("gate", "has email", True),), "default", "abc123",
                        datetime(2025, 1, 3, tzinfo=UTC), "trial")  # fmt: skip
    slim = slim_handoff("sal-1", mql, decision, "note")
    expected = Handoff(
        "sal-1",
        dataclasses.replace(mql, fields={"email": "a@b.c", "score": 3}),
        dataclasses.replace(decision, explanation=()),
        "note",
    )
    assert slim == expected
    assert repr(slim) == repr(expected)
    assert hash(slim.mql.key) == hash(expected.mql.key)
    assert hash(slim.decision) == hash(expected.decision)
    assert vars(slim.mql) == vars(expected.mql)
    assert vars(slim.decision) == vars(expected.decision)
    with pytest.raises(dataclasses.FrozenInstanceError):
        slim.mql.source = "x"  # type: ignore[misc]
    # the originals are untouched
    assert mql.fields["hubspot.email"] == "a@b.c"
    assert decision.explanation
