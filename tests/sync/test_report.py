"""The SAL report on small, known audit logs (fake connectors and rules).

The sandbox-made audit log with independent checks is in ``tests/report/``.
"""

from __future__ import annotations

from sync_fakes import T0, World

from sync_agent.audit import AuditLog
from sync_agent.engine import backfill, run_once
from sync_agent.model import WriteResult, WriteState
from sync_agent.report import assess, build_report, render_text

SECOND_PIPELINE = """
[[pipelines]]
name = "mqls2"
source = "fake2"
ruleset = "sal.toml"
sinks = ["fake"]
"""


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
        report = build_report(log)
    o = report.overall
    assert (o.mqls, o.sals, o.rejected, o.review, o.decisions) == (10, 3, 7, 0, 10)
    assert o.rate_pct == 30.0 and "fast sales cycles" in o.assessment
    # rejections below the threshold are one reason, whatever each lead's score
    assert o.rejections_by_reason == {"score < 50": 7} and o.below_threshold == 7
    assert o.rejections_by_criterion == {"criterion:lead_score": 7}
    assert o.median_hours_mql_to_sal == 28.0 == o.time_to_sal.median_hours
    assert o.time_to_sal.buckets["1–3 days"] == 3
    # per sink, per lead: lead 4 is a dead letter and lead 5 is being retried at fake2 only
    assert (o.dead_letters, o.write_failures) == (1, 1)
    assert (o.writes["fake2"].dead, o.writes["fake2"].retryable, o.writes["fake"].dead) == (1, 1, 0)
    assert set(report.pipelines) == {"mqls"} and report.sources["fake"].sals == 3
    text = render_text(report)
    assert "MQL→SAL rate: 30.0 %" in text and "median 28.0 h" in text
    assert report.to_dict()["overall"]["sals"] == 3


def test_a_lead_counts_once_by_its_latest_decision_and_acceptance_sticks(
    make_config, worlds, clock
) -> None:
    src, _ = worlds
    seed(src)
    run_once(make_config(), clock=clock)
    clock.advance(days=1)
    src.touch("4", minute=600, lead_score=95)  # rejected, then accepted
    strict = make_config(threshold=95)  # re-decide all under a higher bar
    backfill(strict, since=T0, reevaluate=True, clock=clock)
    with AuditLog.open(strict.audit_db) as log:
        o = build_report(log).overall
        rejected_later = log.rows(
            "SELECT COUNT(*) AS n FROM decisions WHERE outcome = 'rejected' AND "
            "lead_key IN ('fake:1', 'fake:2', 'fake:3')"
        )[0]["n"]
    assert rejected_later == 3, "the three SALs were rejected by the stricter re-evaluation"
    assert (o.mqls, o.sals, o.rejected, o.review) == (10, 4, 6, 0)
    assert (o.decisions, o.redecided) == (20, 10)
    assert o.rejections_by_reason == {"score < 95": 6}, "latest decisions' reasons only"


def test_text_names_one_pipeline_once_and_shows_days(make_config, worlds, clock) -> None:
    src, _ = worlds
    src.add("1", 90, minute=1, mql_date="2025-12-20T09:00:00+00:00")
    src.add("2", 10, minute=2)
    run_once(make_config(), clock=clock)
    with AuditLog.open(make_config().audit_db) as log:
        text = render_text(build_report(log))
    assert "seed" not in text.lower() and "benchmarks quoted in the SAL literature" in text
    assert "One pipeline (mqls) and one source (fake)" in text
    assert "Pipeline mqls" not in text and "Source fake" not in text
    assert text.count("MQL→SAL rate") == 1
    assert "median 17.0 days" in text  # 2025-12-20 09:00 → 2026-01-06 09:00
    assert "Advice: Above every band" in text  # 50 %


def test_several_pipelines_and_sources_get_their_own_blocks(make_config, worlds, clock) -> None:
    src, crm = worlds
    seed(src)
    crm.add("77", 90, minute=1)
    run_once(make_config(extra=SECOND_PIPELINE), clock=clock)
    with AuditLog.open(make_config().audit_db) as log:
        report = build_report(log)
    text = render_text(report)
    assert {"Pipeline mqls", "Pipeline mqls2", "Source fake", "Source fake2"} <= set(
        text.splitlines()
    )
    assert report.overall.mqls == 11 and report.pipelines["mqls2"].sals == 1


def test_report_since_filters_and_empty_log(make_config, worlds, clock) -> None:
    config = make_config()
    with AuditLog.open(config.audit_db) as log:
        empty = build_report(log)
    assert empty.overall.mqls == 0 and empty.overall.rate_pct is None
    assert empty.periods == [] and "n/a" in render_text(empty)


def test_assessment_bands_and_advice() -> None:
    from sync_agent.report import advise

    assert "technology" in assess(12.0) and "misalignment" in assess(8.0)
    assert "fast sales cycles" in assess(25.0) and "misalignment" not in assess(25.0)
    assert assess(50.0) == "outside the benchmark bands"
    assert advise(25.0) == advise(12.0) == advise(None) == ""
    assert "rejection reasons (the largest: gate:x)" in advise(8.0, "gate:x")
    assert advise(17.0).startswith("Between the bands") and "SAL→SQL" in advise(40.0)


def test_skip_reasons_lose_their_ids() -> None:
    from sync_agent.report.build import reason_label

    assert reason_label("ambiguous: 3 leads share this email") == (
        "ambiguous: several leads share this email"
    )
    assert reason_label("superseded by sal-1f2e3d in the same batch") == (
        "superseded by a newer handoff in the same batch"
    )
    assert reason_label("lead: UNABLE_TO_LOCK_ROW: records: 00Q5g000000002BEAQ") == (
        "lead: UNABLE_TO_LOCK_ROW: records: …"
    )
    assert reason_label("lead converted") == "lead converted"


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
