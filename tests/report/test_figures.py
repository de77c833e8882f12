"""The report's figures against an audit log the real engine wrote (see ``conftest.py``),
checked against figures computed independently: from the raw rows (``expected.py``) and
from what the sandbox CRMs hold."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from report_expected import expected, load

from sync_agent.audit import AuditLog
from sync_agent.report import build_report, render_text


def _report(world: Any, **window: Any) -> Any:
    with AuditLog.open(world.config.audit_db) as log:
        return build_report(log, **window)


def test_every_figure_counts_leads_by_their_latest_decision(report_world) -> None:
    report = _report(report_world)
    want = expected(*load(report_world.config.audit_db))
    o = report.overall
    assert want.redecided > 100, "the fixture re-decides leads (backfill --reevaluate)"
    assert (o.mqls, o.sals, o.review, o.rejected) == (
        want.mqls, want.sals, want.review, want.rejected)  # fmt: skip
    assert o.mqls == o.sals + o.review + o.rejected, "leads, not decisions"
    assert (o.decisions, o.redecided) == (want.decisions, want.redecided)
    assert o.decisions > o.mqls
    assert o.rejections_by_reason == dict(want.by_reason)
    assert o.several_reasons == want.several_reasons > 0
    assert sum(o.rejections_by_reason.values()) == o.rejected + o.several_reasons or (
        sum(o.rejections_by_reason.values()) > o.rejected
    )
    # the threshold line counts only leads rejected on the score, not those a gate rejected
    assert o.below_threshold == want.score_rejected
    threshold = sum(n for k, n in o.rejections_by_criterion.items() if k.startswith("threshold:"))
    assert threshold == want.score_rejected
    gates = {k: n for k, n in o.rejections_by_criterion.items() if k.split(":")[0] in
             ("gate", "disqualifier")}  # fmt: skip
    assert gates == dict(want.gates)
    assert o.rate_pct == round(100 * want.sals / want.mqls, 1)
    assert o.time_to_sal.sals == len(want.hours_to_sal)
    assert o.time_to_sal.median_hours == round(statistics.median(want.hours_to_sal), 2)
    assert sum(o.time_to_sal.buckets.values()) == len(want.hours_to_sal)


def test_sals_are_the_leads_the_crm_shows_as_accepted(report_world) -> None:
    """Sticky acceptance: the stricter re-evaluation rejects some SALs, the CRM keeps them."""
    state = report_world.state
    accepted = [c for c in state["contacts"] if c["properties"].get("sal_status") == "accepted"]
    report = _report(report_world)
    assert report.overall.sals == len(accepted) == len(state["notes"])
    decisions, _ = load(report_world.config.audit_db)
    later_rejected = {d["lead_key"] for d in decisions if d["outcome"] == "accepted"} & {
        d["lead_key"] for d in decisions if d["outcome"] == "rejected" and not d["dry_run"]
    }
    assert later_rejected, "the fixture has SALs that a later decision rejected"


def _salesforce_fate(state: dict[str, Any]) -> Counter[str]:
    """Why each accepted contact has no Salesforce Task, from the sandbox's records alone."""
    tasks = {t["SAL_Handoff_Key__c"] for t in state["tasks"]}
    leads = [lead for lead in state["leads"] if not lead["IsDeleted"]]
    fate: Counter[str] = Counter()
    for c in state["contacts"]:
        p = c["properties"]
        if p.get("sal_status") != "accepted" or p.get("sal_handoff_key") in tasks:
            continue
        # as Salesforce matching does: the Lead id the contact carries first, else the e-mail
        by_id = [lead for lead in leads if lead["Id"] == p.get("salesforceleadid")]
        found = by_id or [lead for lead in leads if lead["Email"] == p["email"]]
        if not found:
            fate["waiting for the CRM record"] += 1
        elif all(lead["IsConverted"] for lead in found):
            fate["lead converted"] += 1
        else:
            fate["dead letter"] += 1  # an open lead the locked run could not update
    return fate


def test_accepted_leads_not_written_to_salesforce_are_counted_with_their_reasons(
    report_world,
) -> None:
    report = _report(report_world)
    sf = report.overall.writes["salesforce"]
    fate = _salesforce_fate(report_world.state)
    assert set(fate) == {"waiting for the CRM record", "lead converted", "dead letter"}
    assert sf.sals_not_written == dict(fate)
    assert sf.sals_not_written_total == sum(fate.values())
    assert sf.sals == report.overall.sals and sf.sals_written == len(report_world.state["tasks"])
    assert report.overall.writes["hubspot"].sals_not_written == {}
    want = expected(*load(report_world.config.audit_db))
    assert sf.dead == want.sink_states["salesforce"]["dead"] == report.overall.dead_letters
    skipped = sum(n for k, n in want.sink_states["salesforce"].items() if k == "skipped")
    assert sum(sf.skipped.values()) == skipped
    text = render_text(report)
    missing = ", ".join(f"{k} {n}" for k, n in sf.sals_not_written.items())
    assert f"accepted, not written to Salesforce: {sum(fate.values())}, of which {missing}" in text
    # ids never split a reason (the dead letters' errors each name their Lead)
    assert not [k for k in sf.skipped if "00Q" in k]


def test_a_window_counts_only_its_decisions(report_world) -> None:
    weeks = report_world.week_starts
    since, until = weeks[4], weeks[7]
    report = _report(report_world, since=since, until=until)
    want = expected(*load(report_world.config.audit_db), since=since, until=until)
    o = report.overall
    assert 0 < o.mqls < _report(report_world).overall.mqls
    assert (o.mqls, o.sals, o.review, o.rejected) == (
        want.mqls, want.sals, want.review, want.rejected)  # fmt: skip
    assert o.rejections_by_reason == dict(want.by_reason)
    # three weeks are charted per day; every day of the window, the runs' days with data
    assert report.period == "day" and len(report.periods) == 21
    assert report.periods[0].start == since.date().isoformat()
    busy = {p.start: p for p in report.periods if p.mqls}
    assert set(busy) == {w.date().isoformat() for w in weeks[4:7]}
    assert sum(p.mqls for p in report.periods) == o.mqls, "one decision a lead in this window"
    for start in weeks[4:7]:
        day = expected(*load(report_world.config.audit_db), since=start,
                       until=start + (weeks[1] - weeks[0]) / 7)  # fmt: skip
        p = busy[start.date().isoformat()]
        assert (p.mqls, p.sals, p.review, p.rejected) == (
            day.mqls, day.sals, day.review, day.rejected)  # fmt: skip
    whole = _report(report_world)
    assert whole.period == "week" and [p.start for p in whole.periods][:1] == [
        (weeks[0] - (weeks[0].weekday() * (weeks[1] - weeks[0]) / 7)).date().isoformat()
    ]
