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


def test_outbox_item_does_not_rebuild_the_explanation_it_drops() -> None:
    """A write read back from the outbox (resume, a writer process) carries the slim
    handoff: the explanation tree is never parsed, only to be dropped (on a 20,000-lead
    backlog that parse was most of the reading)."""
    from sync_agent.audit.records import outbox_item

    row = {
        "wid": 5, "id": 9, "sink": "hubspot", "attempts": 0, "sent": 0,
        "wcreated": "2025-01-03T00:00:00+00:00", "write_key": "sal-1",
        "handoff_key": "sal-1", "source": "hubspot", "source_id": "7",
        "snapshot": '{"email":"a@b.c","hubspot.email":"a@b.c","score":3}',
        "crm_ids": '{"hubspot":"7"}', "modified_at": "2025-01-02T00:00:00+00:00",
        "outcome": "accepted", "score": 82.0, "reasons": '["score 82 >= 70"]',
        "explanation": "not even JSON: never read", "rules_name": "default",
        "rules_hash": "abc123", "decided_at": "2025-01-03T00:00:00+00:00",
        "fast_lane": "trial", "note": "note",
    }  # fmt: skip
    item = outbox_item(row)
    assert item.handoff.decision.explanation == ()
    assert item.handoff.decision.reasons == ("score 82 >= 70",)
    assert item.handoff.mql.fields == {"email": "a@b.c", "score": 3}
    assert (item.write_id, item.decision_id, item.key) == (5, 9, "sal-1")
