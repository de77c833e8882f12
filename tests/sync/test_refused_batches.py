"""One record a CRM refuses for good never wedges a pipeline: the batch is split until the
records that fail alone are found (dead letters); the rest is written, and new leads are
read. Only a refusal that names the set-up stops the run, with the fix."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sync_fakes import FakeSink, World

from sync_agent.audit import AuditLog
from sync_agent.engine import run_once
from sync_agent.errors import PermanentApiError
from sync_agent.model import Handoff


def refuse_batches_with(monkeypatch: pytest.MonkeyPatch, bad: str, **kind: bool) -> list[int]:
    """The fake CRM answers 400 for any batch that holds lead ``bad``; returns batch sizes."""
    sizes: list[int] = []
    original = FakeSink.write

    def write(self, handoffs: Sequence[Handoff], *, recovering: bool = False):
        sizes.append(len(handoffs))
        if any(h.mql.source_id == bad for h in handoffs):
            raise PermanentApiError("HubSpot 400: VALIDATION_ERROR: invalid value", status=400,
                                    **kind)  # fmt: skip
        return original(self, handoffs, recovering=recovering)

    monkeypatch.setattr(FakeSink, "write", write)
    return sizes


def test_one_refused_record_becomes_a_dead_letter_and_the_rest_is_written(
    make_config, worlds: tuple[World, World], clock, monkeypatch
) -> None:
    src, crm = worlds
    for i in range(1, 9):
        src.add(str(i), 80, minute=i)
    config = make_config(page_size=8, batch=8)
    sizes = refuse_batches_with(monkeypatch, "5")
    [first] = run_once(config, clock=clock)
    assert first.outcome == "failures" and first.writes.dead == 2  # one per sink
    assert set(crm.sal) == {"1", "2", "3", "4", "6", "7", "8"}
    assert len(sizes) <= 2 * (1 + 2 * 3), "found by halving, not one call per record"
    with AuditLog.open(config.audit_db) as log:
        dead = log.dead_letters()
    assert {d["lead_key"] for d in dead} == {"fake:5"} and "VALIDATION_ERROR" in dead[0][
        "last_error"
    ]
    src.add("9", 80, minute=20)
    clock.advance(hours=1)
    [second] = run_once(config, clock=clock)
    assert second.read == 1 and crm.sal["9"] == "accepted", "the pipeline is not wedged"


def test_a_refusal_that_names_the_setup_stops_the_run_with_the_fix(
    make_config, worlds: tuple[World, World], clock, monkeypatch
) -> None:
    src, _ = worlds
    for i in range(1, 5):
        src.add(str(i), 80, minute=i)
    config = make_config(page_size=4, batch=4)
    sizes = refuse_batches_with(monkeypatch, "2", configuration=True)
    [run] = run_once(config, clock=clock)
    assert run.outcome == "fatal" and "VALIDATION_ERROR" in run.error
    assert sizes == [4], "no splitting: it would fail on every record"
    with AuditLog.open(config.audit_db) as log:
        assert log.dead_letters() == []
