"""The lead fingerprint: what decides that a re-read lead is unchanged (and skipped).

Its formula changed once (the audit's JSON instead of ``json.dumps``: the fingerprint was a
tenth of a backfill's page loop). A fingerprint stored by the first formula must still
match the same content after an upgrade, or every lead would be decided again once."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from sync_agent.engine.handoff import _kept, lead_fingerprint, same_content
from sync_agent.model import MQL


def _first_formula(mql: MQL) -> str:
    """The fingerprint as every release before December 2026 stored it."""
    kept = {k: v for k, v in mql.fields.items()
            if not k.lower().split(".", 1)[-1].startswith("sal_") and "lastmodified" not in k}
    blob = json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


def _lead(**fields: object) -> MQL:
    base = {"email": "a@b.c", "score": 42, "when": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
            "hubspot.lastmodifieddate": "2026-11-30T10:00:00Z", "title": "CFO"}
    return MQL("hubspot", "7", {**base, **fields}, None, {})


def test_a_fingerprint_stored_by_the_first_formula_still_matches_its_content() -> None:
    lead = _lead()
    stored = _first_formula(lead)
    assert same_content(stored, lead, lead_fingerprint(lead))
    assert not same_content(stored, _lead(score=43), lead_fingerprint(_lead(score=43)))


def test_the_fingerprint_says_which_formula_made_it() -> None:
    lead = _lead()
    assert lead_fingerprint(lead).startswith("v2:")
    assert same_content(lead_fingerprint(lead), lead, lead_fingerprint(lead))
    assert not same_content("", lead, lead_fingerprint(lead))


def test_our_own_write_back_does_not_change_the_fingerprint() -> None:
    assert lead_fingerprint(_lead()) == lead_fingerprint(
        _lead(**{"hubspot.lastmodifieddate": "2026-12-01T00:00:00Z", "hubspot.sal_status": "x"})
    )


values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
                   st.lists(st.integers(), max_size=3))  # fmt: skip


@given(st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=6),
       st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=6))  # fmt: skip
def test_two_contents_share_a_fingerprint_only_when_they_encode_alike(a, b) -> None:
    """Different values give different fingerprints (NaN and None included: orjson writes
    both as null, so a non-finite float takes the standard encoder)."""
    fa, fb = lead_fingerprint(_lead(**a)), lead_fingerprint(_lead(**b))
    assert (fa == fb) == (_kept_json(_lead(**a)) == _kept_json(_lead(**b)))


def _kept_json(mql: MQL) -> str:
    kept = {k: mql.fields[k] for k in _kept(tuple(mql.fields))}
    return json.dumps(kept, sort_keys=True, default=str)


def test_the_v2_formula_is_pinned() -> None:
    """Stored fingerprints outlive releases: a change to the audit's JSON encoder that
    changed this value would decide every lead again, so it must come with a new prefix."""
    lead = _lead(ratio=0.5, tags=["a", "b"], none=None)
    assert lead_fingerprint(lead) == "v2:2ad11c0b4e653eb6eaa54ee2b4cdce8b"
