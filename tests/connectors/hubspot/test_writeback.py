"""Pure write-back parts: SAL properties, the forward-only stage rule, batch answers."""

from __future__ import annotations

import pytest

from connectors.hubspot.errors import UnexpectedResponse
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.writeback import (
    batch_outcome,
    clip,
    next_stage,
    note_properties,
    sal_properties,
)
from sync_agent.model import Outcome, WriteState

from .conftest import handoff

ADVANCING = HubSpotSettings.from_options({"advance_stage": "salesqualifiedlead",
                                          "sal": {"status": "x_status"}})


@pytest.mark.parametrize("outcome", list(Outcome))
def test_sal_properties_are_written_for_every_outcome(outcome):
    props = sal_properties(ADVANCING, handoff("101", outcome), None)
    assert props["x_status"] == outcome.value
    assert props["sal_score"] == "82"
    assert props["sal_decided_at"] == "2026-01-15T10:30:00.000Z"
    assert props["sal_handoff_key"] == "hubspot:101:R1-AbC"
    assert "lifecyclestage" not in props  # current stage unknown: never touched


@pytest.mark.parametrize(
    ("outcome", "current", "expected"),
    [
        (Outcome.ACCEPTED, "marketingqualifiedlead", "salesqualifiedlead"),
        (Outcome.ACCEPTED, "lead", "salesqualifiedlead"),
        (Outcome.ACCEPTED, "salesqualifiedlead", None),
        (Outcome.ACCEPTED, "customer", None),
        (Outcome.ACCEPTED, "custom_stage", None),
        (Outcome.REJECTED, "marketingqualifiedlead", None),
        (Outcome.REVIEW, "lead", None),
    ],
)
def test_stage_moves_only_forward(outcome, current, expected):
    assert next_stage(ADVANCING, outcome, current) == expected


def test_no_stage_is_written_unless_configured():
    assert next_stage(HubSpotSettings(), Outcome.ACCEPTED, "lead") is None


def test_note_body_is_clipped_to_the_limit():
    settings = HubSpotSettings.from_options({"note_max_chars": 100})
    props = note_properties(settings, handoff("1", note="x" * 500))
    assert len(props["hs_note_body"]) == 100 and props["hs_note_body"].endswith("[truncated]")
    assert clip("short", 100) == "short"


def test_batch_outcome_reads_207_errors_per_input():
    body = {"status": "COMPLETE", "results": [{"id": "1"}],
            "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
                        "context": {"ids": ["2"]}},
                       {"status": "error", "category": "VALIDATION_ERROR", "message": "bad",
                        "errors": [{"code": "INVALID_OPTION"}], "context": {"inputIndex": ["2"]}},
                       {"status": "error", "category": "RATE_LIMITS", "message": "slow"}],
            "numErrors": 3}
    done, failed = batch_outcome(207, body, {}, ["1", "2", "3", "4"])
    assert set(done) == {"1"}
    assert failed["2"].status is WriteState.SKIPPED
    assert failed["3"].status is WriteState.DEAD
    assert failed["3"].reason.startswith("INVALID_OPTION")
    assert failed["4"].status is WriteState.RETRYABLE  # unattributed error, not returned


def test_batch_outcome_matches_created_notes_by_key():
    body = {"results": [{"id": "n1", "properties": {"sal_handoff_key": "k2"}}]}
    done, failed = batch_outcome(201, body, {}, ["k1", "k2"], result_key="sal_handoff_key")
    assert set(done) == {"k2"} and failed == {}


@pytest.mark.parametrize("body", [[], {}, {"results": "x"}, {"results": [], "errors": {}}])
def test_batch_answers_of_the_wrong_shape_are_unexpected(body):
    with pytest.raises(UnexpectedResponse):
        batch_outcome(200, body, {"X-HubSpot-Correlation-Id": "h"}, ["1"])
