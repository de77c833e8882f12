"""The pure parts of the feedback and the funnel, on hand-made SALs: criterion bands at
their edges, the flag's three conditions, the SLA states, the merge of two systems'
events, and the p90."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sync_agent.report.feedback import FeedbackCounter, band, rules_of
from sync_agent.report.funnel import FunnelCounter, percentile, sla_state
from sync_agent.report.loop import Check, Event, Sal, _merge

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _sal(n: int, *, lane: bool = False, rejected: bool = False, **events: float) -> Sal:
    checks = (Check("gate", "email_present", True), Check("fast_lane", "trial", lane),
              Check("criterion", "lead_score", True, 12.5, 25.0))  # fmt: skip
    found = {kind: Event(T0 + timedelta(hours=h), owner="rep") for kind, h in events.items()}
    if rejected:
        found["rejected"] = Event(T0 + timedelta(days=3), reason="no budget")
    return Sal(f"src:{n}", T0, None, checks, events=found)


def test_a_criterion_band_is_its_share_of_the_weight() -> None:
    def of(points: float | None) -> str | None:
        return band(Check("criterion", "c", True, points, 25.0))

    assert [of(0), of(None), of(6), of(12.49), of(12.5), of(24.9), of(25)] == [
        "none", "none", "low", "low", "high", "high", "full"]  # fmt: skip
    assert band(Check("criterion", "c", True, 5, 0)) is None, "no weight, no band"
    assert rules_of(_sal(1, lane=True)) == {
        "gate:email_present", "fast_lane:trial", "criterion:lead_score:high"}  # fmt: skip


def _flags(lane_rejected: int, lane: int, others_rejected: int, others: int) -> bool:
    counter = FeedbackCounter()
    for i in range(lane):
        counter.add(_sal(i, lane=True, rejected=i < lane_rejected))
    for i in range(others):
        counter.add(_sal(1000 + i, rejected=i < others_rejected))
    [row] = [r for r in counter.result() if r.rule == "fast_lane:trial"]
    assert (row.sals, row.rejected, row.others_sals) == (lane, lane_rejected, others)
    return row.flagged


def test_the_flag_needs_enough_leads_a_large_ratio_and_a_significant_test() -> None:
    assert _flags(10, 20, 10, 80)  # 50 % against 12.5 %: ratio 4, z = 3.75
    assert not _flags(5, 9, 10, 80), "fewer than 10 SALs let through"
    assert not _flags(9, 20, 25, 80), "45 % against 31 %: ratio under 1.5"
    assert not _flags(4, 10, 2, 10), "40 % against 20 %: ratio 2, but z = 0.98"
    assert not _flags(0, 20, 0, 80), "nobody rejected"


def test_sla_states_and_the_funnel() -> None:
    sals = [_sal(1, first_touch=3), _sal(2, first_touch=30, sla_breached=24),
            _sal(3, sla_breached=24), _sal(4), _sal(5, opportunity=90),
            _sal(6, first_touch=2, sql=50, opportunity=100)]  # fmt: skip
    assert [sla_state(s) for s in sals] == ["met", "breached", "breached", "pending",
                                            "pending", "met"]  # fmt: skip
    counter = FunnelCounter(None)
    for s in sals:
        counter.add(s)
    f = counter.result()
    assert (f.sql, f.opportunity, f.sal_to_sql_pct) == (2, 2, 33.3), "an opportunity is past SQL"
    assert f.sal_to_sql.leads == 2 and f.sal_to_sql.median_hours == 70.0  # 50 h and 90 h
    assert (f.sla.met, f.sla.breached, f.sla.pending, f.sla.attainment_pct) == (2, 2, 2, 50.0)


def test_two_systems_events_merge_to_the_earliest_keeping_a_reason_either_gave() -> None:
    late = Event(T0 + timedelta(hours=5), reason="no budget", owner=None)
    early = Event(T0, reason=None, owner="005A")
    assert _merge(_merge(None, late), early) == Event(T0, "no budget", "005A")


def test_p90_interpolates_between_ranks() -> None:
    assert percentile([float(v) for v in range(1, 11)], 0.9) == 9.1
    assert percentile([4.0], 0.9) == 4.0
