"""The review band in HubSpot: an owner for the contact and a note that says why.

Against the sandbox portal through hubspot-api-client: ``hubspot_owner_id`` is the contact
owner, notes carry ``sal_handoff_key`` so a re-sent handoff finds its note.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from connectors.hubspot.settings import HubSpotSettings
from connectors.sandbox import Sandbox
from sync_agent.errors import ConfigError
from sync_agent.model import Outcome, WriteState

from .conftest import calls, connect, handoff

REVIEWER = "71000002"
NOTE = "SAL review: Priya Shah (Umbrella Co)\nNeeds a person: score 57.5 is in the review band."


def review(cid: str, note: str = NOTE):
    return handoff(cid, Outcome.REVIEW, score=57.5, note=note)


def props(sb: Sandbox, cid: str) -> dict[str, Any]:
    return sb.store.contacts[cid]["properties"]


def notes(sb: Sandbox) -> Counter[str]:
    return Counter(n["properties"].get("sal_handoff_key") for n in sb.store.notes.values())


def unowned(sb: Sandbox, count: int) -> list[str]:
    found = [c for c in sb.store.mqls() if not props(sb, c).get("hubspot_owner_id")]
    assert len(found) >= count
    return found[:count]


def owned(sb: Sandbox) -> str:
    return next(c for c in sb.store.mqls() if props(sb, c).get("hubspot_owner_id")
                not in (None, "", REVIEWER))


def test_a_review_decision_gets_the_review_owner_and_a_note_that_says_why(small_sandbox, clock):
    sb = small_sandbox
    _, sink = connect(sb, clock, review_owner_id=REVIEWER, review_note=True)
    [cid] = unowned(sb, 1)
    [result] = sink.write([review(cid)])
    assert result.status is WriteState.WRITTEN, result.reason
    assert props(sb, cid)["hubspot_owner_id"] == REVIEWER
    assert props(sb, cid)["sal_status"] == "review"
    [note] = sb.store.notes.values()
    assert note["properties"]["hs_note_body"] == NOTE
    assert note["properties"]["sal_handoff_key"] == review(cid).key


def test_a_contact_that_has_an_owner_keeps_it_unless_the_settings_say_take_it(
    small_sandbox, clock,
):
    sb = small_sandbox
    cid = owned(sb)
    before = props(sb, cid)["hubspot_owner_id"]
    _, keeps = connect(sb, clock, review_owner_id=REVIEWER)
    assert keeps.write([review(cid)])[0].status is WriteState.WRITTEN
    assert props(sb, cid)["hubspot_owner_id"] == before
    _, takes = connect(sb, clock, review_owner_id=REVIEWER, review_owner_overrides=True)
    reads = calls(sb, "contacts.batch_read")
    assert takes.write([review(cid)])[0].status is WriteState.WRITTEN
    assert props(sb, cid)["hubspot_owner_id"] == REVIEWER
    assert calls(sb, "contacts.batch_read") == reads, "taking every contact needs no read"


def test_a_resent_review_handoff_never_makes_a_second_note(small_sandbox, clock):
    sb = small_sandbox
    _, sink = connect(sb, clock, review_owner_id=REVIEWER, review_note=True)
    handoffs = [review(c) for c in unowned(sb, 3)]
    sink.write(handoffs)
    again = sink.write(handoffs, recovering=True)
    assert {r.status for r in again} == {WriteState.WRITTEN}
    assert notes(sb) == Counter(h.key for h in handoffs)


def test_reading_owners_costs_one_batch_read_per_100_review_contacts(small_sandbox, clock):
    sb = small_sandbox
    _, sink = connect(sb, clock, review_owner_id=REVIEWER)
    ids = sb.store.mqls()[:250]
    before = {c: props(sb, c).get("hubspot_owner_id") for c in ids}
    mixed = [review(c) if i % 2 else handoff(c) for i, c in enumerate(ids)]
    results = sink.write(mixed)
    assert {r.status for r in results} == {WriteState.WRITTEN}
    assert calls(sb, "contacts.batch_read") == math.ceil(125 / 100)
    for h in mixed:
        cid = h.mql.source_id
        reviewed = h.decision.outcome is Outcome.REVIEW and not before[cid]
        assert props(sb, cid).get("hubspot_owner_id") == (REVIEWER if reviewed else before[cid])


def test_without_review_settings_review_contacts_get_no_owner_and_no_note(small_sandbox, clock):
    sb = small_sandbox
    _, sink = connect(sb, clock)
    [cid] = unowned(sb, 1)
    assert sink.write([review(cid)])[0].status is WriteState.WRITTEN
    assert not props(sb, cid).get("hubspot_owner_id") and notes(sb) == Counter()
    assert calls(sb, "contacts.batch_read") == 0


def test_a_review_handoff_without_a_note_gets_its_reasons_as_the_note(small_sandbox, clock):
    sb = small_sandbox
    _, sink = connect(sb, clock, review_note=True)
    [cid] = unowned(sb, 1)
    sink.write([review(cid, note="")])
    [note] = sb.store.notes.values()
    assert note["properties"]["hs_note_body"] == "SAL review: score 82 >= 70"


@pytest.mark.parametrize("value", ["Priya Shah", "71000002 ", "-1"])
def test_review_owner_id_is_a_hubspot_owner_id(value):
    with pytest.raises(ConfigError) as info:
        HubSpotSettings.from_options({"review_owner_id": value})
    [problem] = info.value.problems
    assert problem.location == "review_owner_id" and "owner id" in problem.message
