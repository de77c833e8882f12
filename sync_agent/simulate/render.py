"""The simulation as text for a terminal (``sync-agent rules simulate``).

Plain lines in a fixed order: what was simulated and against what, the flips, the MQL→SAL
rate before and after against the bands, sales outcomes, then the examples. Values that
come from the log (lead keys, reasons) are made printable and cut to a bounded width.
"""

from __future__ import annotations

from sync_agent.report.benchmarks import describe_bands
from sync_agent.rules.shown import clip, printable
from sync_agent.simulate.result import Rate, SalesOutcomes, Simulation
from sync_agent.simulate.tally import Example

_KEY_CHARS = 40
_TEXT_CHARS = 160


def _safe(text: str, limit: int = _TEXT_CHARS) -> str:
    return clip(printable(text), limit)


def _when(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "?"


def _day(iso: str) -> str:
    """A window bound: the date alone at midnight, else to the second."""
    text = iso[:19].replace("T", " ")
    return text[:10] if text.endswith("00:00:00") else text


def render_text(sim: Simulation) -> str:
    lines = _header(sim)
    if sim.message:
        return "\n".join([*lines, "", sim.message[0].upper() + sim.message[1:] + "."]) + "\n"
    lines += ["", *_flips(sim), "", *_rates(sim), "", *_outcomes(sim)]
    if sim.examples:
        lines += ["", *_examples(sim)]
    return "\n".join(lines) + "\n"


def _header(sim: Simulation) -> list[str]:
    c = sim.candidate
    where = f" from {_safe(c['path'])}" if c.get("path") else ""
    scope = ", ".join(
        s for s in (f"since {_day(sim.since)}" if sim.since else "",
                    f"until {_day(sim.until)} (exclusive)" if sim.until else "") if s
    ) or "all time"  # fmt: skip
    pipeline = f"pipeline {sim.pipeline}" if sim.pipeline else "every pipeline"
    lines = [
        f"Simulation of candidate {c['name']} ({c['hash'][:12]}){where}",
        f"Audit log {_safe(sim.audit_db)}: {scope}, {pipeline}.",
    ]
    if sim.message:
        return lines
    lines.append(
        f"Leads re-decided: {sim.snapshots:,}, each lead's latest decision (dry runs left "
        f"out), decided {_when(sim.first_decided_at)} to {_when(sim.last_decided_at)} UTC."
    )
    lines.append(
        f"Clock: every lead at {sim.now} (--now)." if sim.now
        else "Clock: each lead at its own decision time (as when it was decided)."
    )  # fmt: skip
    shown = [f"{r.name} {r.hash[:12]}{_marks(sim, r.hash)}: {r.leads:,} leads, {r.flips:,} flips"
             for r in sim.recorded]  # fmt: skip
    lines.append("Recorded decisions came from: " + "; ".join(shown) + ".")
    lines += [f"Note: {n}." for n in sim.notes]
    return lines


def _marks(sim: Simulation, rules_hash: str) -> str:
    """`` (the candidate; live in p1)``: what a recorded ruleset is today."""
    marks = ["the candidate"] if rules_hash == sim.candidate["hash"] else []
    live = sorted(p for p, h in sim.live_rulesets.items() if h == rules_hash)
    if live:
        marks.append("live in " + ", ".join(live))
    return f" ({'; '.join(marks)})" if marks else ""


def _flips(sim: Simulation) -> list[str]:
    share = f" ({sim.flip_share_pct:g} %)" if sim.flip_share_pct is not None else ""
    if not sim.flips:
        lines = [f"Flips: none; all {sim.snapshots:,} leads keep their recorded outcome."]
    else:
        lines = [f"Flips: {sim.flips:,} of {sim.snapshots:,} leads{share} get another outcome.",
                 f"  {'before':10} {'after':10} {'leads':>8}"]  # fmt: skip
        lines += [f"  {f.before:10} {f.after:10} {f.leads:>8,}" for f in sim.by_kind]
    if sim.score_changed:
        lines.append(f"  Same outcome, another score: {sim.score_changed:,} leads.")
    return lines


def _rate_line(label: str, r: Rate) -> str:
    pct = f"{r.rate_pct:.1f} %" if r.rate_pct is not None else "n/a"
    return f"  {label}: {pct} ({r.sals:,} SALs of {r.mqls:,} MQLs): {r.assessment}"


def _rates(sim: Simulation) -> list[str]:
    lines = ["MQL→SAL rate:",
             _rate_line("before (recorded)", sim.before),
             _rate_line("after (candidate)", sim.after),
             f"  ({describe_bands()}.)"]  # fmt: skip
    if sim.after.advice:
        lines.append(f"  Advice for the candidate's rate: {sim.after.advice}")
    return lines


def _counted(kinds: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {kind}" for kind, n in kinds.items()) or "none"


def _outcomes(sim: Simulation) -> list[str]:
    o: SalesOutcomes | None = sim.outcomes
    if o is None:
        return [f"Sales outcomes: {sim.outcomes_note}."]
    lines = [
        f"Sales outcomes (known for {o.sals_with_outcomes:,} of the {o.recorded_sals:,} "
        f"recorded SALs; {o.leads:,} leads in all: {_counted(o.by_kind)}):",
        f"  Stopped (good): the candidate rejects {o.stopped:,} lead(s) that sales had rejected.",
    ]
    if o.stopped_reasons:
        top = list(o.stopped_reasons.items())[:5]
        lines.append("    sales' reasons: " + ", ".join(f"{_safe(k, 60)} ({n:,})" for k, n in top))
    lines.append(
        f"  Lost (bad): the candidate rejects {o.lost_sql:,} lead(s) that became SQLs and "
        f"{o.lost_opportunity:,} that became opportunities."
    )
    if o.to_review:
        lines.append(f"  Sent to review instead: {_counted(o.to_review)}.")
    if o.still_accepted:
        lines.append(f"  Still handed off: {_counted(o.still_accepted)}.")
    return lines


def _examples(sim: Simulation) -> list[str]:
    lines = [f"Examples (the first {sim.limit} of each kind of flip; --limit to change, "
             "`sync-agent audit show LEAD` for a lead's snapshot):"]  # fmt: skip
    kind = None
    for e in sim.examples:
        if (e.before, e.after) != kind:
            kind = (e.before, e.after)
            lines.append(f"  {e.before} → {e.after}")
        lines.append(
            f"    {_safe(e.lead_key, _KEY_CHARS):{_KEY_CHARS}}  {_when(e.decided_at)}  "
            f"score {e.before_score:g} → {e.after_score:g}"
        )
        lines.append(f"      {_why(e)}")
    return lines


def _why(e: Example) -> str:
    """The reason that changed: the checks that decided differently, else the new reasons."""
    if e.changed:
        return _safe("; ".join(e.changed[:3]) + (" ..." if len(e.changed) > 3 else ""))
    new = [r for r in e.after_reasons if r not in e.before_reasons]
    return _safe("now: " + "; ".join(new or e.after_reasons))
