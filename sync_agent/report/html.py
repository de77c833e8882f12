"""The report as one self-contained HTML file with charts (``sync-agent report --html``).

Offline by construction: the Vega/Vega-Lite/vega-embed bundle that ``vl-convert-python``
ships is inlined once, each chart is a Vega-Lite spec with its data inline, and nothing is
fetched at view time. Each section of the page is one function registered with
:func:`section` returning a :class:`Block` (SAL→SQL, SLA attainment by owner and source,
the feedback per rule are such sections).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from sync_agent.report import charts
from sync_agent.report.benchmarks import describe_bands
from sync_agent.report.figures import Report, Section
from sync_agent.report.funnel import Attainment
from sync_agent.report.loop_text import (
    FLAG_TEST,
    NOT_ENABLED,
    SLA_STATES,
    TOP_GROUPS,
    attainment,
    rate,
    timing,
)
from sync_agent.report.page import PAGE
from sync_agent.report.text import (
    COUNTING,
    check_label,
    duration,
    sink_name,
    time_to_sal,
    window,
)


@dataclass
class Block:
    """One section of the page: a title, a sentence on how it counts, a chart and/or a
    table. ``marks`` is how many data marks the chart draws (the browser test checks it)."""

    id: str
    title: str
    note: str = ""
    chart: dict[str, Any] | None = None
    marks: int = 0
    table: list[list[str]] = field(default_factory=list)  # first row: the header
    empty: str = ""  # shown instead of the chart when there is nothing to plot


SECTIONS: list[Callable[[Report], Block | None]] = []


def section(func: Callable[[Report], Block | None]) -> Callable[[Report], Block | None]:
    """Register a section; the page shows them in registration order (None: left out)."""
    SECTIONS.append(func)
    return func


@section
def funnel(report: Report) -> Block:
    s = report.overall
    return Block(
        "funnel",
        "Funnel: MQLs → SALs",
        f"{s.mqls} leads evaluated; each counts once, by its latest decision. " + _redecided(s),
        charts.funnel(s) if s.mqls else None,
        4,
        empty="No MQL was evaluated in this window.",
    )


@section
def rate_over_time(report: Report) -> Block:
    plotted = [p for p in report.periods if p.rate_pct is not None]
    return Block(
        "rate",
        f"MQL→SAL rate per {report.period}",
        f"Each {report.period} counted like a report of that {report.period} alone (a lead "
        f"decided in several {report.period}s counts in each). Shaded: {describe_bands()} "
        "(dashed line).",
        charts.rate_over_time(report.periods, "day" if report.period == "day" else "week")
        if plotted
        else None,
        len(plotted),
        empty="No MQL was evaluated in this window.",
    )


@section
def rejections_by_reason(report: Report) -> Block:
    s = report.overall
    several = (
        f" {s.several_reasons} of them have several reasons, so the bars add up to more."
        if s.several_reasons
        else ""
    )
    return Block(
        "reasons",
        "Rejections by reason",
        f"{s.rejected} rejected leads, by the reasons of their latest decision.{several}",
        charts.ranked(s.rejections_by_reason, "reason") if s.rejections_by_reason else None,
        min(10, len(s.rejections_by_reason)),
        empty="No lead was rejected in this window.",
    )


@section
def rejections_by_check(report: Report) -> Block:
    s = report.overall
    counts = {check_label(k): n for k, n in s.rejections_by_criterion.items()}
    return Block(
        "checks",
        "Rejections by check",
        "Failed gates and firing disqualifiers; for the "
        f"{s.below_threshold} leads rejected on the score alone, the threshold and the "
        "criteria that earned no points.",
        charts.ranked(counts, "check") if counts else None,
        min(10, len(counts)),
        empty="No lead was rejected in this window.",
    )


@section
def time_to_sal_distribution(report: Report) -> Block:
    s = report.overall
    return Block(
        "time-to-sal",
        "Time from MQL date to SAL",
        f"Leads that became SALs in this window: {time_to_sal(s)}.",
        charts.time_to_sal(s.time_to_sal.buckets) if s.time_to_sal.sals else None,
        sum(1 for n in s.time_to_sal.buckets.values() if n),
        empty="No lead with an MQL date became a SAL in this window.",
    )


@section
def write_back(report: Report) -> Block | None:
    s = report.overall
    if not s.writes:
        return None
    rows = [["CRM", "leads", "written", "skipped", "being retried", "dead letters",
             "accepted, not written"]]  # fmt: skip
    for sink, w in s.writes.items():
        skipped = ", ".join(f"{k} {n}" for k, n in w.skipped.items())
        missing = ", ".join(f"{k} {n}" for k, n in w.sals_not_written.items())
        rows.append([
            sink_name(sink), str(w.leads), str(w.written),
            f"{sum(w.skipped.values())}" + (f" ({skipped})" if skipped else ""),
            str(w.retryable), str(w.dead),
            f"{w.sals_not_written_total}" + (f", of which {missing}" if missing else ""),
        ])  # fmt: skip
    return Block(
        "write-back",
        "Write-back to the CRMs",
        "Each lead's latest write to each CRM (a lead counts once per CRM). Dead letters "
        "are retried by sync-agent replay once the cause is fixed.",
        table=rows,
    )


@section
def slices(report: Report) -> Block | None:
    """Per pipeline and per source, only where there is more than one of them."""
    named = [(f"pipeline {k}", v) for k, v in report.pipelines.items() if len(report.pipelines) > 1]
    named += [(f"source {k}", v) for k, v in report.sources.items() if len(report.sources) > 1]
    if not named:
        return None
    rows = [["slice", "MQLs", "SALs", "review", "rejected", "rate", "MQL date → SAL (median)"]]
    rows += [[name, str(v.mqls), str(v.sals), str(v.review), str(v.rejected), _rate(v),
              duration(v.time_to_sal.median_hours)] for name, v in named]  # fmt: skip
    return Block("slices", "Per pipeline and source", "Each lead counts once per row.", table=rows)


@section
def sales_follow_up(report: Report) -> Block:
    """What sales did with the SALs; without read-back, how to turn it on."""
    f = report.funnel
    if not report.outcome_events:
        return Block("sales", "Sales follow-up", empty=NOT_ENABLED)
    return Block(
        "sales",
        "Sales follow-up: SAL → SQL → opportunity",
        f"Outcomes read back for {f.with_outcomes} of {f.sals} SALs. SAL→SQL "
        f"{rate(f.sal_to_sql_pct)}, SAL→opportunity {rate(f.sal_to_opportunity_pct)}. "
        f"SAL → first touch: {timing(f.sal_to_first_touch)}; SAL → SQL: "
        f"{timing(f.sal_to_sql)}; MQL date → SAL: {timing(f.mql_to_sal)}.",
        charts.sales_funnel(f) if f.sals else None,
        6,
        empty="No SAL in this window.",
    )


def _sla_block(report: Report, key: str, title: str, groups: dict[str, Attainment]) -> Block:
    shown = dict(list(groups.items())[:TOP_GROUPS])
    more = f" The {TOP_GROUPS} largest of {len(groups)}." if len(groups) > TOP_GROUPS else ""
    return Block(
        key,
        f"Follow-up SLA by {title}",
        f"Overall: {attainment(report.funnel.sla)}. {SLA_STATES.capitalize()}; attainment = "
        f"met / (met + breached).{more}",
        charts.sla_stacked(shown, title) if shown else None,
        sum(1 for a in shown.values() for n in (a.met, a.breached, a.pending) if n),
        empty="No SAL in this window.",
    )


@section
def sla_by_owner(report: Report) -> Block | None:
    if not report.outcome_events:
        return None
    return _sla_block(report, "sla-owner", "owner", report.funnel.sla_by_owner)


@section
def sla_by_source(report: Report) -> Block | None:
    if not report.outcome_events:
        return None
    return _sla_block(report, "sla-source", "lead source", report.funnel.sla_by_lead_source)


@section
def feedback_per_rule(report: Report) -> Block | None:
    if not report.outcome_events or not report.feedback:
        return None
    rows = [["", "rule", "SALs", "SQL", "opportunity", "rejected by sales", "others rejected",
             "top rejection reasons"]]  # fmt: skip
    rows += [
        ["!" if r.flagged else "", r.label, str(r.sals), rate(r.sql_pct),
         rate(r.opportunity_pct), rate(r.rejected_pct),
         rate(r.others_rejected_pct) if r.others_sals else "-",
         ", ".join(f"{k} {n}" for k, n in r.top_rejection_reasons.items())]
        for r in report.feedback
    ]  # fmt: skip
    return Block(
        "feedback",
        "Feedback per rule",
        "The SALs each gate, disqualifier, fast lane, threshold and criterion band let "
        f"through, and what sales did with them; {FLAG_TEST}.",
        table=rows,
    )


def _redecided(s: Section) -> str:
    if not s.redecided:
        return ""
    return f"{s.redecided} leads were decided more than once ({s.decisions} decisions)."


def _rate(s: Section) -> str:
    return "n/a" if s.rate_pct is None else f"{s.rate_pct:.1f} %"


@functools.cache
def vega_bundle() -> str:
    """vega-embed + Vega-Lite + Vega as one script, from vl-convert (no network)."""
    import altair as alt
    import vl_convert

    version = "_".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    # Without a snippet the bundle defines the global ``vegaEmbed`` (as Altair's own inline
    # HTML uses it); the type stub wrongly makes the snippet required.
    bundle = str(vl_convert.javascript_bundle(vl_version=version))  # type: ignore[call-arg]
    if "</script" in bundle.lower():  # would end the inline <script> element early
        raise RuntimeError("the Vega bundle cannot be inlined: it contains </script")
    return bundle


_TEMPLATE = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string(
    PAGE
)


def render_html(report: Report) -> str:
    """The whole page as a string."""
    blocks = [b for b in (make(report) for make in SECTIONS) if b is not None]
    specs = {b.id: b.chart for b in blocks if b.chart is not None}
    return _TEMPLATE.render(
        report=report,
        s=report.overall,
        window=window(report),
        counting=COUNTING,
        bands=describe_bands(),
        blocks=blocks,
        bundle=vega_bundle(),
        specs=json.dumps(specs, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c"),
    )


def write_html(report: Report, path: str | Path) -> Path:
    """Write the page to ``path``, readable by its owner only (it names leads' reasons)."""
    path = Path(path)
    data = render_html(report).encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file would keep its mode otherwise
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path
