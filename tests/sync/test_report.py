"""The SAL report on a known audit log."""

from __future__ import annotations

from sync_fakes import T0, World

from sync_agent.audit import AuditLog, render_text
from sync_agent.audit.report import assess
from sync_agent.engine import backfill, run_once
from sync_agent.model import WriteResult, WriteState


def seed(src: World) -> None:
    # 10 MQLs: 3 accepted (MQL 26 h, 28 h, 30 h before the decision), 7 rejected (two reasons)
    for i, hours in ((1, 26), (2, 28), (3, 30)):
        src.add(str(i), 90, minute=i, mql_date=f"2026-01-05T{9 - hours + 24:02d}:00:00+00:00")
    for i in range(4, 11):
        src.add(str(i), 10 if i < 8 else 20, minute=i)


def test_report_figures(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src)
    crm.per_key["4"] = WriteResult("", WriteState.DEAD, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    crm.per_key["5"] = WriteResult("", WriteState.RETRYABLE, "UNABLE_TO_LOCK_ROW")
    config = make_config()
    run_once(config, clock=clock)
    backfill(config, since=T0, dry_run=True, clock=clock)  # dry runs never count
    with AuditLog.open(config.audit_db) as log:
        report = log.report()
    o = report.overall
    assert (o.mqls, o.sals, o.rejected, o.review) == (10, 3, 7, 0)
    assert o.rate_pct == 30.0 and "fast sales cycles" in o.assessment
    # rejections below the threshold are one reason, whatever each lead's score
    assert o.rejections_by_reason == {"score < 50": 7}
    assert o.rejections_by_criterion == {"criterion:lead_score": 7}
    assert o.median_hours_mql_to_sal == 28.0
    assert (o.dead_letters, o.write_failures) == (1, 1)
    assert set(report.pipelines) == {"mqls"} and report.sources["fake"].sals == 3
    text = render_text(report)
    assert "MQL→SAL rate: 30.0 %" in text and "median MQL date → SAL: 28.0 h" in text
    assert report.to_dict()["overall"]["sals"] == 3


def test_report_since_filters_and_empty_log(make_config, worlds, clock) -> None:
    config = make_config()
    with AuditLog.open(config.audit_db) as log:
        empty = log.report()
    assert empty.overall.mqls == 0 and empty.overall.rate_pct is None


def test_assessment_bands() -> None:
    assert "technology" in assess(12.0) and "misalignment" in assess(8.0)
    assert "fast sales cycles" in assess(25.0) and "misalignment" not in assess(25.0)
    assert assess(50.0) == "outside the benchmark bands"


def test_prune_keeps_aggregates_acceptances_and_dead_letters(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src)
    crm.per_key["4"] = WriteResult("", WriteState.DEAD, "INVALID_FIELD")
    config = make_config()
    run_once(config, clock=clock)
    with AuditLog.open(config.audit_db) as log:
        removed = log.prune(clock.now.replace(year=2027))
        assert removed == 6, "the 6 written rejections; not the 3 SALs, not the dead letter"
        [row] = log.rows("SELECT SUM(decisions) AS n FROM aggregates")
        kept = log.list_decisions(limit=None)
        assert len(log.dead_letters()) == 1
    assert row["n"] == 6
    assert sorted(d["outcome"] for d in kept) == ["accepted"] * 3 + ["rejected"]
    src.touch("1", minute=500)  # an accepted lead changes after its history was pruned
    clock.advance(days=1)
    [again] = run_once(config, clock=clock)
    assert again.skipped_accepted == 1 and set(crm.notes.values()) == {1}
