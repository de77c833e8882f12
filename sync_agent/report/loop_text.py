"""The text report's part past the handoff: what sales did, the SLA, feedback per rule.

Shown only once the read-back has stored outcome events; before that, one line says how
to turn it on. The HTML page (:mod:`.html`) reuses the phrases defined here.
"""

from __future__ import annotations

from sync_agent.report.feedback import MIN_LEADS, RATIO, RuleFeedback
from sync_agent.report.figures import Report
from sync_agent.report.funnel import Attainment, Durations, Funnel

NOT_ENABLED = (
    "Sales follow-up: no outcome read back from the CRMs yet. Runs read what sales did "
    "with each handoff every [outcomes] every_minutes (60); `sync-agent outcomes` reads it "
    "now (docs/loop.md). Then this shows SAL→SQL, SLA attainment and feedback per rule."
)
FLAG_TEST = (
    f"flagged (!): sales rejects its SALs at least {RATIO:g}× as often as the window's other "
    f"SALs, with at least {MIN_LEADS} SALs on each side and a one-sided two-proportion "
    "z-test p < 0.05"
)
SLA_STATES = "met = first touch without an SLA breach; breached; pending = neither yet"
TOP_GROUPS = 10


def render_loop(report: Report) -> list[str]:
    """Lines for the end of the text report."""
    if not report.outcome_events:
        return ["", NOT_ENABLED]
    f = report.funnel
    lines = ["", f"Sales follow-up (outcomes read back for {f.with_outcomes} of {f.sals} SALs)"]
    lines += [
        f"  SAL→SQL: {rate(f.sal_to_sql_pct)} ({f.sql} SALs), SAL→opportunity: "
        f"{rate(f.sal_to_opportunity_pct)} ({f.opportunity}), rejected by sales: {f.rejected} "
        f"({rate(f.rejected_pct)}), recycled: {f.recycled}",
        f"  MQL date → SAL: {timing(f.mql_to_sal)}",
        f"  SAL → first touch: {timing(f.sal_to_first_touch)}",
        f"  SAL → SQL: {timing(f.sal_to_sql)}",
        f"  Follow-up SLA: {attainment(f.sla)} ({SLA_STATES})",
    ]
    if f.rejection_reasons:
        lines.append("  Sales' rejection reasons:")
        lines += [f"    {n:6d}  {reason}" for reason, n in list(f.rejection_reasons.items())[:8]]
    for title, groups in sla_groups(f):
        lines.append(f"  SLA by {title}:")
        lines += [f"    {name[:28]:28s} {attainment(a)}" for name, a in
                  list(groups.items())[:TOP_GROUPS]]  # fmt: skip
        if len(groups) > TOP_GROUPS:
            lines.append(f"    … and {len(groups) - TOP_GROUPS} more (--json has them all)")
    if report.feedback:
        lines += ["", "Feedback per rule (the SALs each rule let through; " + FLAG_TEST + ")"]
        lines.append(f"    {'rule':48s} {'SALs':>5s} {'SQL':>6s} {'opp.':>6s} "
                     f"{'rejected':>9s} {'others':>7s}  top reasons")  # fmt: skip
        lines += [feedback_line(r) for r in report.feedback]
    return lines


def sla_groups(f: Funnel) -> list[tuple[str, dict[str, Attainment]]]:
    """The SLA groupings worth showing: owners (when there are SALs), lead sources and
    campaigns when the snapshots name any."""
    found = [("owner", f.sla_by_owner)] if f.sla_by_owner else []
    for title, groups in (("lead source", f.sla_by_lead_source),
                          ("campaign", f.sla_by_campaign)):  # fmt: skip
        if any(name != "(none)" for name in groups):
            found.append((title, groups))
    return found


def rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


def duration(hours: float | None) -> str:
    if hours is None:
        return "n/a"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def timing(d: Durations) -> str:
    if not d.leads:
        return "n/a (no SAL got there yet)"
    return f"median {duration(d.median_hours)}, p90 {duration(d.p90_hours)} ({d.leads} SALs)"


def attainment(a: Attainment) -> str:
    return (
        f"{rate(a.attainment_pct)} attainment: {a.met} met, {a.breached} breached, "
        f"{a.pending} pending of {a.sals}"
    )


def feedback_line(r: RuleFeedback) -> str:
    reasons = ", ".join(f"{k} {n}" for k, n in r.top_rejection_reasons.items())
    others = rate(r.others_rejected_pct) if r.others_sals else "-"
    return (
        f"  {'!' if r.flagged else ' '} {r.label[:48]:48s} {r.sals:5d} {rate(r.sql_pct):>6s} "
        f"{rate(r.opportunity_pct):>6s} {rate(r.rejected_pct):>9s} {others:>7s}  {reasons}"
    )
